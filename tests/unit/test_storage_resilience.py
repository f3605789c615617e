"""Database down or locked: chat-path calls return failure quickly, with one log
line that names no learner in full, and never raise."""

from __future__ import annotations

import logging
import socket
import sqlite3
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import exc as sa_exc

from bot.storage import Store
from bot.storage.resilience import Policy, chat_safe, short_id
from bot.storage.validate import new_learner_id

NO_COOLDOWN = Policy(cooldown_s=0)
MARKS = [{"mark": "safe", "tactic": "bribe"}]

# name, call, failure value
CHAT_CALLS: list[tuple[str, Callable[[Store, str], Any], Any]] = [
    ("ensure_learner", lambda s, lid: s.ensure_learner(lid, age_band="8-10"), None),
    ("record_story_end", lambda s, lid: s.record_story_end(lid, "lost_skin", MARKS, 50), False),
    ("award_badge", lambda s, lid: s.award_badge(lid, "first_story"), None),
    ("record_quiz_answer", lambda s, lid: s.record_quiz_answer(lid, "bribe", True), False),
    ("progress", lambda s, lid: s.progress(lid), None),
]
WRITES = CHAT_CALLS[:4]


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def assert_one_quiet_failure(
    caplog: pytest.LogCaptureFixture,
    store: Store,
    name: str,
    call: Callable[[Store, str], Any],
    failure: Any,
    limit_s: float = 1.0,
) -> float:
    lid = new_learner_id()
    caplog.clear()
    start = time.perf_counter()
    with caplog.at_level(logging.DEBUG, logger="lumi.storage"):
        result = call(store, lid)
    elapsed = time.perf_counter() - start
    assert result is failure or result == failure, (name, result)
    assert elapsed < limit_s, (name, elapsed)
    lines = [r for r in caplog.records if r.name == "lumi.storage"]
    assert len(lines) == 1, [r.getMessage() for r in lines]
    message = lines[0].getMessage()
    assert lines[0].levelno == logging.WARNING
    assert name in message and "storage unavailable" in message
    assert lid not in message and short_id(lid) in message
    return elapsed


@pytest.fixture
def down_store() -> Iterator[Store]:
    url = f"postgresql+psycopg2://lumi:secret@127.0.0.1:{closed_port()}/lumi_test"
    store = Store(url, policy=NO_COOLDOWN)  # auto_migrate on: the first step fails too
    yield store
    store.dispose()


@pytest.mark.parametrize("name, call, failure", CHAT_CALLS, ids=[c[0] for c in CHAT_CALLS])
def test_postgres_down(
    down_store: Store, caplog: pytest.LogCaptureFixture, name: str, call: Any, failure: Any
) -> None:
    elapsed = assert_one_quiet_failure(caplog, down_store, name, call, failure, limit_s=0.7)
    assert "3 attempt(s)" in caplog.text
    assert "secret" not in caplog.text
    print(f"\n[postgresql down] {name}: failure after {elapsed * 1000:.0f} ms")


@pytest.fixture
def sqlite_store(tmp_path: Path) -> Iterator[Store]:
    store = Store(f"sqlite:///{tmp_path / 'lumi.db'}", auto_migrate=False, policy=NO_COOLDOWN)
    store.migrate()
    yield store
    store.dispose()


@pytest.fixture
def writer_lock(tmp_path: Path, sqlite_store: Store) -> Iterator[None]:
    """Another process in the middle of a long write (holds SQLite's writer lock)."""
    locker = sqlite3.connect(tmp_path / "lumi.db", isolation_level=None)
    locker.execute("BEGIN IMMEDIATE")
    locker.execute("INSERT INTO settings (key, value) VALUES ('retention_days', '30')")
    yield
    locker.execute("ROLLBACK")
    locker.close()


@pytest.mark.parametrize("name, call, failure", WRITES, ids=[c[0] for c in WRITES])
def test_sqlite_writer_lock_held_elsewhere(
    sqlite_store: Store,
    writer_lock: None,
    caplog: pytest.LogCaptureFixture,
    name: str,
    call: Any,
    failure: Any,
) -> None:
    elapsed = assert_one_quiet_failure(caplog, sqlite_store, name, call, failure)
    assert "OperationalError" in caplog.text
    print(f"\n[sqlite writer lock] {name}: failure after {elapsed * 1000:.0f} ms")


def test_sqlite_reads_go_on_while_a_writer_holds_the_lock(
    sqlite_store: Store, writer_lock: None, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="lumi.storage"):
        assert sqlite_store.progress(new_learner_id()) is not None  # WAL: readers not blocked
    assert caplog.records == []


@pytest.fixture
def exclusive_lock(tmp_path: Path, sqlite_store: Store) -> Iterator[None]:
    """A tool that took the whole file (exclusive locking mode): nobody can even read."""
    sqlite_store.dispose()  # close pooled connections, as after a restart
    locker = sqlite3.connect(tmp_path / "lumi.db", isolation_level=None)
    locker.execute("PRAGMA locking_mode=EXCLUSIVE")
    locker.execute("BEGIN EXCLUSIVE")
    locker.execute("INSERT INTO settings (key, value) VALUES ('retention_days', '30')")
    yield
    locker.execute("ROLLBACK")
    locker.close()


