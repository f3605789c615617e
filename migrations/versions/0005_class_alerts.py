"""The adult in the room: a child's "yes, tell my teacher I'd like to talk".

One row per request: the session, the pseudonymous learner, when it was asked
and when the teacher marked it seen. No text at all (the dashboard shows the
child's class pseudonym, never what they wrote). Rows go with their session
and their learner (``ON DELETE CASCADE``; ``erase_learner`` and ``purge`` delete
them explicitly too).

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "class_alerts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("class_session_id", sa.Integer(), nullable=False),
        sa.Column("learner_id", sa.String(length=128), nullable=False),
        sa.Column("raised_at", sa.DateTime(), nullable=False),
        sa.Column("seen_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["class_session_id"],
            ["class_sessions.id"],
            name=op.f("fk_class_alerts_class_session_id_class_sessions"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["learner_id"],
            ["learners.id"],
            name=op.f("fk_class_alerts_learner_id_learners"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_class_alerts")),
    )
    op.create_index("ix_class_alerts_session_seen", "class_alerts", ["class_session_id", "seen_at"])
    op.create_index("ix_class_alerts_learner", "class_alerts", ["learner_id"])


def downgrade() -> None:
    op.drop_table("class_alerts")
