"""Class lessons in the store: joining with a pseudonym, story starts, the class
dashboard's counts, and the projector's step with the children's votes.

A mixin of :class:`bot.storage.store.Store` (it uses the store's transactions).
Everything here is an id or a count: a pseudonym is ``<colour>-<animal>`` (ids
from :data:`COLOURS` and :data:`ANIMALS`; their words, in both languages, are in
``locales/teacher.*.yml``), a vote is a choice id. Teachers read their own
sessions only (``teacher_id`` is part of every query); children reach a session
by its code, and only while it is open.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any

from sqlalchemy import distinct, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.storage import validate
from bot.storage.models import (
    ClassAlert,
    ClassMember,
    ClassProjector,
    ClassSession,
    ClassStoryStart,
    ClassVote,
    QuizResult,
    StoryProgress,
    Teacher,
)
from bot.storage.pseudonyms import pick_pseudonym
from bot.storage.resilience import chat_safe
from bot.tactics import TACTICS

JOIN_ATTEMPTS = 10

# What a vote may be: a choice id of the current step (checked by the web app
# against the story) or one of these.
VOTE_STATUSES = ("ok", "unknown", "ended", "not_member", "closed")


class ClassroomMixin:
    """Class-lesson calls of the store (see the module docstring)."""

    # Provided by Store.
    clock: Callable[[], dt.datetime]
    _tx: Callable[..., AbstractContextManager[Session]]
    _touch_learner: Callable[[Session, str, dt.datetime, dict[str, Any]], None]
    _open_class_of: Callable[[Session, str], int | None]
    _insert: Callable[[Session, Any], Any]

    # ------------------------------------------------------------------ teachers

    def teacher_count(self) -> int:
        """How many teacher accounts exist (the first-run page works only at 0)."""
        with self._tx(write=False) as session:
            return int(session.execute(select(func.count(Teacher.id))).scalar_one())

    def teacher_username(self, teacher_id: int) -> str | None:
        with self._tx(write=False) as session:
            row = session.get(Teacher, teacher_id)
            return None if row is None else str(row.username)

    # ------------------------------------------------------------------ sessions

    def _owned(self, session: Session, teacher_id: int, code: str) -> ClassSession | None:
        clean = validate.class_code(code)
        if clean is None or isinstance(teacher_id, bool) or not isinstance(teacher_id, int):
            return None
        return session.execute(
            select(ClassSession).where(
                ClassSession.code == clean, ClassSession.teacher_id == teacher_id
            )
        ).scalar_one_or_none()

    def class_session(self, teacher_id: int, code: str) -> dict[str, Any] | None:
        """The teacher's own session (code, language, stories, status, dates), else None."""
        with self._tx(write=False) as session:
            row = self._owned(session, teacher_id, code)
            return None if row is None else _info(row)

    def class_status(self, code: str) -> str | None:
        """``"open"``, ``"ended"`` or None (no session has this code)."""
        clean = validate.class_code(code)
        if clean is None:
            return None
        with self._tx(write=False) as session:
            status = session.execute(
                select(ClassSession.status).where(ClassSession.code == clean)
            ).scalar_one_or_none()
            return None if status is None else str(status)

    def join_class_as(
        self, code: str, learner_id: str, *, language: str | None = None
    ) -> dict[str, Any]:
        """A child joins a class with its code: ``{"status": "open", "code", "language",
        "story_ids", "pseudonym"}``, or ``{"status": "ended"|"unknown"}``.

        The learner is attached to the session (their progress then counts for it)
        and gets a pseudonym unique in the session; joining again from the same
        device keeps it.
        """
        clean = validate.class_code(code)
        lid = validate.learner_id(learner_id)
        lang = validate.language(language)
        if clean is None:
            return {"status": "unknown"}
        for _ in range(JOIN_ATTEMPTS):
            try:
                with self._tx() as session:
                    row = session.execute(
                        select(ClassSession).where(ClassSession.code == clean)
                    ).scalar_one_or_none()
                    if row is None:
                        return {"status": "unknown"}
                    if row.status != "open":
                        return {"status": "ended", "code": row.code, "language": row.language}
                    now = self.clock()
                    values: dict[str, Any] = {"class_session_id": row.id}
                    if lang is not None:
                        values["language"] = lang
                    self._touch_learner(session, lid, now, values)
                    pseudonym = session.execute(
                        select(ClassMember.pseudonym).where(
                            ClassMember.class_session_id == row.id,
                            ClassMember.learner_id == lid,
                        )
                    ).scalar_one_or_none()
                    if pseudonym is None:
                        used = set(
                            session.execute(
                                select(ClassMember.pseudonym).where(
                                    ClassMember.class_session_id == row.id
                                )
                            ).scalars()
                        )
                        pseudonym = pick_pseudonym(used)
                        session.add(
                            ClassMember(
                                class_session_id=row.id,
                                learner_id=lid,
                                pseudonym=pseudonym,
                                joined_at=now,
                            )
                        )
                        session.flush()
                    return {**_info(row), "pseudonym": str(pseudonym)}
            except IntegrityError:
                continue  # two children drew the same pseudonym at the same moment
        raise RuntimeError("could not give a free pseudonym")

    def membership(self, code: str, learner_id: str) -> dict[str, Any] | None:
        """The learner's place in that session (status, language, pseudonym), or None."""
        clean = validate.class_code(code)
        if clean is None or not validate.is_learner_id(learner_id):
            return None
        with self._tx(write=False) as session:
            found = session.execute(
                select(ClassSession, ClassMember.pseudonym)
                .join(ClassMember, ClassMember.class_session_id == ClassSession.id)
                .where(ClassSession.code == clean, ClassMember.learner_id == learner_id)
            ).first()
            if found is None:
                return None
            row, pseudonym = found
            return {**_info(row), "pseudonym": str(pseudonym)}

    @chat_safe(default=None)
    def record_story_start(self, learner_id: str, story_id: str) -> bool | None:
        """Note that a learner in an open class started a story: True stored, False not in
        a class (nothing to keep), None when the database failed (never raises)."""
        lid = validate.learner_id(learner_id)
        sid = validate.slug(story_id, "story id")
        with self._tx(write=False) as session:
            if self._open_class_of(session, lid) is None:
                return False
        with self._tx() as session:
            class_id = self._open_class_of(session, lid)
            if class_id is None:
                return False
            now = self.clock()
            self._touch_learner(session, lid, now, {})
            session.add(
                ClassStoryStart(
                    class_session_id=class_id, learner_id=lid, story_id=sid, started_at=now
                )
            )
        return True

    @chat_safe(default=None)
    def class_space(self, code: str) -> dict[str, Any] | None:
        """The space a pupil of this session stays in: ``{"status", "language",
        "story_ids", "age_band", "country"}``; ``{"status": "unknown"}`` for no such
        code; None when the database failed (chat path: never raises)."""
        clean = validate.class_code(code)
        if clean is None:
            return {"status": "unknown"}
        with self._tx(write=False) as session:
            row = session.execute(
                select(ClassSession).where(ClassSession.code == clean)
            ).scalar_one_or_none()
            if row is None:
                return {"status": "unknown"}
            info = _info(row)
        return {
            key: info[key] for key in ("status", "language", "story_ids", "age_band", "country")
        }

    # ------------------------------------------------------------------ the adult in the room

    @chat_safe(default=None)
    def raise_class_alert(self, code: str, learner_id: str) -> str | None:
        """A child said yes to "tell my teacher you'd like to talk": ``"ok"`` (the
        teacher's dashboard shows their pseudonym until marked seen; a second yes while
        one is unseen adds nothing), ``"unknown"``, ``"ended"`` or ``"not_member"``;
        None when the database failed. Nothing the child wrote is stored."""
        clean = validate.class_code(code)
        lid = validate.learner_id(learner_id)
        if clean is None:
            return "unknown"
        with self._tx() as session:
            row = session.execute(
                select(ClassSession).where(ClassSession.code == clean)
            ).scalar_one_or_none()
            if row is None:
                return "unknown"
            if row.status != "open":
                return "ended"
            member = session.execute(
                select(ClassMember.id).where(
                    ClassMember.class_session_id == row.id, ClassMember.learner_id == lid
                )
            ).first()
            if member is None:
                return "not_member"
            waiting = session.execute(
                select(ClassAlert.id).where(
                    ClassAlert.class_session_id == row.id,
                    ClassAlert.learner_id == lid,
                    ClassAlert.seen_at.is_(None),
                )
            ).first()
            if waiting is None:
                session.add(
                    ClassAlert(class_session_id=row.id, learner_id=lid, raised_at=self.clock())
                )
            return "ok"

    def class_alerts(self, teacher_id: int, code: str) -> list[dict[str, Any]] | None:
        """The unseen alerts of the teacher's own session, oldest first: ``{"id",
        "pseudonym", "raised_at"}`` (else None). No text: there is none to give."""
        with self._tx(write=False) as session:
            row = self._owned(session, teacher_id, code)
            if row is None:
                return None
            found = session.execute(
                select(ClassAlert.id, ClassMember.pseudonym, ClassAlert.raised_at)
                .join(
                    ClassMember,
                    (ClassMember.class_session_id == ClassAlert.class_session_id)
                    & (ClassMember.learner_id == ClassAlert.learner_id),
                )
                .where(ClassAlert.class_session_id == row.id, ClassAlert.seen_at.is_(None))
                .order_by(ClassAlert.raised_at, ClassAlert.id)
            ).all()
        return [
            {"id": int(i), "pseudonym": str(p), "raised_at": r.isoformat() if r else None}
            for i, p, r in found
        ]

    def mark_alert_seen(self, teacher_id: int, code: str, alert_id: int) -> bool:
        """The teacher saw the alert: it leaves the dashboard. False if not theirs or seen."""
        if isinstance(alert_id, bool) or not isinstance(alert_id, int):
            return False
        with self._tx() as session:
            row = self._owned(session, teacher_id, code)
            if row is None:
                return False
            result = session.execute(
                update(ClassAlert)
                .where(
                    ClassAlert.id == alert_id,
                    ClassAlert.class_session_id == row.id,
                    ClassAlert.seen_at.is_(None),
                )
                .values(seen_at=self.clock())
                .execution_options(synchronize_session=False)
            )
            return bool(result.rowcount == 1)

    # ------------------------------------------------------------------ the dashboard

    def class_dashboard(self, teacher_id: int, code: str) -> dict[str, Any] | None:
        """The counts a teacher's dashboard shows, for their own session only (else None).

        Exact counts of distinct learners (the web app hides counts of 1 and 2):
        pseudonyms of those who joined, per story how many started / finished
        (and their best scores' average), per tactic how many spotted it (a safe
        choice on a step showing it) or missed it (a risky one), and the quiz.
        Never a row per learner, never text.
        """
        with self._tx(write=False) as session:
            row = self._owned(session, teacher_id, code)
            if row is None:
                return None
            info = _info(row)
            pseudonyms = list(
                session.execute(
                    select(ClassMember.pseudonym)
                    .where(ClassMember.class_session_id == row.id)
                    .order_by(ClassMember.joined_at, ClassMember.id)
                ).scalars()
            )
            starts = session.execute(
                select(ClassStoryStart.learner_id, ClassStoryStart.story_id)
                .where(ClassStoryStart.class_session_id == row.id)
                .distinct()
            ).all()
            finished = session.execute(
                select(
                    StoryProgress.learner_id,
                    StoryProgress.story_id,
                    StoryProgress.score,
                    StoryProgress.marks,
                ).where(StoryProgress.class_session_id == row.id)
            ).all()
            quiz_rows = session.execute(
                select(
                    QuizResult.learner_id,
                    QuizResult.tactic,
                    QuizResult.correct,
                    func.count(QuizResult.id),
                )
                .where(QuizResult.class_session_id == row.id)
                .group_by(QuizResult.learner_id, QuizResult.tactic, QuizResult.correct)
            ).all()
        return {
            **info,
            "joined": len(pseudonyms),
            "pseudonyms": [str(p) for p in pseudonyms],
            **_aggregate(starts, finished, quiz_rows),
        }

    # ------------------------------------------------------------------ projector and votes

    def projector(self, code: str) -> dict[str, Any] | None:
        """The session's projector state (anyone with the code; the web app decides what
        to show): ``status``, ``language``, ``story_id``, ``step_id``, ``round``, ``revealed``."""
        clean = validate.class_code(code)
        if clean is None:
            return None
        with self._tx(write=False) as session:
            found = session.execute(
                select(ClassSession, ClassProjector)
                .outerjoin(ClassProjector, ClassProjector.class_session_id == ClassSession.id)
                .where(ClassSession.code == clean)
            ).first()
            if found is None:
                return None
            row, state = found
            return {**_info(row), **_projector(state)}

    def projector_show(
        self, teacher_id: int, code: str, story_id: str | None, step_id: str | None
    ) -> dict[str, Any] | None:
        """Show a step (a new voting round, answers hidden) or nothing (both None).

        The teacher's own open session only; returns the new state, else None.
        """
        sid = None if story_id is None else validate.slug(story_id, "story id")
        step = None if step_id is None else validate.slug(step_id, "step id")
        with self._tx() as session:
            row = self._owned(session, teacher_id, code)
            if row is None or row.status != "open":
                return None
            state = session.get(ClassProjector, row.id)
            now = self.clock()
            if state is None:
                state = ClassProjector(class_session_id=row.id, poll_round=0, revealed=False)
                session.add(state)
            state.story_id = sid
            state.step_id = step
            state.poll_round = int(state.poll_round or 0) + 1
            state.revealed = False
            state.updated_at = now
            session.flush()
            return {**_info(row), **_projector(state)}

    def projector_reveal(self, teacher_id: int, code: str) -> bool:
        """Show the answers of the current round (votes close). False if nothing is shown."""
        with self._tx() as session:
            row = self._owned(session, teacher_id, code)
            if row is None:
                return False
            result = session.execute(
                update(ClassProjector)
                .where(
                    ClassProjector.class_session_id == row.id,
                    ClassProjector.step_id.isnot(None),
                )
                .values(revealed=True, updated_at=self.clock())
                .execution_options(synchronize_session=False)
            )
            return bool(result.rowcount == 1)

    def cast_vote(self, code: str, learner_id: str, poll_round: int, choice_id: str) -> str:
        """A child's vote for this round: ``"ok"`` (a later vote in the same round replaces
        the first: one vote per child per step), else ``"unknown"`` (no session),
        ``"ended"``, ``"not_member"`` (did not join) or ``"closed"`` (another round,
        answers shown, nothing on screen)."""
        clean = validate.class_code(code)
        lid = validate.learner_id(learner_id)
        choice = validate.slug(choice_id, "choice id")
        if isinstance(poll_round, bool) or not isinstance(poll_round, int):
            raise ValueError("round must be a whole number")
        if clean is None:
            return "unknown"
        with self._tx() as session:
            found = session.execute(
                select(ClassSession, ClassProjector)
                .outerjoin(ClassProjector, ClassProjector.class_session_id == ClassSession.id)
                .where(ClassSession.code == clean)
            ).first()
            if found is None:
                return "unknown"
            row, state = found
            if row.status != "open":
                return "ended"
            member = session.execute(
                select(ClassMember.id).where(
                    ClassMember.class_session_id == row.id, ClassMember.learner_id == lid
                )
            ).first()
            if member is None:
                return "not_member"
            if (
                state is None
                or state.step_id is None
                or state.revealed
                or state.poll_round != poll_round
            ):
                return "closed"
            now = self.clock()
            stmt = self._insert(session, ClassVote)
            values = {
                "class_session_id": row.id,
                "poll_round": poll_round,
                "learner_id": lid,
                "choice_id": choice,
                "voted_at": now,
            }
            if stmt is not None:
                session.execute(
                    stmt.values(**values).on_conflict_do_update(
                        index_elements=["class_session_id", "poll_round", "learner_id"],
                        set_={"choice_id": choice, "voted_at": now},
                    )
                )
            else:  # pragma: no cover - only SQLite and PostgreSQL are supported
                session.add(ClassVote(**values))
            return "ok"

    def my_vote(self, code: str, learner_id: str, poll_round: int) -> str | None:
        """The choice id this learner voted for in this round, if any."""
        clean = validate.class_code(code)
        if clean is None or not validate.is_learner_id(learner_id):
            return None
        with self._tx(write=False) as session:
            found = session.execute(
                select(ClassVote.choice_id)
                .join(ClassSession, ClassSession.id == ClassVote.class_session_id)
                .where(
                    ClassSession.code == clean,
                    ClassVote.poll_round == poll_round,
                    ClassVote.learner_id == learner_id,
                )
            ).scalar_one_or_none()
            return None if found is None else str(found)

    def vote_counts(self, teacher_id: int, code: str, poll_round: int) -> dict[str, int] | None:
        """``{choice_id: votes}`` of one round of the teacher's own session (else None)."""
        with self._tx(write=False) as session:
            row = self._owned(session, teacher_id, code)
            if row is None:
                return None
            counts = session.execute(
                select(ClassVote.choice_id, func.count(distinct(ClassVote.learner_id)))
                .where(ClassVote.class_session_id == row.id, ClassVote.poll_round == poll_round)
                .group_by(ClassVote.choice_id)
            ).all()
            return {str(choice): int(n) for choice, n in counts}

    # ------------------------------------------------------------------ retention helpers

    def _delete_class_rows_of_learners(self, session: Session, ids: Any) -> None:
        for model in (ClassAlert, ClassVote, ClassStoryStart, ClassMember):
            session.execute(model.__table__.delete().where(model.learner_id.in_(ids)))

    def _delete_class_rows_of_sessions(self, session: Session, ids: Any) -> None:
        for model in (ClassAlert, ClassVote, ClassStoryStart, ClassMember, ClassProjector):
            session.execute(model.__table__.delete().where(model.class_session_id.in_(ids)))


