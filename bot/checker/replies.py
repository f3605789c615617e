"""What the child reads after ``/check_message``: the tactics found in the
pasted text, explained in child words with a quote from the text, what to do,
and the contract payload ``{"kind": "tactic_check", "lang", "tactics"}``.

All wording is in ``locales/check.<lang>.yml`` and ``locales/tactics.<lang>.yml``.
Slots: ``mode`` is set to ``"check"`` when the child should paste again (empty
paste, emoji only) and back to ``"menu"`` after a check.
"""

from __future__ import annotations

import logging
from typing import Any

from bot import text as texts
from bot.checker.core import MAX_CHARS, CheckResult, check, input_problem
from bot.conversation import Reply, Turn, payload

log = logging.getLogger(__name__)

PROBLEMS = ("empty", "too_long", "no_words")


def prompt_reply(turn: Turn) -> Reply:
    """The answer to ``/check_message``: ask for the message, promise not to keep it."""
    return Reply(turn.lang).say("check.prompt").set(mode="check")


def bad_input_reply(turn: Turn, problem: str) -> Reply:
    """A kind, clear reply for a paste that cannot be checked as it is.

    ``problem`` is ``"empty"``, ``"no_words"`` (only emoji or symbols) or
    ``"too_long"`` (only the first ``MAX_CHARS`` characters are checked; the
    check itself follows in :func:`reply`). Anything else is treated as empty.
    """
    out = Reply(turn.lang)
    if problem == "too_long":
        return out.say("check.bad_input.too_long", limit=MAX_CHARS)
    if problem not in PROBLEMS:
        problem = "empty"
    menu = [out.button("check.buttons.menu", payload("start"))]
    return out.say(f"check.bad_input.{problem}", buttons=menu).set(mode="check")


def reply(turn: Turn, text: str, *, offer_help: bool = True) -> Reply:
    """Check ``text`` (the message the child received) and explain what was found.

    When the message suggests it is happening to the child (the checker finds
    danger, or the safety net flagged the paste: ``safeguard_level`` is set on
    this turn), one short line offers help, with a button that opens the
    safeguarding reply (``/disclose_problem``); not the whole script. No offer
    when the caller already gave that reply (``offer_help=False``).
    """
    problem = input_problem(text)
    if problem in ("empty", "no_words"):
        out = bad_input_reply(turn, problem)
        return out.custom("tactic_check", tactics=[])
    out = Reply(turn.lang)
    if problem == "too_long":
        out.extend(bad_input_reply(turn, "too_long"))
    result = check(text)
    log.info("message checked: %d tactic(s), danger=%s", len(result.tactics), result.danger)
    flagged = bool(turn.entities.get("safeguard_level"))
    offer = offer_help and (result.danger or flagged)
    _explain(out, result, offer_help=offer)
    if offer and result.danger:
        # the safeguarding reply one tap away then puts emergency numbers first
        out.set(safeguard_level="danger")
    return out.custom("tactic_check", tactics=list(result.tactics)).set(mode="menu")


def _explain(out: Reply, result: CheckResult, *, offer_help: bool = False) -> None:
    lang = out.lang
    again = out.button("check.buttons.again", payload("check_message"))
    menu = out.button("check.buttons.menu", payload("start"))
    its_me = out.button("check.buttons.its_me", payload("disclose_problem"))
    if not result.tactics:
        if offer_help:
            out.say("check.offer_help", buttons=[its_me])
        out.say("check.none", buttons=[again, menu])
        return
    count = len(result.tactics)
    if count == 1:
        out.say("check.intro_one")
    else:
        out.say("check.intro_many", count=count)
    for tactic in result.tactics:
        params: dict[str, Any] = {
            "icon": texts.t(f"check.icons.{tactic}", lang),
            "name": texts.t(f"tactics.{tactic}.name", lang),
            "explain": texts.t(f"tactics.{tactic}.explain", lang),
            "todo": texts.t(f"tactics.{tactic}.todo", lang),
        }
        quote = result.evidence.get(tactic)
        if quote:
            out.say("check.tactic", quote=quote, **params)
        else:
            out.say("check.tactic_no_quote", **params)
    if offer_help:
        key = "check.offer_help_danger" if result.danger else "check.offer_help"
        out.say(key, buttons=[its_me])
    out.say("check.found_outro", buttons=[again, menu])
