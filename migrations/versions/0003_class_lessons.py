"""Class lessons: members with pseudonyms, story starts, the projector and its votes.

Frozen copy of the four new tables of ``bot/storage/models.py`` (no import from
the application). Nothing here can hold text: pseudonyms are ids such as
``blue-fox`` (their words are in ``locales/teacher.*.yml``), steps and choices are
story ids, votes are one choice id per child per round. Every row goes with its
class session (``ON DELETE CASCADE``) and with its learner.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def _session_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["class_session_id"],
        ["class_sessions.id"],
        name=op.f(f"fk_{table}_class_session_id_class_sessions"),
        ondelete="CASCADE",
    )


def _learner_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["learner_id"],
        ["learners.id"],
        name=op.f(f"fk_{table}_learner_id_learners"),
        ondelete="CASCADE",
    )


def upgrade() -> None:
    op.create_table(
        "class_members",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("class_session_id", sa.Integer(), nullable=False),
        sa.Column("learner_id", sa.String(length=128), nullable=False),
        sa.Column("pseudonym", sa.String(length=32), nullable=False),
        sa.Column("joined_at", sa.DateTime(), nullable=False),
        _session_fk("class_members"),
        _learner_fk("class_members"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_class_members")),
        sa.UniqueConstraint(
            "class_session_id", "learner_id", name="uq_class_members_session_learner"
        ),
        sa.UniqueConstraint(
            "class_session_id", "pseudonym", name="uq_class_members_session_pseudonym"
        ),
    )
    op.create_index("ix_class_members_learner", "class_members", ["learner_id"])
    op.create_table(
        "class_story_starts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("class_session_id", sa.Integer(), nullable=False),
        sa.Column("learner_id", sa.String(length=128), nullable=False),
        sa.Column("story_id", sa.String(length=64), nullable=False),
        sa.Column("started_at", sa.DateTime(), nullable=False),
        _session_fk("class_story_starts"),
        _learner_fk("class_story_starts"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_class_story_starts")),
    )
    op.create_index(
        "ix_class_story_starts_session", "class_story_starts", ["class_session_id", "story_id"]
    )
    op.create_index("ix_class_story_starts_learner", "class_story_starts", ["learner_id"])
    op.create_table(
        "class_projector",
        sa.Column("class_session_id", sa.Integer(), nullable=False),
        sa.Column("story_id", sa.String(length=64), nullable=True),
        sa.Column("step_id", sa.String(length=64), nullable=True),
        sa.Column("poll_round", sa.Integer(), nullable=False),
        sa.Column("revealed", sa.Boolean(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        _session_fk("class_projector"),
        sa.PrimaryKeyConstraint("class_session_id", name=op.f("pk_class_projector")),
    )
    op.create_table(
        "class_votes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("class_session_id", sa.Integer(), nullable=False),
        sa.Column("poll_round", sa.Integer(), nullable=False),
        sa.Column("learner_id", sa.String(length=128), nullable=False),
        sa.Column("choice_id", sa.String(length=64), nullable=False),
        sa.Column("voted_at", sa.DateTime(), nullable=False),
        _session_fk("class_votes"),
        _learner_fk("class_votes"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_class_votes")),
        sa.UniqueConstraint(
            "class_session_id",
            "poll_round",
            "learner_id",
            name="uq_class_votes_session_round_learner",
        ),
    )
    op.create_index("ix_class_votes_learner", "class_votes", ["learner_id"])


def downgrade() -> None:
    op.drop_table("class_votes")
    op.drop_table("class_projector")
    op.drop_table("class_story_starts")
    op.drop_table("class_members")
