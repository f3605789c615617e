"""Concurrency on SQLite and PostgreSQL: a class of 30 finishing a story at the same
moment loses no update; racing awards, first visits and migrations stay consistent."""

from __future__ import annotations

import logging
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from sqlalchemy import func, select

from bot.paths import ROOT
from bot.storage import Store
from bot.storage.models import Badge, Learner, QuizResult, StoryProgress
from bot.storage.schema import migrate
from bot.storage.validate import new_learner_id

pytest_plugins = ["tests.storage_fixtures"]

CLASS_SIZE = 30


def run_together(n: int, work: Callable[[int], Any]) -> tuple[list[Any], list[float]]:
    """Run ``work(i)`` in ``n`` threads released at the same moment; results and seconds."""
    barrier = threading.Barrier(n)

    def one(i: int) -> tuple[Any, float]:
        barrier.wait()
        start = time.perf_counter()
        result = work(i)
        return result, time.perf_counter() - start

    with ThreadPoolExecutor(max_workers=n) as pool:
        outcomes = list(pool.map(one, range(n)))
    return [r for r, _ in outcomes], [t for _, t in outcomes]


def count(store: Store, model: object) -> int:
    with store._tx(write=False) as session:
        return int(session.execute(select(func.count()).select_from(model)).scalar_one())


def test_a_class_of_30_finishing_at_once_loses_nothing(
    store: Store, caplog: pytest.LogCaptureFixture
) -> None:
    teacher = store.create_teacher("prof.busy", "correct horse battery")
    code = store.create_class_session(teacher, "fr", ["lost_skin"])
    caplog.set_level(logging.DEBUG, logger="lumi.storage")

    joined, join_times = run_together(
        CLASS_SIZE, lambda i: store.ensure_learner(None, age_band="8-10", class_code=code)
    )
    assert all(joined) and len(set(joined)) == CLASS_SIZE
    pupils = [str(p) for p in joined]

    def finish(i: int) -> tuple[Any, ...]:
        lid = pupils[i]
        marks = [
            {"mark": "safe" if i % 2 == 0 else "risky", "tactic": "bribe"},
            {"mark": "safe", "tactic": "secrecy"},
            {"mark": "risky" if i % 3 == 0 else "safe", "tactic": "app_switch"},
        ]
        return (
            store.record_story_end(lid, "lost_skin", marks, i * 3),
            store.award_badge(lid, "first_story"),
            store.record_quiz_answer(lid, "bribe", i % 5 != 0),
        )

    results, finish_times = run_together(CLASS_SIZE, finish)
    assert results == [(True, True, True)] * CLASS_SIZE
    warnings = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert warnings == []
    retries = [r for r in caplog.records if "attempt" in r.getMessage()]

    assert count(store, Learner) == CLASS_SIZE
    assert count(store, StoryProgress) == CLASS_SIZE
    assert count(store, Badge) == CLASS_SIZE
    assert count(store, QuizResult) == CLASS_SIZE
    summary = store.class_summary(teacher, code)
    assert summary is not None
    assert summary["learners_joined"] == CLASS_SIZE
    assert summary["learners_active"] == CLASS_SIZE
    assert summary["stories"]["lost_skin"] == {
        "finished": CLASS_SIZE,
        "learners": CLASS_SIZE,
        "average_score": round(sum(i * 3 for i in range(CLASS_SIZE)) / CLASS_SIZE),
        "best_score": (CLASS_SIZE - 1) * 3,
    }
    assert summary["tactics"]["bribe"] == {"spotted": 15, "missed": 15}
    assert summary["tactics"]["secrecy"] == {"spotted": 30, "missed": 0}
    assert summary["tactics"]["app_switch"] == {"spotted": 20, "missed": 10}
    assert summary["quiz"]["bribe"] == {"answered": 30, "correct": 24}
    for pupil in pupils:
        progress = store.progress(pupil)
        assert progress is not None and progress["badges"] == ["first_story"]
    slowest, median = max(finish_times) * 1000, sorted(finish_times)[CLASS_SIZE // 2] * 1000
    print(
        f"\n[{store.engine.dialect.name}] {CLASS_SIZE} joins at once:"
        f" max {max(join_times) * 1000:.0f} ms;"
        f" {CLASS_SIZE} x (story end + badge + quiz) at once: max {slowest:.0f} ms,"
        f" median {median:.0f} ms; retries {len(retries)}"
    )


def test_racing_awards_of_one_badge_give_exactly_one_true(store: Store) -> None:
    lid = store.ensure_learner(None)
    assert lid is not None
    results, _ = run_together(20, lambda i: store.award_badge(lid, "quiz_star"))
    assert sorted(results, key=str) == [False] * 19 + [True]
    assert count(store, Badge) == 1


def test_racing_first_visits_of_one_learner_make_one_row(store: Store) -> None:
    lid = new_learner_id()
    results, _ = run_together(
        20, lambda i: store.ensure_learner(lid, language="fr" if i % 2 else "en")
    )
    assert results == [lid] * 20
    assert count(store, Learner) == 1
    data = store.export_learner(lid)
    assert data is not None and data["learner"]["language"] in ("fr", "en")


def test_racing_migrations_of_an_empty_database(storage_url: str) -> None:
    # Three processes (the action server, the web app, a CLI) starting at once.
    code = "import sys; from bot.storage.schema import migrate; print(migrate(sys.argv[1]))"
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", code, storage_url],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(3)
    ]
    outputs = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0, 0, 0], [err[-800:] for _, err in outputs]
    assert [out.strip() for out, _ in outputs] == ["0005"] * 3
    # And threads of one process.
    results, _ = run_together(4, lambda i: migrate(storage_url))
    assert results == ["0005"] * 4


def test_first_use_by_many_threads_migrates_once(storage_url: str) -> None:
    racing = Store(storage_url, auto_migrate=True)
    try:
        stores_results, _ = run_together(8, lambda i: racing.ensure_learner(None))
        assert all(stores_results)
    finally:
        racing.dispose()
