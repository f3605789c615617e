"""Progress is saved for a learner with a pseudonymous id, and restored when they return."""

from __future__ import annotations

import pytest

from bot import progress, storage
from bot.conversation import Reply
from tests.conftest import make_turn


@pytest.fixture
def db(tmp_path, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'lumi.db'}")
    storage.configure(f"sqlite:///{tmp_path / 'lumi.db'}")
    storage.migrate()
    yield
    storage.configure(None)


def test_nothing_is_saved_without_a_learner_id(db):
    reply = Reply("en").record("badge", badge_id="badge_bribe")
    assert progress.save(make_turn(), reply) == 0


def test_story_end_quiz_and_badge_are_saved_and_restored(db):
    learner = storage.ensure_learner(None)
    turn = make_turn(learner_id=learner)
    reply = (
        Reply("en")
        .record(
            "story_end",
            story_id="skin_gift",
            score=75,
            marks=[{"step": 0, "mark": "safe", "tactic": "bribe"}],
        )
        .record("quiz_answer", tactic="secrecy", correct=True)
        .record("badge", badge_id="badge_secrecy")
    )
    assert progress.save(turn, reply) == 3
    known = storage.progress(learner)
    assert known["badges"] == ["badge_secrecy"]
    assert known["stories_finished"] == 1
    assert progress.restore(learner, {"badges": ["badge_bribe"]}) == {
        "badges": ["badge_bribe", "badge_secrecy"]
    }
    assert progress.restore(learner, {"badges": ["badge_secrecy"]}) == {}


def test_database_down_skips_with_a_log_line(caplog, monkeypatch):
    storage.configure("postgresql+psycopg2://lumi:x@127.0.0.1:1/nowhere")
    try:
        reply = Reply("en").record("badge", badge_id="badge_bribe")
        assert progress.save(make_turn(learner_id="abcdefgh1234"), reply) == 0
        assert any("progress not saved" in r.getMessage() for r in caplog.records)
    finally:
        storage.configure(None)
