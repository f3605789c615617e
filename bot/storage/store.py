"""The store's service API: what the Rasa actions, the web app and the CLI call.

One :class:`Store` per database URL. Chat-path calls (``ensure_learner``,
``record_story_end``, ``award_badge``, ``record_quiz_answer``, ``progress``)
never raise (``bot.storage.resilience``); the others (teacher, class, export,
erase, purge, settings) raise ``ValueError`` for bad input and SQLAlchemy
errors when the database is unreachable, for the web app or the CLI to report.

Learners are pseudonymous: a random URL-safe token the browser keeps, an age
band, a language and a country. Nothing a child types reaches this module:
every value is validated against a closed set or a slug pattern
(``bot.storage.validate``).
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext, suppress
from typing import Any

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy import exc as sa_exc
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import URL, Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.storage import validate
from bot.storage.classroom import ClassroomMixin
from bot.storage.engine import BUSY_MS, CHAT_BUSY_MS, database_url, make_engine, safe_url
from bot.storage.models import (
    Badge,
    ClassSession,
    Learner,
    QuizResult,
    Setting,
    StoryProgress,
    Teacher,
)
from bot.storage.resilience import Policy, Resilience, chat_safe, in_chat_path
from bot.tactics import TACTICS

log = logging.getLogger("lumi.storage")

DEFAULT_RETENTION_DAYS = 365
CODE_ATTEMPTS = 20


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def _iso(value: dt.datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


class Store(ClassroomMixin):
    """Progress store on one database.

    ``url``: a SQLAlchemy URL; default ``DATABASE_URL``, else SQLite at
    ``var_dir()/lumi.db``. Nothing is opened before the first call.
    ``auto_migrate``: bring the schema to the newest revision on first use
    (servers also call :func:`bot.storage.migrate` at start).
    ``clock``: returns the current UTC time (tests move it).
    """

    def __init__(
        self,
        url: str | URL | None = None,
        *,
        auto_migrate: bool = True,
        policy: Policy | None = None,
        clock: Callable[[], dt.datetime] | None = None,
    ) -> None:
        self._url_arg = url
        self._url: str | None = None
        self._engine: Engine | None = None
        self._variants: dict[tuple[bool, bool], Engine] = {}
        self._lock = threading.Lock()
        self._write_lock = threading.Lock()
        self._schema_ready = not auto_migrate
        self._schema_lock = threading.Lock()
        self.resilience = Resilience(policy)
        self.clock = clock or utcnow
        self._dummy_hash: str | None = None

    # ------------------------------------------------------------------ plumbing

    def now(self) -> dt.datetime:
        """The store's clock (UTC), so pages compare times with what the store wrote."""
        return self.clock()

    @property
    def url(self) -> str:
        if self._url is None:
            self._url = database_url(self._url_arg)
        return self._url

    def __repr__(self) -> str:
        return f"Store({safe_url(self.url)!r})"

    @property
    def engine(self) -> Engine:
        if self._engine is None:
            with self._lock:
                if self._engine is None:
                    self._engine = make_engine(self.url)
        return self._engine

    def dispose(self) -> None:
        """Close pooled connections (the store reopens them when used again)."""
        with self._lock:
            if self._engine is not None:
                self._engine.dispose()
            self._engine = None
            self._variants.clear()

    def _bind(self, write: bool) -> Engine:
        chat = in_chat_path()
        key = (write, chat)
        engine = self._variants.get(key)
        if engine is None:
            options: dict[str, Any] = {}
            if write:
                options["lumi_begin"] = "IMMEDIATE"
            if chat:
                options["lumi_busy_ms"] = CHAT_BUSY_MS
            engine = self.engine.execution_options(**options) if options else self.engine
            self._variants[key] = engine
        return engine

    def migrate(self, revision: str = "head") -> str | None:
        """Upgrade this store's database (see :func:`bot.storage.schema.migrate`)."""
        from bot.storage.schema import migrate

        result = migrate(revision=revision, engine=self._bind(write=True))
        self._schema_ready = True
        return result

    def _ensure_schema(self) -> None:
        if self._schema_ready:
            return
        with self._schema_lock:
            if not self._schema_ready:
                self.migrate()

    @contextmanager
    def _writer_turn(self) -> Iterator[None]:
        """SQLite writers of this process queue here, without polling.

        SQLite's own busy handler polls with sleeps of up to 100 ms, so with many
        threads some wait far longer than others; this lock hands the writer turn
        over at once. Other processes still queue on SQLite's busy timeout.
        """
        wait = (CHAT_BUSY_MS if in_chat_path() else BUSY_MS) / 1000
        if not self._write_lock.acquire(timeout=wait):
            raise sa_exc.TimeoutError("waited too long for the SQLite writer turn")
        try:
            yield
        finally:
            self._write_lock.release()

    @contextmanager
    def _tx(self, write: bool = True) -> Iterator[Session]:
        self._ensure_schema()
        bind = self._bind(write)
        turn = self._writer_turn() if write and bind.dialect.name == "sqlite" else nullcontext()
        with (
            turn,
            Session(bind=bind, future=True, expire_on_commit=False) as session,
            session.begin(),
        ):
            yield session

    def _dialect(self, session: Session) -> str:
        return session.get_bind().dialect.name

    def _insert(self, session: Session, model: Any) -> Any:
        """An INSERT that supports ON CONFLICT on SQLite and PostgreSQL."""
        name = self._dialect(session)
        if name == "postgresql":
            return postgresql.insert(model)
        if name == "sqlite":
            return sqlite.insert(model)
        return None

    def _touch_learner(
        self, session: Session, learner_id: str, now: dt.datetime, values: dict[str, Any]
    ) -> None:
        """Create the learner row or update its last-seen time and the given fields.

        One atomic upsert, so two processes seeing a new learner at once both succeed.
        """
        changes = {"last_seen_at": now, **values}
        stmt = self._insert(session, Learner)
        if stmt is not None:
            stmt = stmt.values(id=learner_id, created_at=now, **changes)
            session.execute(stmt.on_conflict_do_update(index_elements=["id"], set_=changes))
            return
        updated = session.execute(update(Learner).where(Learner.id == learner_id).values(**changes))
        if updated.rowcount == 0:
            session.execute(insert(Learner).values(id=learner_id, created_at=now, **changes))

    def _open_class_of(self, session: Session, learner_id: str) -> int | None:
        """The open class session the learner joined, if any."""
        return session.execute(
            select(ClassSession.id)
            .join(Learner, Learner.class_session_id == ClassSession.id)
            .where(Learner.id == learner_id, ClassSession.status == "open")
        ).scalar_one_or_none()

    # ------------------------------------------------------------------ chat path

    @chat_safe(default=None)
    def ensure_learner(
        self,
        learner_id: str | None,
        *,
        age_band: str | None = None,
        language: str | None = None,
        country: str | None = None,
        class_code: str | None = None,
    ) -> str | None:
        """Create or refresh a learner; returns the learner id to keep, None if not stored.

        A missing or malformed ``learner_id`` is replaced by a fresh random token
        (the caller must keep the returned id). Fields left as None are not
        changed. ``class_code`` attaches the learner to that class session if it
        is open (unknown or ended codes are ignored: check with :meth:`join_class`).
        """
        lid = (
            learner_id
            if isinstance(learner_id, str) and validate.is_learner_id(learner_id)
            else None
        )
        lid = lid or validate.new_learner_id()
        values: dict[str, Any] = {}
        if age_band is not None:
            values["age_band"] = validate.age_band(age_band)
        if language is not None:
            values["language"] = validate.language(language)
        if country is not None:
            values["country"] = validate.country(country)
        code = validate.class_code(class_code) if class_code is not None else None
        with self._tx() as session:
            if code is not None:
                class_id = session.execute(
                    select(ClassSession.id).where(
                        ClassSession.code == code, ClassSession.status == "open"
                    )
                ).scalar_one_or_none()
                if class_id is not None:
                    values["class_session_id"] = class_id
            self._touch_learner(session, lid, self.clock(), values)
        return lid

    @chat_safe(default=False)
    def record_story_end(
        self, learner_id: str, story_id: str, marks: list[dict[str, Any]], score: int
    ) -> bool:
        """Record a finished story. ``marks``: ``[{"step"?, "mark": "safe"|"risky",
        "tactic": id|None}]`` (no other key). True when stored."""
        lid = validate.learner_id(learner_id)
        sid = validate.slug(story_id, "story id")
        clean = validate.marks(marks)
        points = validate.score(score)
        now = self.clock()
        with self._tx() as session:
            self._touch_learner(session, lid, now, {})
            session.add(
                StoryProgress(
                    learner_id=lid,
                    story_id=sid,
                    marks=clean,
                    score=points,
                    completed_at=now,
                    class_session_id=self._open_class_of(session, lid),
                )
            )
        return True

    @chat_safe(default=None)
    def award_badge(self, learner_id: str, badge_id: str) -> bool | None:
        """True if newly earned, False if the learner had it already, None if not stored."""
        lid = validate.learner_id(learner_id)
        bid = validate.slug(badge_id, "badge id")
        now = self.clock()
        with self._tx() as session:
            self._touch_learner(session, lid, now, {})
            stmt = self._insert(session, Badge)
            if stmt is not None:
                stmt = stmt.values(learner_id=lid, badge_id=bid, earned_at=now)
                result = session.execute(
                    stmt.on_conflict_do_nothing(index_elements=["learner_id", "badge_id"])
                )
                return bool(result.rowcount == 1)
            exists = session.execute(
                select(Badge.id).where(Badge.learner_id == lid, Badge.badge_id == bid)
            ).first()
            if exists:
                return False
            session.add(Badge(learner_id=lid, badge_id=bid, earned_at=now))
            return True

    @chat_safe(default=False)
    def record_quiz_answer(self, learner_id: str, tactic: str, correct: bool) -> bool:
        """Record one quiz answer (the tactic asked about, right or wrong). True when stored."""
        lid = validate.learner_id(learner_id)
        tac = validate.tactic(tactic)
        if not isinstance(correct, bool):
            raise ValueError("correct must be True or False")
        now = self.clock()
        with self._tx() as session:
            self._touch_learner(session, lid, now, {})
            session.add(
                QuizResult(
                    learner_id=lid,
                    tactic=tac,
                    correct=correct,
                    answered_at=now,
                    class_session_id=self._open_class_of(session, lid),
                )
            )
        return True

    @chat_safe(default=None)
    def progress(self, learner_id: str) -> dict[str, Any] | None:
        """Badges, stories finished (best score, times) and quiz totals; None if unavailable.

        An unknown learner has empty progress.
        """
        lid = validate.learner_id(learner_id)
        with self._tx(write=False) as session:
            badges = session.execute(
                select(Badge.badge_id)
                .where(Badge.learner_id == lid)
                .order_by(Badge.earned_at, Badge.id)
            ).scalars()
            badge_list = list(badges)
            story_rows = session.execute(
                select(
                    StoryProgress.story_id,
                    func.max(StoryProgress.score),
                    func.count(StoryProgress.id),
                    func.max(StoryProgress.completed_at),
                )
                .where(StoryProgress.learner_id == lid)
                .group_by(StoryProgress.story_id)
                .order_by(StoryProgress.story_id)
            ).all()
            quiz_rows = session.execute(
                select(QuizResult.tactic, QuizResult.correct, func.count(QuizResult.id))
                .where(QuizResult.learner_id == lid)
                .group_by(QuizResult.tactic, QuizResult.correct)
            ).all()
        stories = {
            story: {
                "best_score": int(best),
                "times": int(times),
                "last_completed_at": _iso(_as_utc(last)),
            }
            for story, best, times, last in story_rows
        }
        by_tactic: dict[str, dict[str, int]] = {}
        for tactic, correct, count in quiz_rows:
            entry = by_tactic.setdefault(tactic, {"answered": 0, "correct": 0})
            entry["answered"] += int(count)
            if correct:
                entry["correct"] += int(count)
        return {
            "badges": badge_list,
            "stories": stories,
            "stories_finished": len(stories),
            "quiz": {
                "answered": sum(e["answered"] for e in by_tactic.values()),
                "correct": sum(e["correct"] for e in by_tactic.values()),
                "by_tactic": dict(sorted(by_tactic.items())),
            },
        }

    # ------------------------------------------------------------------ a learner's data

    def export_learner(self, learner_id: str) -> dict[str, Any] | None:
        """Everything stored about one learner, JSON-able; None if unknown."""
        lid = validate.learner_id(learner_id)
        with self._tx(write=False) as session:
            learner = session.get(Learner, lid)
            if learner is None:
                return None
            class_code = None
            if learner.class_session_id is not None:
                class_code = session.execute(
                    select(ClassSession.code).where(ClassSession.id == learner.class_session_id)
                ).scalar_one_or_none()
            stories = session.execute(
                select(StoryProgress)
                .where(StoryProgress.learner_id == lid)
                .order_by(StoryProgress.completed_at, StoryProgress.id)
            ).scalars()
            story_list = [
                {
                    "story_id": row.story_id,
                    "score": row.score,
                    "marks": row.marks,
                    "completed_at": _iso(row.completed_at),
                    "in_class": row.class_session_id is not None,
                }
                for row in stories
            ]
            badges = [
                {"badge_id": row.badge_id, "earned_at": _iso(row.earned_at)}
                for row in session.execute(
                    select(Badge).where(Badge.learner_id == lid).order_by(Badge.earned_at, Badge.id)
                ).scalars()
            ]
            quiz = [
                {
                    "tactic": row.tactic,
                    "correct": row.correct,
                    "answered_at": _iso(row.answered_at),
                }
                for row in session.execute(
                    select(QuizResult)
                    .where(QuizResult.learner_id == lid)
                    .order_by(QuizResult.answered_at, QuizResult.id)
                ).scalars()
            ]
            return {
                "format": "lumi-learner-export/1",
                "exported_at": _iso(self.clock()),
                "learner": {
                    "id": learner.id,
                    "age_band": learner.age_band,
                    "language": learner.language,
                    "country": learner.country,
                    "class_code": class_code,
                    "created_at": _iso(learner.created_at),
                    "last_seen_at": _iso(learner.last_seen_at),
                },
                "stories": story_list,
                "badges": badges,
                "quiz_results": quiz,
                "not_stored": "names, messages or anything typed in the chat",
            }

    def erase_learner(self, learner_id: str) -> bool:
        """Delete the learner and every row about them. True if there was anything."""
        lid = validate.learner_id(learner_id)
        with self._tx() as session:
            counts = self._delete_learners(session, [lid])
        return any(counts.values())

    def _delete_learners(self, session: Session, ids: Any) -> dict[str, int]:
        """Delete learners (a list or a subquery of ids) with their rows; counts per table."""
        counts: dict[str, int] = {}
        self._delete_class_rows_of_learners(session, ids)  # pseudonyms, starts, votes
        for key, model in (
            ("story_progress", StoryProgress),
            ("badges", Badge),
            ("quiz_results", QuizResult),
        ):
            result = session.execute(
                delete(model)
                .where(model.learner_id.in_(ids))
                .execution_options(synchronize_session=False)
            )
            counts[key] = int(result.rowcount or 0)
        result = session.execute(
            delete(Learner).where(Learner.id.in_(ids)).execution_options(synchronize_session=False)
        )
        counts["learners"] = int(result.rowcount or 0)
        return counts

    # ------------------------------------------------------------------ retention

    def retention_days(self) -> int:
        """The ``retention_days`` setting, else env ``RETENTION_DAYS``, else 365."""
        stored = self.get_setting("retention_days")
        if stored is not None:
            return int(stored)
        raw = os.environ.get("RETENTION_DAYS", "").strip()
        if raw:
            try:
                days = int(raw)
            except ValueError:
                days = -1
            if 0 <= days <= 36500:
                return days
            log.warning("RETENTION_DAYS is not a number of days; using %d", DEFAULT_RETENTION_DAYS)
        return DEFAULT_RETENTION_DAYS

    def purge(self, older_than_days: int | None = None) -> dict[str, Any]:
        """Delete learners not seen for that many days (with all their rows), and class
        sessions that ended (or, if still open, started) before then. Returns counts.
        """
        days = self.retention_days() if older_than_days is None else older_than_days
        if isinstance(days, bool) or not isinstance(days, int) or days < 0:
            raise ValueError("older_than_days must be a whole number of days, 0 or more")
        cutoff = self.clock() - dt.timedelta(days=days)
        with self._tx() as session:
            stale = select(Learner.id).where(Learner.last_seen_at < cutoff).scalar_subquery()
            counts = self._delete_learners(session, stale)
            old_sessions = (
                select(ClassSession.id)
                .where(func.coalesce(ClassSession.ended_at, ClassSession.created_at) < cutoff)
                .scalar_subquery()
            )
            self._delete_class_rows_of_sessions(session, old_sessions)
            for model in (Learner, StoryProgress, QuizResult):
                session.execute(
                    update(model)
                    .where(model.class_session_id.in_(old_sessions))
                    .values(class_session_id=None)
                    .execution_options(synchronize_session=False)
                )
            result = session.execute(
                delete(ClassSession)
                .where(func.coalesce(ClassSession.ended_at, ClassSession.created_at) < cutoff)
                .execution_options(synchronize_session=False)
            )
            counts["class_sessions"] = int(result.rowcount or 0)
        return {"days": days, "cutoff": _iso(cutoff), **counts}

    # ------------------------------------------------------------------ settings

    def get_setting(self, key: str) -> Any:
        """A known setting's value, or None when not set (see :meth:`settings`)."""
        if key not in validate.SETTINGS:
            raise ValueError(f"unknown setting {key!r}")
        with self._tx(write=False) as session:
            row = session.get(Setting, key)
            return None if row is None else validate.parse_setting(key, row.value)

    def set_setting(self, key: str, value: Any) -> None:
        text = validate.setting(key, value)
        with self._tx() as session:
            row = session.get(Setting, key)
            if row is None:
                session.add(Setting(key=key, value=text))
            else:
                row.value = text

    def settings(self) -> dict[str, Any]:
        """Every known setting with its effective value."""
        store_free_text = self.get_setting("store_free_text")
        return {
            "retention_days": self.retention_days(),
            "store_free_text": bool(store_free_text) if store_free_text is not None else False,
        }

    # ------------------------------------------------------------------ teachers

    def _hasher(self) -> Any:
        from argon2 import PasswordHasher

        return PasswordHasher()

    def create_teacher(self, username: str, password: str) -> int:
        """A new teacher account; returns its id. ValueError if the name is taken."""
        name = validate.username(username)
        secret = validate.password(password)
        digest = self._hasher().hash(secret)  # slow on purpose: outside the transaction
        try:
            with self._tx() as session:
                teacher = Teacher(username=name, password_hash=digest, created_at=self.clock())
                session.add(teacher)
                session.flush()
                return int(teacher.id)
        except IntegrityError:
            raise ValueError("this username is already taken") from None

    def set_teacher_password(self, username: str, password: str) -> bool:
        """Give a teacher a new password (forgotten, or locked out). False if no such user."""
        name = validate.username(username)
        secret = validate.password(password)
        digest = self._hasher().hash(secret)
        with self._tx() as session:
            result = session.execute(
                update(Teacher)
                .where(Teacher.username == name)
                .values(password_hash=digest)
                .execution_options(synchronize_session=False)
            )
            return bool(result.rowcount == 1)

    def verify_teacher(self, username: str, password: str) -> int | None:
        """The teacher's id when the password matches, else None.

        An unknown user costs the same argon2 verification as a wrong password.
        """
        from argon2.exceptions import InvalidHashError, VerificationError

        hasher = self._hasher()
        if self._dummy_hash is None:  # made on the first call, whoever asks
            self._dummy_hash = hasher.hash("lumi-no-such-teacher-" + os.urandom(8).hex())
        try:
            name: str | None = validate.username(username)
        except ValueError:
            name = None
        if not isinstance(password, str):
            password = ""
        row = None
        if name is not None:
            with self._tx(write=False) as session:
                row = session.execute(
                    select(Teacher.id, Teacher.password_hash).where(Teacher.username == name)
                ).first()
        if row is None:
            with suppress(VerificationError, InvalidHashError):
                hasher.verify(self._dummy_hash, password)
            return None
        teacher_id, digest = int(row[0]), str(row[1])
        try:
            hasher.verify(digest, password)
        except (VerificationError, InvalidHashError):
            return None
        if hasher.check_needs_rehash(digest):
            with self._tx() as session:
                session.execute(
                    update(Teacher)
                    .where(Teacher.id == teacher_id)
                    .values(password_hash=hasher.hash(password))
                )
        return teacher_id

    # ------------------------------------------------------------------ class sessions

    def create_class_session(
        self,
        teacher_id: int,
        language: str,
        story_ids: list[str],
        *,
        title: str | None = None,
        country: str | None = None,
        age_band: str | None = None,
        time_zone: str | None = None,
    ) -> str:
        """Open a class session; returns its code (6 characters, easy to write on a board).

        ``title`` ("CM2 B, Tuesday"), ``country`` (the pupils' helplines), ``age_band``
        (the stories offered) and ``time_zone`` (IANA; an unknown one is dropped) are optional.
        """
        lang = validate.language(language)
        if lang is None:
            raise ValueError("a class session needs a language")
        stories = validate.story_ids(story_ids)
        details = {
            "title": validate.session_title(title),
            "country": validate.country(country),
            "age_band": validate.age_band(age_band),
            "time_zone": validate.time_zone(time_zone),
        }
        for _ in range(CODE_ATTEMPTS):
            code = validate.new_class_code()
            try:
                with self._tx() as session:
                    if session.get(Teacher, teacher_id) is None:
                        raise ValueError("unknown teacher")
                    session.add(
                        ClassSession(
                            teacher_id=teacher_id,
                            code=code,
                            language=lang,
                            story_ids=stories,
                            status="open",
                            created_at=self.clock(),
                            **details,
                        )
                    )
                return code
            except IntegrityError:
                continue  # the code exists already: draw another
        raise RuntimeError("could not draw a free class code")

    def join_class(self, code: str) -> dict[str, Any] | None:
        """The open session with this code (as typed: case, spaces, dashes ignored), or None."""
        clean = validate.class_code(code)
        if clean is None:
            return None
        with self._tx(write=False) as session:
            row = session.execute(
                select(ClassSession).where(
                    ClassSession.code == clean, ClassSession.status == "open"
                )
            ).scalar_one_or_none()
            if row is None:
                return None
            return {
                "code": row.code,
                "language": row.language,
                "story_ids": list(row.story_ids),
                "status": row.status,
            }

    def end_class_session(self, teacher_id: int, code: str) -> bool:
        """End the teacher's open session; False if unknown, not theirs or ended already."""
        clean = validate.class_code(code)
        if clean is None:
            return False
        with self._tx() as session:
            result = session.execute(
                update(ClassSession)
                .where(
                    ClassSession.code == clean,
                    ClassSession.teacher_id == teacher_id,
                    ClassSession.status == "open",
                )
                .values(status="ended", ended_at=self.clock())
                .execution_options(synchronize_session=False)
            )
            return bool(result.rowcount == 1)

    def reopen_class_session(self, teacher_id: int, code: str, within_seconds: int) -> bool:
        """Undo "end the session": the teacher's session ended less than ``within_seconds``
        ago opens again (children can rejoin). False when too late, not theirs or open."""
        clean = validate.class_code(code)
        if clean is None:
            return False
        since = self.clock() - dt.timedelta(seconds=within_seconds)
        with self._tx() as session:
            result = session.execute(
                update(ClassSession)
                .where(
                    ClassSession.code == clean,
                    ClassSession.teacher_id == teacher_id,
                    ClassSession.status == "ended",
                    ClassSession.ended_at >= since,
                )
                .values(status="open", ended_at=None)
                .execution_options(synchronize_session=False)
            )
            return bool(result.rowcount == 1)

    def add_class_story(self, teacher_id: int, code: str, story_id: str) -> bool:
        """Add a story to the teacher's open session, live (children's lists follow).
        False when the session is not theirs, ended, or has the story already."""
        sid = validate.slug(story_id, "story id")
        clean = validate.class_code(code)
        if clean is None:
            return False
        with self._tx() as session:
            row = session.execute(
                select(ClassSession).where(
                    ClassSession.code == clean,
                    ClassSession.teacher_id == teacher_id,
                    ClassSession.status == "open",
                )
            ).scalar_one_or_none()
            if row is None or sid in row.story_ids:
                return False
            row.story_ids = validate.story_ids([*row.story_ids, sid])
            return True

    def teacher_sessions(self, teacher_id: int) -> list[dict[str, Any]]:
        """The teacher's own sessions, newest first (no learner data)."""
        with self._tx(write=False) as session:
            rows = session.execute(
                select(ClassSession)
                .where(ClassSession.teacher_id == teacher_id)
                .order_by(ClassSession.created_at.desc(), ClassSession.id.desc())
            ).scalars()
            return [_session_info(row) for row in rows]

    def class_summary(self, teacher_id: int, code: str) -> dict[str, Any] | None:
        """Aggregate results of one session, for its teacher only (else None).

        Counts only, never a row per learner: learners who joined, stories
        finished (count, average and best score), tactics spotted (a "safe"
        choice on a step showing that tactic) or missed ("risky"), quiz answers
        per tactic.
        """
        clean = validate.class_code(code)
        if clean is None:
            return None
        with self._tx(write=False) as session:
            row = session.execute(
                select(ClassSession).where(
                    ClassSession.code == clean, ClassSession.teacher_id == teacher_id
                )
            ).scalar_one_or_none()
            if row is None:
                return None
            info = _session_info(row)
            joined = session.execute(
                select(func.count(Learner.id)).where(Learner.class_session_id == row.id)
            ).scalar_one()
            progress = session.execute(
                select(
                    StoryProgress.learner_id,
                    StoryProgress.story_id,
                    StoryProgress.score,
                    StoryProgress.marks,
                ).where(StoryProgress.class_session_id == row.id)
            ).all()
            quiz_rows = session.execute(
                select(QuizResult.tactic, QuizResult.correct, func.count(QuizResult.id))
                .where(QuizResult.class_session_id == row.id)
                .group_by(QuizResult.tactic, QuizResult.correct)
            ).all()
        stories: dict[str, dict[str, Any]] = {}
        tactics = {t: {"spotted": 0, "missed": 0} for t in TACTICS}
        active: set[str] = set()
        for learner, story, score, marks in progress:
            active.add(learner)
            entry = stories.setdefault(
                story, {"finished": 0, "learners": set(), "total": 0, "best": 0}
            )
            entry["finished"] += 1
            entry["learners"].add(learner)
            entry["total"] += score
            entry["best"] = max(entry["best"], score)
            for mark in marks or []:
                tactic = mark.get("tactic")
                if tactic in tactics:
                    tactics[tactic]["spotted" if mark.get("mark") == "safe" else "missed"] += 1
        quiz = {t: {"answered": 0, "correct": 0} for t in TACTICS}
        for tactic, correct, count in quiz_rows:
            if tactic in quiz:
                quiz[tactic]["answered"] += int(count)
                if correct:
                    quiz[tactic]["correct"] += int(count)
        return {
            **info,
            "learners_joined": int(joined),
            "learners_active": len(active),
            "stories": {
                story: {
                    "finished": e["finished"],
                    "learners": len(e["learners"]),
                    "average_score": round(e["total"] / e["finished"]),
                    "best_score": e["best"],
                }
                for story, e in sorted(stories.items())
            },
            "tactics": tactics,
            "quiz": quiz,
        }


def _as_utc(value: Any) -> dt.datetime | None:
    """Aggregates (MAX) bypass the column type: make them aware UTC datetimes."""
    if value is None:
        return None
    if isinstance(value, str):  # SQLite returns MAX(datetime) as text
        value = dt.datetime.fromisoformat(value)
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.timezone.utc)
    return value


def _session_info(row: ClassSession) -> dict[str, Any]:
    return {
        "code": row.code,
        "language": row.language,
        "story_ids": list(row.story_ids),
        "status": row.status,
        "created_at": _iso(row.created_at),
        "ended_at": _iso(row.ended_at),
        "title": row.title,
        "country": row.country,
        "age_band": row.age_band,
        "time_zone": row.time_zone,
    }
