"""Alembic environment for Lumi's progress store.

Used two ways:
- from Python, ``bot.storage.schema.migrate()`` passes its engine in
  ``config.attributes["engine"]`` (logging is left alone);
- from the shell, ``.venv/bin/alembic upgrade head`` (``alembic.ini``) uses
  ``DATABASE_URL`` or the default SQLite file, like the application.

The whole run is one transaction: ``BEGIN IMMEDIATE`` with foreign keys off on
SQLite (tables rebuilt in batch mode keep their rows), an advisory lock on
PostgreSQL, so two processes migrating at once do it one after the other.
"""

from __future__ import annotations

from logging.config import fileConfig

from alembic import context

from bot.storage.engine import make_engine
from bot.storage.models import metadata

config = context.config
target_metadata = metadata

# Any constant works; it only has to be the same in every Lumi process.
ADVISORY_LOCK_KEY = 7_245_861_303


def run_migrations_offline() -> None:
    context.configure(
        url=config.get_main_option("sqlalchemy.url") or str(make_engine().url),
        target_metadata=target_metadata,
        literal_binds=True,
        dialect_opts={"paramstyle": "named"},
        render_as_batch=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    engine = config.attributes.get("engine")
    own = engine is None
    if own:
        if config.config_file_name is not None:
            fileConfig(config.config_file_name, disable_existing_loggers=False)
        engine = make_engine(config.get_main_option("sqlalchemy.url") or None)
    migrating = engine.execution_options(lumi_begin="IMMEDIATE", lumi_migrating=True)
    try:
        with migrating.begin() as connection:
            if connection.dialect.name == "postgresql":
                connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({ADVISORY_LOCK_KEY})")
            context.configure(
                connection=connection,
                target_metadata=target_metadata,
                render_as_batch=connection.dialect.name == "sqlite",
                compare_type=True,
                transactional_ddl=True,
            )
            with context.begin_transaction():
                context.run_migrations()
    finally:
        if own:
            engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
