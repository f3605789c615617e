"""Fixtures for the storage tests: one store per test, on SQLite and on PostgreSQL.

A test module loads them with ``pytest_plugins = ["tests.storage_fixtures"]``
(tests/conftest.py belongs to the whole suite). Fixtures: ``storage_url`` (an
empty database, parametrised sqlite/postgresql), ``store`` (a migrated
:class:`Store` on it), ``store_clock`` (moves the store's time),
``storage_pg_admin`` (an engine on the test PostgreSQL database).

PostgreSQL is used when ``TEST_DATABASE_URL`` is set, in the environment or in
``var/services.env`` (``scripts/services.sh start`` writes it). Each test gets
its own schema (``search_path``), dropped afterwards, so tests never see each
other's rows nor the tables of other test suites in the same database. Without
a reachable server the PostgreSQL cases are skipped, or FAIL when
``LUMI_REQUIRE_POSTGRES=1``.
"""

from __future__ import annotations

import datetime as dt
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from bot.paths import ROOT
from bot.storage import Store
from bot.storage.engine import make_engine, safe_url

BACKENDS = [
    pytest.param("sqlite", id="sqlite"),
    pytest.param("postgresql", id="postgresql", marks=pytest.mark.postgres),
]


def services_env_files() -> list[Path]:
    files = [ROOT / "var" / "services.env"]
    if os.environ.get("LUMI_VAR_DIR"):
        files.insert(0, Path(os.environ["LUMI_VAR_DIR"]) / "services.env")
    return files


def postgres_url() -> str | None:
    """TEST_DATABASE_URL from the environment, else from var/services.env."""
    url = os.environ.get("TEST_DATABASE_URL", "").strip()
    if url:
        return url
    for path in services_env_files():
        if path.is_file():
            for line in path.read_text(encoding="utf-8").splitlines():
                if line.startswith("TEST_DATABASE_URL="):
                    return line.split("=", 1)[1].strip()
    return None


def postgres_required() -> bool:
    return os.environ.get("LUMI_REQUIRE_POSTGRES", "").strip() == "1"


def _unavailable(reason: str) -> None:
    if postgres_required():
        pytest.fail(f"LUMI_REQUIRE_POSTGRES=1 but {reason}", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def storage_pg_admin() -> Iterator[object]:
    """An engine on the test PostgreSQL database (skip or fail when there is none)."""
    url = postgres_url()
    if url is None:
        _unavailable("no TEST_DATABASE_URL (run: bash scripts/services.sh start)")
    assert url is not None
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            conn.exec_driver_sql("SELECT 1")
    except Exception as error:  # noqa: BLE001
        engine.dispose()
        _unavailable(f"PostgreSQL at {safe_url(url)} unreachable ({type(error).__name__})")
    yield engine
    engine.dispose()


def fresh_database(request: pytest.FixtureRequest, backend: str, tmp_path: Path) -> Iterator[str]:
    if backend == "sqlite":
        yield f"sqlite:///{tmp_path / 'lumi.db'}"
        return
    admin = request.getfixturevalue("storage_pg_admin")
    url = postgres_url()
    assert url is not None
    schema = f"lumi_t_{uuid.uuid4().hex[:12]}"
    with admin.begin() as conn:
        conn.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
    try:
        yield (
            make_url(url)
            .update_query_dict({"options": f"-csearch_path={schema}"})
            .render_as_string(hide_password=False)
        )
    finally:
        with admin.begin() as conn:
            conn.exec_driver_sql(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


@pytest.fixture(params=BACKENDS)
def storage_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """The URL of an empty database: SQLite file, or a fresh PostgreSQL schema."""
    yield from fresh_database(request, request.param, tmp_path)


class Clock:
    """Real UTC time moved by an offset, so tests can make rows old."""

    def __init__(self) -> None:
        self.offset = dt.timedelta(0)

    def __call__(self) -> dt.datetime:
        return dt.datetime.now(dt.timezone.utc) + self.offset

    def shift(self, **delta: float) -> None:
        self.offset += dt.timedelta(**delta)


@pytest.fixture
def store_clock() -> Clock:
    return Clock()


@pytest.fixture
def store(storage_url: str, store_clock: Clock) -> Iterator[Store]:
    """A migrated store on a fresh database."""
    s = Store(storage_url, auto_migrate=False, clock=store_clock)
    s.migrate()
    yield s
    s.dispose()
