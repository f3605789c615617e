"""Class sessions: a title, a country, an age band and a time zone set by the teacher.

``title`` is the teacher's label for the lesson ("CM2 B, Tuesday"), at most 60
characters, written by an adult; no child's words go here. ``country`` decides
the helplines the pupils see and the poster's numbers; ``age_band`` the stories
offered in the session; ``time_zone`` (an IANA name from the teacher's browser)
how times are shown. All nullable: sessions started before keep working.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("class_sessions") as batch:
        batch.add_column(sa.Column("title", sa.String(length=60), nullable=True))
        batch.add_column(sa.Column("country", sa.String(length=8), nullable=True))
        batch.add_column(sa.Column("age_band", sa.String(length=8), nullable=True))
        batch.add_column(sa.Column("time_zone", sa.String(length=64), nullable=True))
        batch.create_check_constraint(
            op.f("ck_class_sessions_age_band"), "age_band IS NULL OR age_band IN ('8-10', '11-13')"
        )


def downgrade() -> None:
    with op.batch_alter_table("class_sessions") as batch:
        batch.drop_constraint(op.f("ck_class_sessions_age_band"), type_="check")
        batch.drop_column("time_zone")
        batch.drop_column("age_band")
        batch.drop_column("country")
        batch.drop_column("title")
