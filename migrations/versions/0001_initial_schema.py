"""Initial schema (learners, progress, badges, quiz, classes, teachers, settings).

Frozen copy of ``bot/storage/models.py`` at this revision (no import from the
application, so later model changes do not rewrite history). Timestamps are
naive UTC (``bot.storage.models.UTCDateTime`` on the Python side).

Revision ID: 0001
Revises:
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "settings",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("value", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_settings")),
    )
    op.create_table(
        "teachers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(length=254), nullable=False),
        sa.Column("password_hash", sa.String(length=255), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_teachers")),
        sa.UniqueConstraint("username", name=op.f("uq_teachers_username")),
    )
    op.create_table(
        "class_sessions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("teacher_id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=6), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("story_ids", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=8), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("ended_at", sa.DateTime(), nullable=True),
        sa.CheckConstraint("status IN ('open', 'ended')", name=op.f("ck_class_sessions_status")),
        sa.ForeignKeyConstraint(
            ["teacher_id"],
            ["teachers.id"],
            name=op.f("fk_class_sessions_teacher_id_teachers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_class_sessions")),
        sa.UniqueConstraint("code", name=op.f("uq_class_sessions_code")),
    )
    op.create_index(
        "ix_class_sessions_teacher_created", "class_sessions", ["teacher_id", "created_at"]
    )
    op.create_table(
        "learners",
        sa.Column("id", sa.String(length=128), nullable=False),
        sa.Column("age_band", sa.String(length=8), nullable=True),
        sa.Column("language", sa.String(length=8), nullable=True),
        sa.Column("country", sa.String(length=8), nullable=True),
        sa.Column("class_session_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint(
            "age_band IS NULL OR age_band IN ('8-10', '11-13')", name=op.f("ck_learners_age_band")
        ),
        sa.ForeignKeyConstraint(
            ["class_session_id"],
            ["class_sessions.id"],
            name=op.f("fk_learners_class_session_id_class_sessions"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_learners")),
    )
    op.create_index("ix_learners_class_session_id", "learners", ["class_session_id"])
    op.create_index("ix_learners_last_seen_at", "learners", ["last_seen_at"])
    op.create_table(
        "badges",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("learner_id", sa.String(length=128), nullable=False),
        sa.Column("badge_id", sa.String(length=64), nullable=False),
        sa.Column("earned_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["learner_id"],
            ["learners.id"],
            name=op.f("fk_badges_learner_id_learners"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_badges")),
        sa.UniqueConstraint("learner_id", "badge_id", name="uq_badges_learner_badge"),
    )
    op.create_table(
        "quiz_results",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("learner_id", sa.String(length=128), nullable=False),
        sa.Column("tactic", sa.String(length=64), nullable=False),
        sa.Column("correct", sa.Boolean(), nullable=False),
        sa.Column("answered_at", sa.DateTime(), nullable=False),
        sa.Column("class_session_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["class_session_id"],
            ["class_sessions.id"],
            name=op.f("fk_quiz_results_class_session_id_class_sessions"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["learner_id"],
            ["learners.id"],
            name=op.f("fk_quiz_results_learner_id_learners"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_quiz_results")),
    )
    op.create_index("ix_quiz_results_class_session_id", "quiz_results", ["class_session_id"])
    op.create_index("ix_quiz_results_learner", "quiz_results", ["learner_id"])
    op.create_table(
        "story_progress",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("learner_id", sa.String(length=128), nullable=False),
        sa.Column("story_id", sa.String(length=64), nullable=False),
        sa.Column("marks", sa.JSON(), nullable=False),
        sa.Column("score", sa.Integer(), nullable=False),
        sa.Column("completed_at", sa.DateTime(), nullable=False),
        sa.Column("class_session_id", sa.Integer(), nullable=True),
        sa.CheckConstraint("score >= 0 AND score <= 100", name=op.f("ck_story_progress_score")),
        sa.ForeignKeyConstraint(
            ["class_session_id"],
            ["class_sessions.id"],
            name=op.f("fk_story_progress_class_session_id_class_sessions"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["learner_id"],
            ["learners.id"],
            name=op.f("fk_story_progress_learner_id_learners"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_story_progress")),
    )
    op.create_index("ix_story_progress_class_session_id", "story_progress", ["class_session_id"])
    op.create_index("ix_story_progress_learner_story", "story_progress", ["learner_id", "story_id"])


def downgrade() -> None:
    op.drop_table("story_progress")
    op.drop_table("quiz_results")
    op.drop_table("badges")
    op.drop_table("learners")
    op.drop_table("class_sessions")
    op.drop_table("teachers")
    op.drop_table("settings")
