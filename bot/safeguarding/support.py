"""The conversation after a disclosure (mode ``support``), until the child leaves it.

The first reply is in ``bot.safeguarding.reply`` (and in the domain, so it
never depends on the action server). After it the child is in support mode:
what they say next is part of that conversation (PEDAGOGY.md, "When a child
discloses"): fear, "what if he finds out", "I don't want to tell", "it's my
fault", a question. Each is answered with reassurance, then one next step, and
the same buttons one tap away ("What can I do now?", "Who can help?", "Help
me tell a grown-up"), never with story or rehearsal feedback. The child leaves
support by choosing something else (the menu, their story, a quiz).

"Help me tell a grown-up" picks a trusted adult and gives the first sentence
to say; the child may practise it (mode ``rehearsal``). A class session or a
parent at home can offer more there: :func:`tell_adult_offers` is the hook.

State kept in the ``support`` slot (ids only, never text): where the child
came from (``return_to``), the topic and level of the disclosure, the adult
picked, and the last next step given (so it is not repeated).
"""

from __future__ import annotations

import functools
from typing import Any

import yaml

from bot import helplines
from bot import text as texts
from bot.conversation import Reply, Turn, payload
from bot.normalise import normalise
from bot.paths import DATA_DIR
from bot.safeguarding import adult_in_room, followup
from bot.safeguarding.reply import (
    SELF_HARM_TOPICS,
    follow_up_buttons,
    level_of,
    safeguard_messages,
    steps_message,
    topic_of,
)

ADULTS = ("parent", "family", "teacher", "school_staff", "coach", "other")
# A rehearsed first sentence shorter than this many words gets a fuller example.
GOOD_SENTENCE_WORDS = 6
RETURN_MODES = ("story", "quiz", "check", "menu")
# Reassurances said at most, before the next step.
MAX_REASSURANCES = 2
# Kinds of follow-up (data/support/followups.yml) after which the next step is
# a given one rather than the topic's usual order.
_NEXT_FOR_KIND = {
    "secret": "helpline",
    "not_tell": "helpline",
    "no_one": "helpline",
    "found_out": "tell_adult",
    "parents": "other_adult",
    "told": "steps",
    "blocked": "tell_adult",
}
# The usual order of next steps per topic (the first not given last time).
_NEXT_BY_TOPIC = {
    "online": ("tell_adult", "steps", "helpline"),
    "sextortion": ("sextortion", "tell_adult", "helpline"),
    "worry": ("tell_adult", "helpline", "other_adult"),
    "self_harm": ("crisis", "tell_adult"),
    "self_harm_sextortion": ("crisis", "sextortion"),
}
# Intents that say something simple, answered with a short line.
_SIMPLE = {
    "thank": "thanks",
    "goodbye": "bye",
    "greet": "greet",
    "affirm": "ok",
    "deny": "fine",
}


# ------------------------------------------------------------------ state


def state(turn: Turn) -> dict[str, Any]:
    value = turn.slot("support", {}) or {}
    return dict(value) if isinstance(value, dict) else {}


def _return_to(turn: Turn) -> str:
    """Where "back" goes: the activity the child is in, or the one support interrupted."""
    if turn.mode in ("story", "quiz", "check"):
        return turn.mode
    previous = state(turn).get("return_to")
    return str(previous) if previous in RETURN_MODES else "menu"


def back_buttons(reply: Reply, return_to: str) -> list[dict[str, str]]:
    buttons = []
    if return_to == "story":
        buttons.append(reply.button("safeguard.back_to_story", payload("resume")))
    elif return_to == "quiz":
        buttons.append(reply.button("safeguard.back_to_quiz", payload("resume")))
    elif return_to == "check":
        buttons.append(reply.button("safeguard.back_to_check", payload("check_message")))
    buttons.append(reply.button("safeguard.menu", payload("start")))
    return buttons


def _buttons(reply: Reply, turn: Turn, topic: str) -> list[dict[str, str]]:
    """The three follow-ups, then the way back to what the child was doing."""
    back = back_buttons(reply, _return_to(turn))[:1]
    return [*follow_up_buttons(reply.lang, topic), *back]


