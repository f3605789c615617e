"""Free text: what the child typed goes to the activity they are in.

Payload intents have actions of their own; everything a child types that is
not a disclosure, a request for help or a menu command comes here, and the
current mode decides who reads it: the story, the quiz, the message checker,
the trusted-adult rehearsal, or the menu.
"""

from __future__ import annotations

from bot import class_space, menu
from bot.conversation import Reply, Turn
from bot.safeguarding import adult_in_room, followup, support

# Past this many characters a chat message is cut (a pasted message may be longer).
CHAT_LIMIT = 1000


def handle_text(turn: Turn) -> Reply:
    mode = turn.mode
    if mode == "check":
        return check_pasted(turn)
    prefix = Reply(turn.lang)
    if len(turn.text) > CHAT_LIMIT:
        prefix.say("menu.errors_too_long", limit=CHAT_LIMIT)
        turn.text = turn.text[:CHAT_LIMIT]
    return prefix.extend(_dispatch(turn, mode))


# Typed requests that leave the conversation after a disclosure for an activity.
LEAVING_SUPPORT = frozenset({"resume", "start_story", "coplay"})


def _dispatch(turn: Turn, mode: str) -> Reply:
    if adult_in_room.accepted(turn) is not None:  # a typed yes/no to "tell your teacher?"
        return adult_in_room.answer(turn, class_space.raise_alert)
    if mode == "support" and turn.intent not in LEAVING_SUPPORT:
        return support.follow_up(turn)
    if turn.intent == "announce_problem":
        return listen(turn, mode)
    if turn.intent == "mention_risk":
        if mode == "story":
            return support.ask_if_real(turn)
        if mode == "quiz" and _names_a_trick(turn):
            # "blackmail", "la menace": the child answers the quiz with a trick's name
            from bot import quiz

            return quiz.handle_text(turn)
        return support.safeguard_now(turn)
    if turn.intent == "ask_safety_question" or followup.faq_topic(turn.text):
        answer = support.answer_question(turn)
        if answer is not None:
            return answer
    if mode == "story":
        from bot import stories

        return stories.handle_text(turn)
    if mode == "quiz":
        from bot import quiz

        return quiz.handle_text(turn)
    if mode == "rehearsal":
        if turn.intent == "pick_adult":
            return support.pick_adult(turn)
        return support.practice(turn)
    if turn.intent == "resume":
        return resume(turn)
    if turn.intent == "start_story":
        from bot import stories

        return stories.list_stories(turn)
    if turn.intent == "coplay":
        from bot import stories

        return stories.set_coplay(turn, True)
    return menu.small_talk(turn)


def listen(turn: Turn, mode: str) -> Reply:
    """ "Can I tell you something": an open door, nothing asked (PEDAGOGY.md).

    The conversation stays where it was; the next messages are read with this
    one in mind (bot/safeguarding/memory.py)."""
    reply = Reply(turn.lang)
    if mode == "story":
        return reply.say("listening.invite_story", buttons=support.back_buttons(reply, "story"))
    return reply.say("listening.invite")


def _names_a_trick(turn: Turn) -> bool:
    """Is a quiz mention (never a disclosure: that intent is ``disclose_problem``)
    a trick's name typed as the answer? Only a short answer; danger always gets help."""
    from bot import quiz

    if turn.slot("safeguard_level") == "danger" or len(turn.text.split()) > 8:
        return False
    running = quiz.current(turn)
    if running is None:
        return False
    reading = quiz.read_answer(turn.text, running["options"])
    return reading.tactic is not None or reading.ask


def practising(turn: Turn) -> bool:
    """Is the child writing a practice reply on a story's rehearsal step?"""
    if turn.mode != "story":
        return False
    from bot.stories import engine

    found = engine.current(turn)
    return found is not None and found[1].kind == "rehearsal"


def check_pasted(turn: Turn) -> Reply:
    """The message after ``/check_message``: look for tactics, then back to the menu.

    The checker answers empty, emoji-only and very long pastes itself.
    """
    from bot import checker

    return checker.reply(turn, turn.text)


def resume(turn: Turn) -> Reply:
    """``/resume``: back to what the child was doing before an interruption."""
    support_state = turn.slot("support", {}) or {}
    target = support_state.get("return_to") if isinstance(support_state, dict) else None
    target = target or turn.mode
    story = turn.slot("story")
    if target == "story" and isinstance(story, dict) and story.get("id"):
        from bot import stories

        return stories.show_current(turn).set(support=None)
    if target == "quiz" and turn.slot("quiz"):
        from bot import quiz

        return quiz.show_current(turn).set(support=None)
    return menu.show_menu(Reply(turn.lang)).set(support=None)
