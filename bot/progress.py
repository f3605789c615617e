"""Saving a learner's progress after a turn (story starts and ends, quiz answers, badges).

Only for a child with a pseudonymous learner id (sent by the web page). Ids and
safe/risky marks only, never text. The storage calls never raise and are
bounded in time; a database that is down means progress is skipped with a log
line, and the chat goes on.
"""

from __future__ import annotations

import logging
from typing import Any

from bot.conversation import Reply, Turn

logger = logging.getLogger(__name__)


def learner_of(turn: Turn, reply: Reply | None = None) -> str | None:
    learner = (reply.slots.get("learner_id") if reply else None) or turn.slot("learner_id")
    return learner if isinstance(learner, str) and learner else None


def save(turn: Turn, reply: Reply) -> int:
    """Store what the reply recorded; returns how many records were saved."""
    learner = learner_of(turn, reply)
    if learner is None or not reply.progress:
        return 0
    from bot import storage

    saved = 0
    for record in reply.progress:
        kind = record.get("kind")
        ok: Any = False
        if kind == "story_end":
            marks = list(record.get("marks") or [])
            ok = storage.record_story_end(
                learner, str(record["story_id"]), marks, int(record["score"])
            )
        elif kind == "quiz_answer":
            ok = storage.record_quiz_answer(learner, str(record["tactic"]), bool(record["correct"]))
        elif kind == "badge":
            ok = storage.award_badge(learner, str(record["badge_id"])) is not None
        elif kind == "story_start":
            # kept only for a learner in an open class (the teacher's "started" counts);
            # False (not in a class) is not a failure
            ok = storage.record_story_start(learner, str(record["story_id"])) is not None
        saved += bool(ok)
    if saved < len(reply.progress):
        missing = len(reply.progress) - saved
        logger.warning("progress not saved: %d of %d records", missing, len(reply.progress))
    return saved


def restore(learner: str, current: dict[str, Any]) -> dict[str, Any]:
    """Slots for a returning child: the badges they already earned."""
    from bot import storage

    known = storage.progress(learner)
    if not known:
        return {}
    had = [str(b) for b in current.get("badges") or []]
    badges = sorted({*had, *(str(b) for b in known.get("badges", []))})
    return {"badges": badges} if badges != sorted(had) else {}
