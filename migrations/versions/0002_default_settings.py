"""Default settings: store_free_text = false.

Written down so the choice is visible in the database: nothing a child types
is kept unless a grown-up turns this on (and even then no table of this store
holds text). retention_days is not written: its default follows the
RETENTION_DAYS environment variable (365 if unset) until someone sets it.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

settings = sa.table("settings", sa.column("key", sa.String), sa.column("value", sa.String))


def upgrade() -> None:
    op.bulk_insert(settings, [{"key": "store_free_text", "value": "false"}])


def downgrade() -> None:
    op.execute(settings.delete().where(settings.c.key == "store_free_text"))
