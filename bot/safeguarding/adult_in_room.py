"""A way to the adult in the room (issue 16, item 5).

After a disclosure, Lumi offers a way to reach a grown-up who is right there:

- **in a class session** (the ``class_code`` slot): "Do you want me to tell your
  teacher you'd like to talk?". Only on the child's yes does the teacher's
  dashboard show a discreet alert with the child's class pseudonym (never their
  words: the alert is raised with the class code and the pseudonymous learner
  id, nothing else) until the teacher marks it seen;
- **at home** nothing is offered here (``support.after_safeguard`` asks
  :func:`in_class` first): the first reply's "Help me tell a grown-up" button
  already opens the rehearsal, and a parent offer would be wrong when the worry
  is about a parent. The parent's version below stays for a client that asks.

:func:`offer` says what to offer for a turn (an empty reply when there is
nothing to offer: asked once per conversation); the child's answer comes as the
payload ``/accept_adult_offer`` or ``/decline_adult_offer`` (buttons) or as a
typed yes/no while the offer is open (:func:`pending`), and :func:`answer`
replies. State: the ``adult_offer`` slot, ``{"to": "teacher"|"parent",
"answered": bool}``. Every word is in ``locales/adult_in_room.*.yml``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from bot.conversation import Reply, Turn, payload

SLOT = "adult_offer"
ACCEPT = "accept_adult_offer"
DECLINE = "decline_adult_offer"
TYPED_ANSWERS = {"affirm": True, "deny": False}

# How the alert reaches the teacher: (class code, pseudonymous learner id) ->
# "ok" or why not (None: not stored). Given by the caller (``bot.class_space.
# raise_alert`` in the chat): like all of bot.safeguarding, this module never
# touches the database itself, so the safeguarding path cannot fail with it.
RaiseAlert = Callable[[str, str], str | None]


def _class_code(turn: Turn) -> str | None:
    """The class session the child is in (the page sends its code while the child is
    in it, and "" once they leave or it ends)."""
    code = turn.slot("class_code")
    return code if isinstance(code, str) and code else None


def _state(turn: Turn) -> dict[str, Any] | None:
    state = turn.slot(SLOT)
    return state if isinstance(state, dict) and state.get("to") in ("teacher", "parent") else None


def in_class(turn: Turn) -> bool:
    """The child is in a class session (the teacher can be told)."""
    return _class_code(turn) is not None


def offer(turn: Turn) -> Reply:
    """What to offer after a disclosure on this turn: the teacher in a class session,
    a parent at home; nothing if it was offered already in this conversation."""
    reply = Reply(turn.lang)
    if _state(turn) is not None:
        return reply
    to = "teacher" if _class_code(turn) is not None else "parent"
    buttons = [
        reply.button(f"adult_in_room.{to}_yes", payload(ACCEPT)),
        reply.button(f"adult_in_room.{to}_no", payload(DECLINE)),
    ]
    reply.say(f"adult_in_room.{to}_offer", buttons=buttons)
    return reply.set(**{SLOT: {"to": to, "answered": False}})


def pending(turn: Turn) -> bool:
    """The offer is on screen and not answered yet (a typed yes/no answers it)."""
    state = _state(turn)
    return state is not None and not state.get("answered")


def accepted(turn: Turn) -> bool | None:
    """The child's answer in this turn: True (yes), False (no), None (not an answer)."""
    if turn.intent == ACCEPT:
        return True
    if turn.intent == DECLINE:
        return False
    if pending(turn):
        return TYPED_ANSWERS.get(turn.intent)
    return None


def answer(turn: Turn, raise_alert: RaiseAlert) -> Reply:
    """The reply to the child's yes or no (a button, or typed while the offer is open)."""
    reply = Reply(turn.lang)
    state = _state(turn)
    yes = accepted(turn)
    if state is None or yes is None:  # an old button, or no offer: nothing to answer
        return _with_next_steps(reply, "adult_in_room.no_offer")
    to = state["to"]
    reply.set(**{SLOT: {"to": to, "answered": True}})
    if not yes:
        return _with_next_steps(reply, f"adult_in_room.{to}_declined")
    if to == "parent":
        reply.say("adult_in_room.parent_first_sentence")
        return _with_next_steps(reply, "adult_in_room.parent_tips")
    code = _class_code(turn)
    learner = turn.slot("learner_id")
    outcome = None
    if code is not None and isinstance(learner, str) and learner:
        try:
            outcome = raise_alert(code, learner)  # the code and the pseudonymous id only
        except Exception:  # never leave the child without a reply
            outcome = None
    if outcome == "ok":
        return _with_next_steps(reply, "adult_in_room.teacher_told")
    return _with_next_steps(reply, "adult_in_room.teacher_not_sent")


def _with_next_steps(reply: Reply, key: str) -> Reply:
    """The last message, with what the child can do next (helplines, or the menu)."""
    buttons = [
        reply.button("adult_in_room.help", payload("help")),
        reply.button("adult_in_room.menu", payload("start")),
    ]
    return reply.say(key, buttons=buttons)
