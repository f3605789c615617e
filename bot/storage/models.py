"""The tables of Lumi's progress store (SQLAlchemy declarative, 2.0 style on 1.4).

What is kept is pseudonymous and structured: a random learner token, an age
band, a language, a country, which stories were finished with which score,
which choices were "safe" or "risky" (with the tactic of the step), badges and
quiz answers (right/wrong per tactic). No names, no free text, no message
content: no column can hold what a child typed (``tests/unit/test_storage_schema.py``
checks the schema).

The migrations in ``migrations/versions`` create exactly these tables; the
test suite compares them with this metadata.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import declarative_base
from sqlalchemy.sql.schema import Column
from sqlalchemy.types import TypeDecorator

from bot.storage.validate import TITLE_LEN  # a class session's label, written by the teacher

# Constraint names are fixed so migrations (and SQLite batch mode) can name them.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = MetaData(naming_convention=NAMING)
Base: Any = declarative_base(metadata=metadata)

# Sizes shared with the validators in bot.storage.validate.
ID_LEN = 128  # learner tokens
SLUG_LEN = 64  # story, badge, tactic ids
CODE_LEN = 6  # class codes


class UTCDateTime(TypeDecorator):
    """Timestamps stored as naive UTC on every database, returned as aware UTC."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Any) -> Any:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the store; use UTC-aware datetimes")
        return value.astimezone(dt.timezone.utc).replace(tzinfo=None)

    def process_result_value(self, value: Any, dialect: Any) -> Any:
        if value is None:
            return None
        return value.replace(tzinfo=dt.timezone.utc)


class Teacher(Base):
    __tablename__ = "teachers"

    id = Column(Integer, primary_key=True)
    # The one human-chosen identifier in the store (an adult's login: e-mail or user name).
    username = Column(String(254), nullable=False, unique=True)
    password_hash = Column(String(255), nullable=False)  # argon2id, never the password
    created_at = Column(UTCDateTime(), nullable=False)


class ClassSession(Base):
    __tablename__ = "class_sessions"
    __table_args__ = (
        CheckConstraint("status IN ('open', 'ended')", name="status"),
        CheckConstraint("age_band IS NULL OR age_band IN ('8-10', '11-13')", name="age_band"),
        Index("ix_class_sessions_teacher_created", "teacher_id", "created_at"),
    )

    id = Column(Integer, primary_key=True)
    teacher_id = Column(Integer, ForeignKey("teachers.id", ondelete="CASCADE"), nullable=False)
    code = Column(String(CODE_LEN), nullable=False, unique=True)
    language = Column(String(8), nullable=False)
    story_ids = Column(JSON, nullable=False)  # list of story ids (validated slugs)
    status = Column(String(8), nullable=False, default="open")
    created_at = Column(UTCDateTime(), nullable=False)
    ended_at = Column(UTCDateTime(), nullable=True)
    # 0004: what the teacher sets for the lesson. ``title`` is the session's label
    # written by the teacher ("CM2 B, Tuesday"; never a child's words), ``country``
    # sets the helplines the pupils see and the poster's, ``age_band`` the stories
    # offered, ``time_zone`` (IANA, from the teacher's browser) the times shown.
    title = Column(String(TITLE_LEN), nullable=True)
    country = Column(String(8), nullable=True)
    age_band = Column(String(8), nullable=True)
    time_zone = Column(String(64), nullable=True)


class Learner(Base):
    __tablename__ = "learners"
    __table_args__ = (
        CheckConstraint("age_band IS NULL OR age_band IN ('8-10', '11-13')", name="age_band"),
        Index("ix_learners_last_seen_at", "last_seen_at"),
    )

    id = Column(String(ID_LEN), primary_key=True)  # random URL-safe token kept by the browser
    age_band = Column(String(8), nullable=True)
    language = Column(String(8), nullable=True)
    country = Column(String(8), nullable=True)  # ISO 3166-1 alpha-2 or "INT"
    class_session_id = Column(
        Integer, ForeignKey("class_sessions.id", ondelete="SET NULL"), nullable=True, index=True
    )
    created_at = Column(UTCDateTime(), nullable=False)
    last_seen_at = Column(UTCDateTime(), nullable=False)


class StoryProgress(Base):
    """One finished story: the marks of each step (safe/risky + tactic), never text."""

    __tablename__ = "story_progress"
    __table_args__ = (
        CheckConstraint("score >= 0 AND score <= 100", name="score"),
        Index("ix_story_progress_learner_story", "learner_id", "story_id"),
    )

    id = Column(Integer, primary_key=True)
    learner_id = Column(
        String(ID_LEN), ForeignKey("learners.id", ondelete="CASCADE"), nullable=False
    )
    story_id = Column(String(SLUG_LEN), nullable=False)
    # [{"step": 1, "mark": "safe"|"risky", "tactic": "bribe"|null}, ...]
    marks = Column(JSON, nullable=False)
    score = Column(Integer, nullable=False)
    completed_at = Column(UTCDateTime(), nullable=False)
    # The class the learner was in when finishing (for aggregate class results).
    class_session_id = Column(
        Integer, ForeignKey("class_sessions.id", ondelete="SET NULL"), nullable=True, index=True
    )


class Badge(Base):
    __tablename__ = "badges"
    __table_args__ = (UniqueConstraint("learner_id", "badge_id", name="uq_badges_learner_badge"),)

    id = Column(Integer, primary_key=True)
    learner_id = Column(
        String(ID_LEN), ForeignKey("learners.id", ondelete="CASCADE"), nullable=False
    )
    badge_id = Column(String(SLUG_LEN), nullable=False)
    earned_at = Column(UTCDateTime(), nullable=False)


