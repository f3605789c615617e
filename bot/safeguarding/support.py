"""What follows the safeguarding reply: pick a trusted adult, rehearse the first
sentence, then go back to what the child was doing. The reply itself is in
``bot.safeguarding.reply`` (and in the domain, so it never depends on us)."""

from __future__ import annotations

import functools

import yaml

from bot import text as texts
from bot.conversation import Reply, Turn, payload
from bot.normalise import normalise
from bot.paths import DATA_DIR
from bot.safeguarding import adult_in_room
from bot.safeguarding.reply import safeguard_messages

ADULTS = ("parent", "family", "teacher", "school_staff", "coach", "other")
# A rehearsed first sentence shorter than this many words gets a fuller example.
GOOD_SENTENCE_WORDS = 6


def _return_to(turn: Turn) -> str:
    support = turn.slot("support", {}) or {}
    previous = support.get("return_to") if isinstance(support, dict) else None
    return previous if previous in ("story", "quiz", "check", "menu") else turn.mode


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


def after_safeguard(turn: Turn) -> Reply:
    """Runs after the domain's safeguarding reply: help to pick a trusted adult."""
    reply = Reply(turn.lang)
    return_to = turn.mode if turn.mode != "rehearsal" else _return_to(turn)
    if turn.mode == "check" and turn.text and not turn.text.startswith("/"):
        # The pasted message itself showed danger: still tell the child which tricks it uses.
        from bot import checker

        reply.extend(checker.reply(turn, turn.text, safeguard=False))
        return_to = "menu"
    buttons = [
        reply.button(f"safeguard.adult_{adult}", payload("pick_adult", adult=adult))
        for adult in ADULTS
    ]
    reply.extend(adult_in_room.offer(turn))  # the adult in the room: teacher (class) or parent
    reply.say("safeguard.pick_adult_question", buttons=buttons)
    return reply.set(support={"return_to": return_to}, mode="rehearsal")


def adult_from_text(text: str) -> str:
    """Which kind of trusted adult a typed answer names ("ma maman" -> parent)."""
    norm = f" {normalise(text)} "
    for adult, words in _adult_words().items():
        if any(f" {w} " in norm for w in words):
            return adult
    return "other"


@functools.lru_cache(maxsize=1)
def _adult_words() -> dict[str, list[str]]:
    raw = yaml.safe_load((DATA_DIR / "trusted_adults.yml").read_text(encoding="utf-8"))
    return {adult: [normalise(w) for w in raw[adult]] for adult in ADULTS if adult in raw}


def pick_adult(turn: Turn) -> Reply:
    adult = turn.entities.get("adult")
    if adult not in ADULTS:
        adult = adult_from_text(turn.text) if not turn.text.startswith("/") else "other"
    reply = Reply(turn.lang)
    reply.say("safeguard.adult_chosen", adult=_adult_name(reply, str(adult))).say(
        "safeguard.first_sentence"
    )
    reply.say("safeguard.first_sentence_practice", buttons=back_buttons(reply, _return_to(turn)))
    return reply.set(mode="rehearsal")


def _adult_name(reply: Reply, adult: str) -> str:
    return texts.t(f"safeguard.adult_{adult}", reply.lang)


def practice(turn: Turn) -> Reply:
    """The child typed the first sentence they would say to their trusted adult."""
    reply = Reply(turn.lang)
    words = turn.text.split()
    key = "safeguard.practice_feedback_good"
    if len(words) < GOOD_SENTENCE_WORDS:
        key = "safeguard.practice_feedback_short"
    reply.say(key)
    reply.say("safeguard.still_here", buttons=back_buttons(reply, _return_to(turn)))
    return reply


def safeguard_now(turn: Turn, level: str = "concern") -> Reply:
    """The full safeguarding reply from an action (e.g. a risky sentence outside a story)."""
    reply = Reply(turn.lang)
    reply.messages.extend(safeguard_messages(reply.lang, turn.slot("country"), level))
    return reply.extend(after_safeguard(turn))


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