def _info(row: ClassSession) -> dict[str, Any]:
    return {
        "code": row.code,
        "language": row.language,
        "story_ids": list(row.story_ids),
        "status": row.status,
        "created_at": row.created_at.isoformat() if row.created_at else None,
        "ended_at": row.ended_at.isoformat() if row.ended_at else None,
        "title": row.title,
        "country": row.country,
        "age_band": row.age_band,
        "time_zone": row.time_zone,
    }


def _projector(state: ClassProjector | None) -> dict[str, Any]:
    if state is None:
        return {"story_id": None, "step_id": None, "round": 0, "revealed": False}
    return {
        "story_id": state.story_id,
        "step_id": state.step_id,
        "round": int(state.poll_round or 0),
        "revealed": bool(state.revealed),
    }


def _aggregate(starts: Any, finished: Any, quiz_rows: Any) -> dict[str, Any]:
    """Counts of distinct learners from the session's rows (see ``class_dashboard``)."""
    started: dict[str, set[str]] = {}
    done: dict[str, dict[str, int]] = {}  # story -> learner -> best score
    spotted: dict[str, set[str]] = {t: set() for t in TACTICS}
    missed: dict[str, set[str]] = {t: set() for t in TACTICS}
    # story -> step id -> "safe"/"risky" -> learners (marks written since 0004 carry step_id)
    by_step: dict[str, dict[str, dict[str, set[str]]]] = {}
    active: set[str] = set()
    for learner, story in starts:
        started.setdefault(story, set()).add(learner)
        active.add(learner)
    for learner, story, score, marks in finished:
        started.setdefault(story, set()).add(learner)
        best = done.setdefault(story, {})
        best[learner] = max(best.get(learner, 0), int(score))
        active.add(learner)
        for mark in marks or []:
            if not isinstance(mark, dict):
                continue
            tactic = mark.get("tactic")
            kind = "safe" if mark.get("mark") == "safe" else "risky"
            if tactic in spotted:
                (spotted if kind == "safe" else missed)[tactic].add(learner)
            if isinstance(mark.get("step_id"), str):
                step = by_step.setdefault(story, {}).setdefault(
                    mark["step_id"], {"safe": set(), "risky": set()}
                )
                step[kind].add(learner)
    stories = {}
    for story in sorted(started):
        scores = list(done.get(story, {}).values())
        stories[story] = {
            "started": len(started[story]),
            "finished": len(scores),
            "average_score": round(sum(scores) / len(scores)) if scores else None,
        }
    per_learner: dict[str, list[int]] = {}
    by_tactic: dict[str, dict[str, Any]] = {
        t: {"learners": set(), "answered": 0, "correct": 0} for t in TACTICS
    }
    for learner, tactic, correct, count in quiz_rows:
        active.add(learner)
        totals = per_learner.setdefault(learner, [0, 0])
        totals[0] += int(count)
        if correct:
            totals[1] += int(count)
        if tactic in by_tactic:
            entry = by_tactic[tactic]
            entry["learners"].add(learner)
            entry["answered"] += int(count)
            if correct:
                entry["correct"] += int(count)
    bands = {"low": 0, "middle": 0, "high": 0}  # under 50 %, 50-79 %, 80 % and more
    for answered, correct in per_learner.values():
        percent = 100 * correct / answered if answered else 0
        bands["high" if percent >= 80 else "middle" if percent >= 50 else "low"] += 1
    answered_all = sum(a for a, _ in per_learner.values())
    correct_all = sum(c for _, c in per_learner.values())
    return {
        "active": len(active),
        "stories": stories,
        "tactics": {t: {"spotted": len(spotted[t]), "missed": len(missed[t])} for t in TACTICS},
        "steps": {
            story: {
                step: {kind: len(learners) for kind, learners in marks.items()}
                for step, marks in steps.items()
            }
            for story, steps in sorted(by_step.items())
        },
        "quiz": {
            "learners": len(per_learner),
            "answered": answered_all,
            "correct": correct_all,
            "bands": bands,
            "by_tactic": {
                t: {
                    "learners": len(e["learners"]),
                    "answered": e["answered"],
                    "correct": e["correct"],
                }
                for t, e in by_tactic.items()
            },
        },
    }