class QuizResult(Base):
    __tablename__ = "quiz_results"
    __table_args__ = (Index("ix_quiz_results_learner", "learner_id"),)

    id = Column(Integer, primary_key=True)
    learner_id = Column(
        String(ID_LEN), ForeignKey("learners.id", ondelete="CASCADE"), nullable=False
    )
    tactic = Column(String(SLUG_LEN), nullable=False)
    correct = Column(Boolean, nullable=False)
    answered_at = Column(UTCDateTime(), nullable=False)
    class_session_id = Column(
        Integer, ForeignKey("class_sessions.id", ondelete="SET NULL"), nullable=True, index=True
    )


class Setting(Base):
    """Known keys only (``bot.storage.validate.SETTINGS``): retention days, store_free_text."""

    __tablename__ = "settings"

    key = Column(String(64), primary_key=True)
    value = Column(String(64), nullable=False)


# ---------------------------------------------------------------- class lessons (0003)
# What a teacher's class session needs beyond the progress rows: who joined (a
# generated pseudonym, never a name), which stories were started, and the
# projector's current step with the children's votes (a choice id per child per
# round). No text: pseudonyms, steps and choices are ids; their words are in locales/.

PSEUDONYM_LEN = 32


class ClassMember(Base):
    """A learner who joined a class session, under a generated pseudonym (``blue-fox``)."""

    __tablename__ = "class_members"
    __table_args__ = (
        UniqueConstraint("class_session_id", "learner_id", name="uq_class_members_session_learner"),
        UniqueConstraint(
            "class_session_id", "pseudonym", name="uq_class_members_session_pseudonym"
        ),
        Index("ix_class_members_learner", "learner_id"),
    )

    id = Column(Integer, primary_key=True)
    class_session_id = Column(
        Integer, ForeignKey("class_sessions.id", ondelete="CASCADE"), nullable=False
    )
    learner_id = Column(
        String(ID_LEN), ForeignKey("learners.id", ondelete="CASCADE"), nullable=False
    )
    pseudonym = Column(String(PSEUDONYM_LEN), nullable=False)
    joined_at = Column(UTCDateTime(), nullable=False)


class ClassStoryStart(Base):
    """A story started by a learner while in an open class session (for "started" counts)."""

    __tablename__ = "class_story_starts"
    __table_args__ = (
        Index("ix_class_story_starts_session", "class_session_id", "story_id"),
        Index("ix_class_story_starts_learner", "learner_id"),
    )

    id = Column(Integer, primary_key=True)
    class_session_id = Column(
        Integer, ForeignKey("class_sessions.id", ondelete="CASCADE"), nullable=False
    )
    learner_id = Column(
        String(ID_LEN), ForeignKey("learners.id", ondelete="CASCADE"), nullable=False
    )
    story_id = Column(String(SLUG_LEN), nullable=False)
    started_at = Column(UTCDateTime(), nullable=False)


class ClassProjector(Base):
    """The step a teacher shows on the class screen; ``poll_round`` grows at every new step."""

    __tablename__ = "class_projector"

    class_session_id = Column(
        Integer, ForeignKey("class_sessions.id", ondelete="CASCADE"), primary_key=True
    )
    story_id = Column(String(SLUG_LEN), nullable=True)
    step_id = Column(String(SLUG_LEN), nullable=True)
    poll_round = Column(Integer, nullable=False, default=0)
    revealed = Column(Boolean, nullable=False, default=False)
    updated_at = Column(UTCDateTime(), nullable=False)


class ClassVote(Base):
    """One child's vote (a choice id) in one round of the projector: counts only are shown."""

    __tablename__ = "class_votes"
    __table_args__ = (
        UniqueConstraint(
            "class_session_id",
            "poll_round",
            "learner_id",
            name="uq_class_votes_session_round_learner",
        ),
        Index("ix_class_votes_learner", "learner_id"),
    )

    id = Column(Integer, primary_key=True)
    class_session_id = Column(
        Integer, ForeignKey("class_sessions.id", ondelete="CASCADE"), nullable=False
    )
    poll_round = Column(Integer, nullable=False)
    learner_id = Column(
        String(ID_LEN), ForeignKey("learners.id", ondelete="CASCADE"), nullable=False
    )
    choice_id = Column(String(SLUG_LEN), nullable=False)
    voted_at = Column(UTCDateTime(), nullable=False)


# ---------------------------------------------------------------- the adult in the room (0005)


class ClassAlert(Base):
    """A child in a class said yes to "Do you want me to tell your teacher you'd like to
    talk?". The teacher's dashboard shows the child's class pseudonym (nothing they
    wrote: this row has no text) until the teacher marks it seen."""

    __tablename__ = "class_alerts"
    __table_args__ = (
        Index("ix_class_alerts_session_seen", "class_session_id", "seen_at"),
        Index("ix_class_alerts_learner", "learner_id"),
    )

    id = Column(Integer, primary_key=True)
    class_session_id = Column(
        Integer, ForeignKey("class_sessions.id", ondelete="CASCADE"), nullable=False
    )
    learner_id = Column(
        String(ID_LEN), ForeignKey("learners.id", ondelete="CASCADE"), nullable=False
    )
    raised_at = Column(UTCDateTime(), nullable=False)
    seen_at = Column(UTCDateTime(), nullable=True)
