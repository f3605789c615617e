"""Where Rasa keeps conversations, and how long: plain SQLAlchemy, no Rasa.

Conversations (Rasa's trackers, with no text a child typed and no text of
Lumi's replies: ``bot.privacy``) live in Rasa's own SQL tracker store, by
default a SQLite file ``conversations.db`` in the var directory, so a story,
a quiz or a support conversation goes on after a restart. ``TRACKER_STORE_URL``
points it at another database (e.g. PostgreSQL); ``REDIS_URL`` replaces it by
Redis with an expiry (``bot.launcher``).

Besides Rasa's ``events`` table the store keeps one row per conversation in
``lumi_conversation_state``: the few slots the REST channel passes to the NLU
(language choice, mode) and when the conversation was last saved. That time
is what expiry reads: a conversation idle for longer than
``TRACKER_TTL_SECONDS`` (2 hours, Rasa's session length) is deleted, events
and all, by the store itself (every few minutes) and by
``python -m bot.storage.cli purge``.
"""

from __future__ import annotations

import os
import time
from typing import Any

import sqlalchemy as sa

from bot.paths import var_dir

DB_FILE = "conversations.db"
URL_ENV = "TRACKER_STORE_URL"
TTL_ENV = "TRACKER_TTL_SECONDS"
DEFAULT_TTL_SECONDS = 7200
EVENTS_TABLE = "events"  # Rasa's SQLTrackerStore table

METADATA = sa.MetaData()
STATE = sa.Table(
    "lumi_conversation_state",
    METADATA,
    sa.Column("sender_id", sa.String(255), primary_key=True),
    sa.Column("state", sa.Text, nullable=False),  # JSON of bot.nlu_rules.STATE_SLOTS
    sa.Column("updated_at", sa.Float, nullable=False, index=True),
)
_EVENTS = sa.table(EVENTS_TABLE, sa.column("sender_id"), sa.column("timestamp"))


def store_url(url: str | None = None) -> str:
    """``url``, else ``TRACKER_STORE_URL``, else SQLite in the var directory."""
    raw = (url or os.environ.get(URL_ENV, "")).strip()
    if raw:
        if raw.startswith("postgres://"):
            raw = "postgresql+psycopg2://" + raw[len("postgres://") :]
        elif raw.startswith("postgresql://"):
            raw = "postgresql+psycopg2://" + raw[len("postgresql://") :]
        return raw
    return f"sqlite:///{var_dir() / DB_FILE}"


def ttl_seconds(env: dict[str, str] | None = None) -> int:
    raw = (os.environ if env is None else env).get(TTL_ENV, "")
    try:
        value = int(raw)
    except ValueError:
        return DEFAULT_TTL_SECONDS
    return value if value > 0 else DEFAULT_TTL_SECONDS


def expire(
    connection: sa.engine.Connection, older_than_seconds: float, now: float | None = None
) -> dict[str, int]:
    """Delete every conversation last saved more than ``older_than_seconds`` ago.

    Conversations without a state row (saved by another store) go by their
    newest event. Returns the counts deleted. Runs in the caller's transaction.
    """
    cutoff = (time.time() if now is None else now) - older_than_seconds
    idle = sa.select(STATE.c.sender_id).where(STATE.c.updated_at < cutoff)
    senders = set(connection.execute(idle).scalars())
    inspector = sa.inspect(connection)
    events = 0
    if inspector.has_table(EVENTS_TABLE):
        stateless = (
            sa.select(_EVENTS.c.sender_id)
            .where(_EVENTS.c.sender_id.not_in(sa.select(STATE.c.sender_id)))
            .group_by(_EVENTS.c.sender_id)
            .having(sa.func.max(_EVENTS.c.timestamp) < cutoff)
        )
        senders |= set(connection.execute(stateless).scalars())
        for chunk in _chunks(sorted(senders), 500):
            deleted = connection.execute(
                sa.delete(_EVENTS).where(_EVENTS.c.sender_id.in_(chunk))
            ).rowcount
            events += max(deleted or 0, 0)
    for chunk in _chunks(sorted(senders), 500):
        connection.execute(sa.delete(STATE).where(STATE.c.sender_id.in_(chunk)))
    return {"conversations": len(senders), "events": events}


def _chunks(items: list[Any], size: int) -> list[list[Any]]:
    return [items[i : i + size] for i in range(0, len(items), size)]


def purge(url: str | None = None, older_than_seconds: float | None = None) -> dict[str, Any]:
    """Expire idle conversations in the store at ``url`` (the command line's ``purge``)."""
    from bot.storage.engine import make_engine, safe_url

    target = store_url(url)
    engine = make_engine(target)
    try:
        with engine.begin() as connection:
            METADATA.create_all(connection)
            counts = expire(
                connection,
                ttl_seconds() if older_than_seconds is None else older_than_seconds,
            )
    finally:
        engine.dispose()
    return {"store": safe_url(target), **counts}