# ------------------------------------------------------------------ after the first reply


def after_safeguard(turn: Turn) -> Reply:
    """Runs after the first reply (a domain response): the conversation goes on in
    support mode. It says nothing more (the reply has its three bubbles), except
    the way back to a story or a quiz the disclosure interrupted."""
    reply = Reply(turn.lang)
    if turn.mode == "check" and turn.text and not turn.text.startswith("/"):
        # A pasted message seen as a disclosure (the domain rule fired): still
        # tell the child which tricks it uses.
        from bot import checker

        reply.extend(checker.reply(turn, turn.text, offer_help=False))
    previous = state(turn)
    return_to = previous.get("return_to") if turn.mode in ("support", "rehearsal") else None
    if return_to not in RETURN_MODES:
        return_to = turn.mode if turn.mode in ("story", "quiz") else "menu"
    if adult_in_room.in_class(turn):
        # the adult in the room; at home "Help me tell a grown-up" is one tap away
        reply.extend(adult_in_room.offer(turn))
    if return_to in ("story", "quiz"):
        reply.messages.append({"buttons": back_buttons(reply, str(return_to))[:1]})
    return reply.set(
        mode="support",
        support={
            "return_to": return_to,
            "topic": topic_of(turn.slot("safeguard_topic")),
            "level": level_of(turn.slot("safeguard_level")),
        },
    )


def safeguard_now(turn: Turn, level: str | None = None) -> Reply:
    """The first reply from an action (e.g. a risky sentence outside a story)."""
    reply = Reply(turn.lang)
    level = level_of(level or turn.slot("safeguard_level"))
    topic = topic_of(turn.slot("safeguard_topic"))
    reply.messages.extend(safeguard_messages(reply.lang, turn.slot("country"), level, topic))
    return reply.extend(after_safeguard(turn))


# ------------------------------------------------------------------ what the child says next


def _topic_and_level(turn: Turn) -> tuple[str, str]:
    """The disclosure's topic and level: this message's if it was flagged, else the
    conversation's (a further concern does not lower a danger)."""
    kept = state(turn)
    topic = topic_of(turn.entities.get("safeguard_topic") or kept.get("topic"))
    level = level_of(kept.get("level") or turn.slot("safeguard_level"))
    if turn.entities.get("safeguard_level") == "danger":
        level = "danger"
    return topic, level


def _next_step(found: tuple[str, ...], topic: str, level: str, last: str | None) -> str:
    if topic in SELF_HARM_TOPICS or level == "danger":
        order: tuple[str, ...] = ("crisis",)
        if last == "crisis":
            order = ("tell_adult", "crisis")
    else:
        order = _NEXT_BY_TOPIC.get(topic, _NEXT_BY_TOPIC["online"])
        for kind in found:
            if kind in _NEXT_FOR_KIND:
                order = (_NEXT_FOR_KIND[kind], *order)
                break
    for step in order:
        if step != last:
            return step
    return order[0]


def follow_up(turn: Turn) -> Reply:
    """Something the child says in support mode: reassurance, then one next step.

    A message that is itself a disclosure (its own entities carry
    ``safeguard_level``: a new worry, a danger told after a concern) also gets
    the ``safeguard`` payload, as every disclosure does (docs/contract.md), with
    the short in-context text rather than the whole first reply again."""
    reply = _follow_up(turn)
    if turn.entities.get("safeguard_level") and not _has_safeguard_payload(reply):
        from bot.safeguarding.reply import payload_message

        topic, level = _topic_and_level(turn)
        payload = payload_message(reply.lang, turn.slot("country"), level, topic)
        # before the last bubble, so that its buttons stay at the bottom
        reply.messages.insert(max(len(reply.messages) - 1, 0), payload)
    return reply


def _has_safeguard_payload(reply: Reply) -> bool:
    return any(
        isinstance(m.get("custom"), dict) and m["custom"].get("kind") == "safeguard"
        for m in reply.messages
    )


