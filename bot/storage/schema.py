"""Alembic migrations, run from Python (server start, tests, CLI) or the ``alembic`` command.

``migrate()`` upgrades any database (empty or older) to the newest revision in
``migrations/versions``. Two processes starting at once are safe: the whole
upgrade runs in one transaction, behind ``BEGIN IMMEDIATE`` on SQLite and a
transaction-level advisory lock on PostgreSQL (``migrations/env.py``).
"""

from __future__ import annotations

import threading
from typing import Any

from sqlalchemy.engine import URL, Engine

from bot.paths import ROOT
from bot.storage.engine import make_engine

MIGRATIONS_DIR = ROOT / "migrations"

# Alembic's ``context`` is module-global: one migration at a time per process.
# Between processes, the database serialises them (see migrations/env.py).
_alembic_lock = threading.RLock()


def alembic_config(engine: Engine | None = None) -> Any:
    """An Alembic ``Config`` pointing at ``migrations/`` (no ini file, logging untouched)."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    if engine is not None:
        config.attributes["engine"] = engine
    return config


def _run(url: str | URL | None, engine: Engine | None, action: str, revision: str) -> str | None:
    from alembic import command

    own = engine is None
    bound = engine if engine is not None else make_engine(url)
    try:
        config = alembic_config(bound)
        with _alembic_lock:
            getattr(command, action)(config, revision)
        return current_revision(engine=bound)
    finally:
        if own:
            bound.dispose()


def migrate(
    url: str | URL | None = None, revision: str = "head", *, engine: Engine | None = None
) -> str | None:
    """Upgrade the database at ``url`` (default: ``DATABASE_URL`` or SQLite) to ``revision``.

    Returns the revision the database is at afterwards.
    """
    return _run(url, engine, "upgrade", revision)


def downgrade(
    url: str | URL | None = None, revision: str = "base", *, engine: Engine | None = None
) -> str | None:
    """Downgrade to ``revision`` ("base": drop every table of the store)."""
    return _run(url, engine, "downgrade", revision)


def current_revision(url: str | URL | None = None, *, engine: Engine | None = None) -> str | None:
    """The revision the database is at, or None for an empty database."""
    from alembic.runtime.migration import MigrationContext

    own = engine is None
    bound = engine if engine is not None else make_engine(url)
    try:
        with bound.connect() as conn:
            return MigrationContext.configure(conn).get_current_revision()
    finally:
        if own:
            bound.dispose()


def head_revision() -> str | None:
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config()).get_current_head()
