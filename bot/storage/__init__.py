"""Pseudonymous progress storage: SQLite by default, PostgreSQL through ``DATABASE_URL``.

Nothing a child types is stored: learners are random tokens with an age band,
a language and a country; stories are stored as "safe"/"risky" marks per
tactic and a score. See ``docs/storage.md``.

The functions below use one process-wide :class:`Store`, created on first use
from ``DATABASE_URL`` (default: SQLite at ``var_dir()/lumi.db``); importing this
package opens nothing. Chat-path functions (``ensure_learner``,
``record_story_end``, ``award_badge``, ``record_quiz_answer``, ``progress``)
never raise: on failure they return ``None``/``False`` after one log line.

Servers call :func:`migrate` at start; tests build their own ``Store(url)``.
"""

from __future__ import annotations

import threading
from typing import Any

from bot.storage.resilience import Policy, chat_safe
from bot.storage.store import Store
from bot.storage.validate import new_learner_id

__all__ = [
    "Policy",
    "Store",
    "award_badge",
    "cast_vote",
    "chat_safe",
    "class_dashboard",
    "class_space",
    "class_status",
    "class_summary",
    "configure",
    "create_class_session",
    "create_teacher",
    "end_class_session",
    "ensure_learner",
    "erase_learner",
    "export_learner",
    "join_class",
    "join_class_as",
    "migrate",
    "new_learner_id",
    "progress",
    "purge",
    "raise_class_alert",
    "record_quiz_answer",
    "record_story_end",
    "record_story_start",
    "settings",
    "set_setting",
    "set_teacher_password",
    "store",
    "teacher_count",
    "teacher_sessions",
    "verify_teacher",
]

_lock = threading.Lock()
_store: Store | None = None


def store() -> Store:
    """The process-wide store (created on first call, nothing opened until used)."""
    global _store
    if _store is None:
        with _lock:
            if _store is None:
                _store = Store()
    return _store


def configure(url: str | None = None, **options: Any) -> Store:
    """Replace the process-wide store (e.g. another URL); the old one is disposed."""
    global _store
    with _lock:
        old, _store = _store, Store(url, **options)
    if old is not None:
        old.dispose()
    return _store


def migrate(url: str | None = None) -> str | None:
    """Upgrade the database to the newest revision; returns that revision.

    Without ``url``: the process-wide store's database (``DATABASE_URL`` or SQLite).
    """
    if url is None:
        return store().migrate()
    from bot.storage.schema import migrate as migrate_url

    return migrate_url(url)


# Chat path: never raise.
def ensure_learner(
    learner_id: str | None,
    *,
    age_band: str | None = None,
    language: str | None = None,
    country: str | None = None,
    class_code: str | None = None,
) -> str | None:
    return store().ensure_learner(
        learner_id, age_band=age_band, language=language, country=country, class_code=class_code
    )


def record_story_end(
    learner_id: str, story_id: str, marks: list[dict[str, Any]], score: int
) -> bool:
    return store().record_story_end(learner_id, story_id, marks, score)


def award_badge(learner_id: str, badge_id: str) -> bool | None:
    return store().award_badge(learner_id, badge_id)


def record_quiz_answer(learner_id: str, tactic: str, correct: bool) -> bool:
    return store().record_quiz_answer(learner_id, tactic, correct)


def record_story_start(learner_id: str, story_id: str) -> bool | None:
    """True stored, False the learner is in no open class (nothing kept), None not stored."""
    return store().record_story_start(learner_id, story_id)


def progress(learner_id: str) -> dict[str, Any] | None:
    return store().progress(learner_id)


# A learner's data, retention.
def export_learner(learner_id: str) -> dict[str, Any] | None:
    return store().export_learner(learner_id)


def erase_learner(learner_id: str) -> bool:
    return store().erase_learner(learner_id)


def purge(older_than_days: int | None = None) -> dict[str, Any]:
    return store().purge(older_than_days)


def settings() -> dict[str, Any]:
    return store().settings()


def set_setting(key: str, value: Any) -> None:
    store().set_setting(key, value)


# Teachers and class sessions.
def create_teacher(username: str, password: str) -> int:
    return store().create_teacher(username, password)


def verify_teacher(username: str, password: str) -> int | None:
    return store().verify_teacher(username, password)


def create_class_session(
    teacher_id: int, language: str, story_ids: list[str], **details: str | None
) -> str:
    return store().create_class_session(teacher_id, language, story_ids, **details)


def join_class(code: str) -> dict[str, Any] | None:
    return store().join_class(code)


def end_class_session(teacher_id: int, code: str) -> bool:
    return store().end_class_session(teacher_id, code)


def class_summary(teacher_id: int, code: str) -> dict[str, Any] | None:
    return store().class_summary(teacher_id, code)


def teacher_sessions(teacher_id: int) -> list[dict[str, Any]]:
    return store().teacher_sessions(teacher_id)


# Class lessons (bot/storage/classroom.py): pseudonyms, dashboard counts, projector votes.
def teacher_count() -> int:
    return store().teacher_count()


def set_teacher_password(username: str, password: str) -> bool:
    return store().set_teacher_password(username, password)


def class_status(code: str) -> str | None:
    return store().class_status(code)


def join_class_as(code: str, learner_id: str, *, language: str | None = None) -> dict[str, Any]:
    return store().join_class_as(code, learner_id, language=language)


def class_dashboard(teacher_id: int, code: str) -> dict[str, Any] | None:
    return store().class_dashboard(teacher_id, code)


def cast_vote(code: str, learner_id: str, poll_round: int, choice_id: str) -> str:
    return store().cast_vote(code, learner_id, poll_round, choice_id)


def class_space(code: str) -> dict[str, Any] | None:
    """What a pupil's session offers (stories, age band, country); chat path, never raises."""
    return store().class_space(code)


def raise_class_alert(code: str, learner_id: str) -> str | None:
    """A child's yes to "tell my teacher"; chat path, never raises (None: not stored)."""
    return store().raise_class_alert(code, learner_id)