def _follow_up(turn: Turn) -> Reply:
    reply = Reply(turn.lang)
    kept = state(turn)
    topic, level = _topic_and_level(turn)
    typed = turn.text if not turn.text.startswith("/") else ""

    if turn.intent == "pick_adult" or (kept.get("asked_adult") and _names_adult(typed)):
        return pick_adult(turn)
    if typed and not helplines.known_country(turn.slot("country")):
        named = helplines.country_from_text(typed)
        if named:
            from bot import menu

            return menu.set_country(turn)
    question = turn.entities.get("faq")
    if question not in followup.faq_topics():
        # only a real question: "it's my fault" said here needs the reassurance
        question = followup.faq_topic(typed)
    if question:
        reply.say(f"support.faq.{question}")
        step = _next_step((), topic, level, kept.get("next"))
        reply.say(f"support.next.{step}", buttons=_buttons(reply, turn, topic))
        return reply.set(
            mode="support", support={**kept, "topic": topic, "level": level, "next": step}
        )

    found = followup.kinds(typed) if typed else ()
    if turn.intent == "support_steps" or "what_now" in found:
        return steps(turn).set(mode="support")
    # What the message says comes first; a further concern with nothing more
    # specific in it is thanked ("thank you for telling me more").
    lines = [kind for kind in found if kind != "what_now"]
    if not lines and turn.entities.get("safeguard_level"):
        lines.append("more")
    if not lines and turn.intent in _SIMPLE:
        lines.append(_SIMPLE[turn.intent])
    if not lines:
        lines.append("listening")
    for kind in lines[:MAX_REASSURANCES]:
        reply.say(f"support.reassure.{kind}")
    step = _next_step(found, topic, level, kept.get("next"))
    reply.say(f"support.next.{step}", buttons=_buttons(reply, turn, topic))
    return reply.set(mode="support", support={**kept, "topic": topic, "level": level, "next": step})


def country_set(turn: Turn, code: str) -> Reply:
    """The child told their country after the first reply asked for it: the
    numbers of that reply, now for their country."""
    from bot.safeguarding.reply import contacts_message, payload_message

    topic, level = _topic_and_level(turn)
    reply = Reply(turn.lang).set(country=code)
    reply.say("menu.country_set", country=texts.t(f"countries.{code}", reply.lang))
    reply.messages.append(contacts_message(reply.lang, code, level, topic))
    reply.messages.append(payload_message(reply.lang, code, level, topic))
    reply.say("support.next.tell_adult", buttons=_buttons(reply, turn, topic))
    return reply


def steps(turn: Turn) -> Reply:
    """ "What can I do now?": the steps of the disclosure's topic, the rest one tap away."""
    topic, level = _topic_and_level(turn)
    reply = Reply(turn.lang)
    message = steps_message(reply.lang, topic)
    buttons = [*message["buttons"], *back_buttons(reply, _return_to(turn))[:1]]
    reply.say_text(message["text"], buttons=buttons)
    kept = state(turn)
    if turn.mode == "support":
        reply.set(support={**kept, "topic": topic, "level": level, "next": "steps"})
    return reply


# ------------------------------------------------------------------ telling a grown-up


def tell_adult_offers(turn: Turn, reply: Reply) -> list[dict[str, str]]:
    """Extra ways to reach a grown-up, offered with the trusted-adult question.

    The hook for what the setting can add (in a class session: "tell my
    teacher I'd like to talk"; at home: help to start the conversation with a
    parent). Nothing is offered here yet."""
    return []


def adult_from_text(text: str) -> str:
    """Which kind of trusted adult a typed answer names ("ma maman" -> parent)."""
    norm = f" {normalise(text)} "
    for adult, words in _adult_words().items():
        if any(f" {w} " in norm for w in words):
            return adult
    return "other"


def _names_adult(text: str) -> bool:
    return bool(text) and adult_from_text(text) != "other"


@functools.lru_cache(maxsize=1)
def _adult_words() -> dict[str, list[str]]:
    raw = yaml.safe_load((DATA_DIR / "trusted_adults.yml").read_text(encoding="utf-8"))
    return {adult: [normalise(w) for w in raw[adult]] for adult in ADULTS if adult in raw}


