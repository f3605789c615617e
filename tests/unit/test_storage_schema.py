"""Storage schema: migrations up/down/up on both databases, models = migrations,
no column that could hold what a child typed, nothing opened at import time."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import JSON, String, inspect

from bot.paths import ROOT
from bot.storage import Store
from bot.storage.engine import make_engine
from bot.storage.models import metadata
from bot.storage.schema import current_revision, downgrade, head_revision, migrate

pytest_plugins = ["tests.storage_fixtures"]

TABLES = {
    "learners",
    "story_progress",
    "badges",
    "quiz_results",
    "class_sessions",
    "teachers",
    "settings",
    "class_members",
    "class_story_starts",
    "class_projector",
    "class_votes",
    "class_alerts",
}


def _tables(url: str) -> set[str]:
    engine = make_engine(url)
    try:
        return set(inspect(engine).get_table_names()) - {"alembic_version"}
    finally:
        engine.dispose()


def test_upgrade_downgrade_upgrade(storage_url: str) -> None:
    assert _tables(storage_url) == set()
    assert current_revision(storage_url) is None
    head = head_revision()
    assert migrate(storage_url) == head == "0005"
    assert _tables(storage_url) == TABLES
    assert downgrade(storage_url) is None
    assert _tables(storage_url) == set()
    assert migrate(storage_url) == head
    assert _tables(storage_url) == TABLES
    # Running it again changes nothing.
    assert migrate(storage_url) == head


def test_upgrade_between_versions_keeps_rows(storage_url: str) -> None:
    assert migrate(storage_url, "0001") == "0001"
    engine = make_engine(storage_url)
    try:
        with engine.begin() as conn:
            conn.exec_driver_sql(
                "INSERT INTO learners (id, created_at, last_seen_at) "
                "VALUES ('keep-me-please', '2026-01-01 00:00:00', '2026-01-01 00:00:00')"
            )
            assert conn.exec_driver_sql("SELECT count(*) FROM settings").scalar() == 0
        assert migrate(storage_url) == "0005"
        with engine.connect() as conn:
            assert conn.exec_driver_sql("SELECT id FROM learners").scalars().all() == [
                "keep-me-please"
            ]
            assert (
                conn.exec_driver_sql(
                    "SELECT value FROM settings WHERE key = 'store_free_text'"
                ).scalar()
                == "false"
            )
        assert downgrade(storage_url, "0001") == "0001"
        with engine.connect() as conn:
            assert conn.exec_driver_sql("SELECT count(*) FROM settings").scalar() == 0
            assert conn.exec_driver_sql("SELECT count(*) FROM learners").scalar() == 1
    finally:
        engine.dispose()


def test_models_match_migrations(storage_url: str) -> None:
    migrate(storage_url)
    engine = make_engine(storage_url)
    try:
        with engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            diff = compare_metadata(context, metadata)
    finally:
        engine.dispose()
    assert diff == []


def test_store_settings_after_migration(storage_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("RETENTION_DAYS", raising=False)
    store = Store(storage_url)  # auto_migrate on first use
    try:
        assert store.settings() == {"retention_days": 365, "store_free_text": False}
        assert current_revision(storage_url) == "0005"
    finally:
        store.dispose()


# What a column may be called: nothing that sounds like a message, a text or a name,
# except the teacher's login and the ids of stories and badges.
FORBIDDEN = (
    "text",
    "message",
    "content",
    "name",
    "body",
    "comment",
    "note",
    "email",
    "phone",
    "address",
    "school",
    "utterance",
)
FORBIDDEN_WORDS = ("answer", "reply", "input", "free", "chat", "msg", "said", "typed")
ALLOWED = {("teachers", "username"), ("story_progress", "story_id"), ("badges", "badge_id")}


def test_no_column_can_hold_message_content(storage_url: str) -> None:
    migrate(storage_url)
    engine = make_engine(storage_url)
    try:
        inspector = inspect(engine)
        columns = {
            (table, col["name"]): col
            for table in inspector.get_table_names()
            if table != "alembic_version"
            for col in inspector.get_columns(table)
        }
    finally:
        engine.dispose()
    assert len(columns) >= 35
    for table, name in columns:
        if (table, name) in ALLOWED:
            continue
        assert not any(word in name.lower() for word in FORBIDDEN), (table, name)
        assert not set(name.lower().split("_")) & set(FORBIDDEN_WORDS), (table, name)
    # Strings are short and bounded; the only unbounded columns are JSON lists of
    # validated ids and marks (see bot.storage.validate.marks).
    for table in metadata.sorted_tables:
        for column in table.columns:
            if isinstance(column.type, JSON):
                assert (table.name, column.name) in {
                    ("story_progress", "marks"),
                    ("class_sessions", "story_ids"),
                }
            elif isinstance(column.type, String):
                assert column.type.length is not None and column.type.length <= 255, column


def test_import_opens_nothing(tmp_path: Path) -> None:
    env = {**os.environ, "LUMI_VAR_DIR": str(tmp_path / "var")}
    env.pop("DATABASE_URL", None)
    code = "import bot.storage, bot.storage.cli, bot.storage.schema; print('ok')"
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "ok"
    assert not (tmp_path / "var").exists()


def test_default_sqlite_file_created_on_first_use(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LUMI_VAR_DIR", str(tmp_path / "var"))
    monkeypatch.delenv("DATABASE_URL", raising=False)
    store = Store()
    assert not (tmp_path / "var" / "lumi.db").exists()
    try:
        learner = store.ensure_learner(None, language="fr")
        assert learner is not None
        assert (tmp_path / "var" / "lumi.db").is_file()
        engine = make_engine(store.url)
        with engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        engine.dispose()
    finally:
        store.dispose()


def test_database_url_switches_backend(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from bot.storage.engine import database_url

    monkeypatch.setenv("DATABASE_URL", "postgres://u:p@db.example:5432/lumi")
    assert database_url() == "postgresql+psycopg2://u:p@db.example:5432/lumi"
    assert Store().url.startswith("postgresql+psycopg2://")
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path}/other.db")
    assert Store().url == f"sqlite:///{tmp_path}/other.db"
    monkeypatch.delenv("DATABASE_URL")
    monkeypatch.setenv("LUMI_VAR_DIR", str(tmp_path))
    assert Store().url == f"sqlite:///{tmp_path}/lumi.db"
