"""Check a message: a child pastes something they received and learns which
manipulation tactics it uses (contract payload ``tactic_check``).

    from bot.checker import check, reply, bad_input_reply, train

See docs/checker.md. Nothing is loaded at import time: the model is loaded (and
trained if missing or stale) on the first check, or by ``preload()`` at start-up.
"""

from __future__ import annotations

from bot.checker.core import DANGER_TACTICS, MAX_CHARS, CheckResult, check, input_problem
from bot.checker.model import get_model as preload
from bot.checker.model import train
from bot.checker.replies import bad_input_reply, prompt_reply, reply

__all__ = [
    "DANGER_TACTICS",
    "MAX_CHARS",
    "CheckResult",
    "bad_input_reply",
    "check",
    "input_problem",
    "preload",
    "prompt_reply",
    "reply",
    "train",
]
