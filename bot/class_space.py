"""A class session is a space the pupils stay in: the stories the teacher chose
(and their age band), the lesson's country.

A pupil's messages carry the session's code (the ``class_code`` slot, from the
web page's metadata). While that session is open, every list of stories the
pupil sees is the teacher's selection, in the teacher's order, and a story the
teacher adds on the dashboard appears within :data:`FRESH_SECONDS`. An ended or
unknown session is no space: the child plays on their own.

The store is asked at most once per code every :data:`FRESH_SECONDS`; when the
database does not answer, the last answer is used (or no restriction at all:
a story list is never worth a failed reply).
"""

from __future__ import annotations

import dataclasses
import threading
import time
from collections.abc import Callable
from typing import Any

from bot.conversation import Turn

FRESH_SECONDS = 5.0
MAX_CODES = 2000


@dataclasses.dataclass(frozen=True)
class Space:
    code: str
    language: str | None
    story_ids: tuple[str, ...]
    age_band: str | None
    country: str | None


def _lookup(code: str) -> dict[str, Any] | None:
    from bot import storage

    return storage.class_space(code)


class _Cache:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.found: dict[str, tuple[float, dict[str, Any]]] = {}

    def get(
        self, code: str, lookup: Callable[[str], dict[str, Any] | None], now: float
    ) -> dict[str, Any] | None:
        with self.lock:
            hit = self.found.get(code)
        if hit is not None and now - hit[0] < FRESH_SECONDS:
            return hit[1]
        fresh = lookup(code)
        if fresh is None:  # the database failed: the last answer, if any
            return hit[1] if hit is not None else None
        with self.lock:
            if len(self.found) >= MAX_CODES:
                self.found.clear()
            self.found[code] = (now, fresh)
        return fresh

    def clear(self) -> None:
        with self.lock:
            self.found.clear()


_cache = _Cache()


def clear_cache() -> None:
    _cache.clear()


def of_turn(
    turn: Turn,
    *,
    lookup: Callable[[str], dict[str, Any] | None] = _lookup,
    clock: Callable[[], float] = time.monotonic,
) -> Space | None:
    """The open class session this pupil is in, or None (not in a class, ended, unknown)."""
    code = turn.slot("class_code")
    if not isinstance(code, str) or not code:
        return None
    info = _cache.get(code, lookup, clock())
    if not info or info.get("status") != "open":
        return None
    return Space(
        code=code,
        language=info.get("language"),
        story_ids=tuple(str(s) for s in info.get("story_ids") or ()),
        age_band=info.get("age_band"),
        country=info.get("country"),
    )


def raise_alert(code: str, learner_id: str) -> str | None:
    """A child's yes to "tell my teacher you'd like to talk" (``bot.safeguarding.
    adult_in_room``): the store keeps the code and the learner id, no text. Never
    raises: None when the database failed."""
    from bot import storage

    return storage.raise_class_alert(code, learner_id)