def ask_adult(turn: Turn) -> Reply:
    """ "Help me tell a grown-up": who could the child tell?"""
    reply = Reply(turn.lang)
    buttons = [
        reply.button(f"safeguard.adult_{adult}", payload("pick_adult", adult=adult))
        for adult in ADULTS
    ]
    buttons.extend(tell_adult_offers(turn, reply))
    reply.say("safeguard.pick_adult_question", buttons=buttons)
    kept = state(turn)
    kept.setdefault("return_to", _return_to(turn))
    return reply.set(mode="support", support={**kept, "asked_adult": True})


def pick_adult(turn: Turn) -> Reply:
    """A trusted adult chosen (button or typed): the first sentence to say, and practice."""
    adult = turn.entities.get("adult")
    typed = not turn.text.startswith("/")
    if adult not in ADULTS:
        if not typed:
            return ask_adult(turn)
        adult = adult_from_text(turn.text)
    reply = Reply(turn.lang)
    reply.say("safeguard.adult_chosen", adult=texts.t(f"safeguard.adult_{adult}", reply.lang))
    topic = topic_of(state(turn).get("topic"))
    sentence = {"worry": "_worry", "self_harm": "_self_harm", "self_harm_sextortion": "_self_harm"}
    reply.say("safeguard.first_sentence" + sentence.get(topic, ""))
    reply.say("safeguard.first_sentence_practice", buttons=back_buttons(reply, _return_to(turn)))
    kept = {k: v for k, v in state(turn).items() if k != "asked_adult"}
    kept.setdefault("return_to", _return_to(turn))
    return reply.set(mode="rehearsal", support={**kept, "adult": adult})


def practice(turn: Turn) -> Reply:
    """The child typed the first sentence they would say to their trusted adult.

    A fear, a worry or a question said here is not a practice sentence: it is
    answered as the conversation after the disclosure."""
    if followup.kinds(turn.text) or followup.faq_topic(turn.text):
        return follow_up(turn).set(mode="support")
    if turn.intent in ("thank", "goodbye", "affirm", "deny"):
        return follow_up(turn).set(mode="support")
    reply = Reply(turn.lang)
    words = turn.text.split()
    key = "safeguard.practice_feedback_good"
    if len(words) < GOOD_SENTENCE_WORDS:
        key = "safeguard.practice_feedback_short"
    reply.say(key)
    reply.say("safeguard.still_here", buttons=back_buttons(reply, _return_to(turn)))
    return reply


def ask_if_real(turn: Turn) -> Reply:
    """Inside a story, a sentence that may be about the character: ask gently."""
    reply = Reply(turn.lang)
    return reply.say(
        "safeguard.is_it_real",
        buttons=[
            reply.button("safeguard.yes_real", payload("disclose_problem")),
            reply.button("safeguard.not_really", payload("resume")),
        ],
    )


# ------------------------------------------------------------------ questions


def faq_buttons(reply: Reply, skip: str | None = None) -> list[dict[str, str]]:
    return [
        reply.button(f"support.faq.ask.{topic}", payload("ask_safety_question", faq=topic))
        for topic in followup.faq_topics()
        if topic != skip
    ]


def answer_question(turn: Turn) -> Reply | None:
    """A question about online safety ("c'est quoi le grooming ?"), anywhere.

    ``None`` when the message is not one of the FAQ's questions after all:
    inside a story or the quiz only a real question is answered (an answer
    such as "i'd report him" is the story's), and the activity reads the rest."""
    if turn.mode in ("support", "rehearsal"):
        return follow_up(turn).set(mode="support")
    playing = turn.mode in ("story", "quiz")
    topic = turn.entities.get("faq")
    if topic not in followup.faq_topics():
        if playing and not followup.is_question(turn.text):
            return None
        asked = turn.intent == "ask_safety_question" and not playing
        topic = followup.faq_topic(turn.text, asked=asked)
    reply = Reply(turn.lang)
    if topic is None:
        if playing:
            return None
        return reply.say("support.faq.choose", buttons=faq_buttons(reply))
    reply.say(f"support.faq.{topic}", buttons=back_buttons(reply, _return_to(turn)))
    return reply
