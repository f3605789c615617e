"""Engines: SQLite by default, any SQLAlchemy URL (PostgreSQL) through ``DATABASE_URL``.

Nothing happens at import time: :func:`make_engine` is called by a
:class:`bot.storage.store.Store` on its first use, and the SQLite file appears
on the first connection.

SQLite is set up for several writers (the action server, the web app, the CLI):
WAL journal, ``synchronous=NORMAL``, foreign keys on, a busy timeout, and
write transactions opened with ``BEGIN IMMEDIATE`` so two writers queue on the
busy timeout instead of failing when a read lock cannot be upgraded.

Per-transaction behaviour is chosen with execution options on the engine:

- ``lumi_begin``: ``"IMMEDIATE"`` for write transactions (SQLite only);
- ``lumi_busy_ms``: how long a statement may wait for a lock (SQLite
  ``busy_timeout``; PostgreSQL ``lock_timeout``, and ``statement_timeout``
  250 ms longer), short on the chat path;
- ``lumi_migrating``: foreign keys off while Alembic rebuilds SQLite tables.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import URL, Engine, make_url
from sqlalchemy.future import create_engine
from sqlalchemy.pool import QueuePool

from bot.paths import var_dir

DEFAULT_DB_FILE = "lumi.db"

# Lock waits (milliseconds). Chat-path calls use CHAT_BUSY_MS and retry (resilience.py).
BUSY_MS = 5000
CHAT_BUSY_MS = 250


def database_url(url: str | URL | None = None) -> str:
    """The URL to use: ``url``, else ``DATABASE_URL``, else SQLite in ``var_dir()``."""
    if url is not None and str(url).strip():
        raw = str(url) if isinstance(url, str) else url.render_as_string(hide_password=False)
    else:
        raw = os.environ.get("DATABASE_URL", "").strip()
        if not raw:
            return f"sqlite:///{var_dir() / DEFAULT_DB_FILE}"
    # Heroku-style and bare URLs: use the installed driver.
    if raw.startswith("postgres://"):
        raw = "postgresql+psycopg2://" + raw[len("postgres://") :]
    elif raw.startswith("postgresql://"):
        raw = "postgresql+psycopg2://" + raw[len("postgresql://") :]
    return raw


def safe_url(url: str | URL) -> str:
    """The URL without its password, for messages."""
    try:
        return make_url(str(url) if not isinstance(url, URL) else url).render_as_string(
            hide_password=True
        )
    except Exception:  # noqa: BLE001 - a malformed URL is shown as such
        return "<malformed database URL>"


def make_engine(url: str | URL | None = None) -> Engine:
    """A new engine for ``url`` (see :func:`database_url`), with Lumi's settings."""
    parsed = make_url(database_url(url))
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        return _sqlite_engine(parsed)
    if backend == "postgresql":
        return _postgresql_engine(parsed)
    return create_engine(parsed, future=True, pool_pre_ping=True)


def _sqlite_engine(url: URL) -> Engine:
    database = url.database or ""
    if database and database != ":memory:" and not database.startswith("file:"):
        Path(database).expanduser().resolve().parent.mkdir(parents=True, exist_ok=True)
    # A pool that keeps connections open: with SQLAlchemy 1.4's default (a new
    # connection per transaction), every commit closes the last connection, which
    # checkpoints and deletes the WAL file: 7-13 ms a write instead of about 1.
    engine = create_engine(
        url,
        future=True,
        poolclass=QueuePool,
        pool_size=5,
        max_overflow=25,
        pool_timeout=1.0,
        # The connect-time pragmas wait at most the chat-path lock wait; each
        # transaction then sets its own busy_timeout (below).
        connect_args={"timeout": CHAT_BUSY_MS / 1000, "check_same_thread": False},
    )

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # The driver must not open transactions itself: BEGIN is ours (below).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        options = conn.get_execution_options()
        busy = int(options.get("lumi_busy_ms", BUSY_MS))
        foreign_keys = "OFF" if options.get("lumi_migrating") else "ON"
        mode = "IMMEDIATE" if options.get("lumi_begin") == "IMMEDIATE" else "DEFERRED"
        conn.exec_driver_sql(f"PRAGMA busy_timeout = {busy}")
        conn.exec_driver_sql(f"PRAGMA foreign_keys = {foreign_keys}")
        conn.exec_driver_sql(f"BEGIN {mode}")

    return engine


def _postgresql_engine(url: URL) -> Engine:
    if url.drivername == "postgresql":
        url = url.set(drivername="postgresql+psycopg2")
    engine = create_engine(
        url,
        future=True,
        pool_size=10,
        max_overflow=20,
        pool_timeout=1.0,
        pool_pre_ping=True,
        pool_recycle=1800,
        # libpq rounds connect timeouts below 2 s up to 2 s.
        connect_args={"connect_timeout": 2, "application_name": "lumi"},
    )

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        busy = conn.get_execution_options().get("lumi_busy_ms")
        if busy is not None:
            busy = int(busy)
            conn.exec_driver_sql(
                f"SET LOCAL lock_timeout = {busy}; SET LOCAL statement_timeout = {busy + 250}"
            )

    return engine