@pytest.mark.parametrize("name, call, failure", CHAT_CALLS, ids=[c[0] for c in CHAT_CALLS])
def test_sqlite_file_locked(
    sqlite_store: Store,
    exclusive_lock: None,
    caplog: pytest.LogCaptureFixture,
    name: str,
    call: Any,
    failure: Any,
) -> None:
    elapsed = assert_one_quiet_failure(caplog, sqlite_store, name, call, failure)
    print(f"\n[sqlite exclusive lock] {name}: failure after {elapsed * 1000:.0f} ms")


def test_lock_released_then_calls_work_again(
    sqlite_store: Store, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    locker = sqlite3.connect(tmp_path / "lumi.db", isolation_level=None)
    locker.execute("BEGIN IMMEDIATE")
    lid = new_learner_id()
    with caplog.at_level(logging.WARNING, logger="lumi.storage"):
        assert sqlite_store.record_quiz_answer(lid, "bribe", True) is False
    locker.execute("COMMIT")
    locker.close()
    assert sqlite_store.record_quiz_answer(lid, "bribe", True) is True
    progress = sqlite_store.progress(lid)
    assert progress is not None and progress["quiz"]["answered"] == 1


def test_a_brief_failure_is_retried(
    sqlite_store: Store, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    real = sqlite_store._touch_learner
    failures = iter([True, True])

    def flaky(*args: Any, **kwargs: Any) -> None:
        if next(failures, False):
            raise sa_exc.OperationalError("UPDATE", {}, Exception("server closed the connection"))
        real(*args, **kwargs)

    monkeypatch.setattr(sqlite_store, "_touch_learner", flaky)
    lid = new_learner_id()
    with caplog.at_level(logging.DEBUG, logger="lumi.storage"):
        assert sqlite_store.record_story_end(lid, "lost_skin", MARKS, 90) is True
    assert [r.levelno for r in caplog.records] == [logging.DEBUG]
    assert "attempt 3" in caplog.text
    progress = sqlite_store.progress(lid)
    assert progress is not None and progress["stories_finished"] == 1


def test_an_unexpected_error_is_not_retried_and_not_raised(
    sqlite_store: Store, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    calls = []

    def broken(*args: Any, **kwargs: Any) -> None:
        calls.append(1)
        raise RuntimeError("bug with a secret 'I told nobody' inside")

    monkeypatch.setattr(sqlite_store, "_touch_learner", broken)
    with caplog.at_level(logging.WARNING, logger="lumi.storage"):
        assert sqlite_store.award_badge(new_learner_id(), "first_story") is None
    assert len(calls) == 1 and len(caplog.records) == 1
    assert "storage error" in caplog.text and "RuntimeError" in caplog.text
    assert "told nobody" not in caplog.text


def test_after_a_failure_calls_skip_at_once_for_a_while(
    caplog: pytest.LogCaptureFixture,
) -> None:
    url = f"postgresql+psycopg2://lumi:secret@127.0.0.1:{closed_port()}/lumi_test"
    store = Store(url, policy=Policy(cooldown_s=0.5))
    try:
        lid = new_learner_id()
        with caplog.at_level(logging.WARNING, logger="lumi.storage"):
            assert store.record_quiz_answer(lid, "bribe", True) is False
            start = time.perf_counter()
            assert store.record_story_end(lid, "lost_skin", MARKS, 10) is False
            skipped = time.perf_counter() - start
        assert skipped < 0.02
        assert len(caplog.records) == 2
        assert "next try in" in caplog.records[1].getMessage()
        time.sleep(0.55)
        caplog.clear()
        with caplog.at_level(logging.WARNING, logger="lumi.storage"):
            assert store.progress(lid) is None
        assert "attempt(s)" in caplog.text  # tried again for real
    finally:
        store.dispose()


def test_malformed_database_url_does_not_break_the_chat(
    caplog: pytest.LogCaptureFixture,
) -> None:
    store = Store("this is not a database url")
    with caplog.at_level(logging.WARNING, logger="lumi.storage"):
        assert store.ensure_learner(None) is None
        assert store.progress(new_learner_id()) is None
    assert len(caplog.records) == 2


def test_chat_safe_decorates_plain_functions(caplog: pytest.LogCaptureFixture) -> None:
    attempts = []

    @chat_safe(default="fallback")
    def save_something(learner_id: str) -> str:
        attempts.append(1)
        raise sa_exc.OperationalError("INSERT", {}, Exception("database is locked"))

    lid = new_learner_id()
    with caplog.at_level(logging.WARNING, logger="lumi.storage"):
        assert save_something(lid) == "fallback"
    assert len(attempts) == 3 and len(caplog.records) == 1
    assert "save_something" in caplog.text and lid not in caplog.text
