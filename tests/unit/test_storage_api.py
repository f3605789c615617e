"""Storage service API on SQLite and PostgreSQL: learners, stories, badges, quiz,
progress, export/erase, purge, settings, teachers and class sessions."""

from __future__ import annotations

import json
import logging
import time
from typing import TYPE_CHECKING

import pytest
from sqlalchemy import func, select

from bot.storage import Store
from bot.storage.models import Badge, ClassSession, Learner, QuizResult, StoryProgress
from bot.storage.validate import CODE_ALPHABET, is_learner_id, new_learner_id

if TYPE_CHECKING:
    from tests.storage_fixtures import Clock

pytest_plugins = ["tests.storage_fixtures"]

MARKS = [
    {"step": 1, "mark": "safe", "tactic": "bribe"},
    {"step": 2, "mark": "risky", "tactic": "app_switch"},
    {"step": 3, "mark": "safe", "tactic": None},
]


def count(store: Store, model: object) -> int:
    with store._tx(write=False) as session:
        return int(session.execute(select(func.count()).select_from(model)).scalar_one())


# ---------------------------------------------------------------- learners


def test_ensure_learner_creates_and_keeps_id(store: Store) -> None:
    lid = new_learner_id()
    assert len(lid) == 32 and is_learner_id(lid)
    assert store.ensure_learner(lid, age_band="8-10", language="FR", country="be") == lid
    assert store.ensure_learner(lid) == lid  # fields left as None are kept
    data = store.export_learner(lid)
    assert data is not None
    assert data["learner"] | {"created_at": None, "last_seen_at": None} == {
        "id": lid,
        "age_band": "8-10",
        "language": "fr",
        "country": "BE",
        "class_code": None,
        "created_at": None,
        "last_seen_at": None,
    }
    assert count(store, Learner) == 1


@pytest.mark.parametrize("raw", [None, "", "short", "has space in it", "é" * 20, 42, "x" * 129])
def test_ensure_learner_replaces_a_malformed_id(store: Store, raw: object) -> None:
    lid = store.ensure_learner(raw)  # type: ignore[arg-type]
    assert lid is not None and lid != raw and is_learner_id(lid) and len(lid) == 32


def test_ensure_learner_updates_last_seen_only_forward(store: Store, store_clock: Clock) -> None:
    lid = store.ensure_learner(None)
    assert lid is not None
    first = store.export_learner(lid)
    store_clock.shift(days=3)
    store.ensure_learner(lid, age_band="11-13")
    later = store.export_learner(lid)
    assert first is not None and later is not None
    assert later["learner"]["created_at"] == first["learner"]["created_at"]
    assert later["learner"]["last_seen_at"] > first["learner"]["last_seen_at"]
    assert later["learner"]["age_band"] == "11-13"


@pytest.mark.parametrize(
    "kwargs",
    [{"age_band": "12"}, {"language": "de"}, {"country": "France"}, {"country": "f1"}],
)
def test_ensure_learner_refuses_bad_fields_without_raising(
    store: Store, kwargs: dict, caplog: pytest.LogCaptureFixture
) -> None:
    lid = new_learner_id()
    with caplog.at_level(logging.WARNING, logger="lumi.storage"):
        assert store.ensure_learner(lid, **kwargs) is None
    assert len(caplog.records) == 1
    assert "invalid input" in caplog.text and lid not in caplog.text
    assert count(store, Learner) == 0


# ---------------------------------------------------------------- stories, badges, quiz


def test_story_badge_quiz_and_progress(store: Store) -> None:
    lid = store.ensure_learner(None)
    assert lid is not None
    assert store.progress(lid) == {
        "badges": [],
        "stories": {},
        "stories_finished": 0,
        "quiz": {"answered": 0, "correct": 0, "by_tactic": {}},
    }
    assert store.record_story_end(lid, "lost_skin", MARKS, 67) is True
    assert store.record_story_end(lid, "lost_skin", MARKS[:1], 100) is True
    assert store.record_story_end(lid, "fake_scout", [], 40) is True
    assert store.award_badge(lid, "first_story") is True
    assert store.award_badge(lid, "first_story") is False
    assert store.award_badge(lid, "secret_keeper") is True
    for tactic, correct in [("bribe", True), ("bribe", False), ("threat", True)]:
        assert store.record_quiz_answer(lid, tactic, correct) is True
    result = store.progress(lid)
    assert result is not None
    assert result["badges"] == ["first_story", "secret_keeper"]
    assert result["stories_finished"] == 2
    assert {k: (v["best_score"], v["times"]) for k, v in result["stories"].items()} == {
        "fake_scout": (40, 1),
        "lost_skin": (100, 2),
    }
    assert result["stories"]["lost_skin"]["last_completed_at"].endswith("+00:00")
    assert result["quiz"] == {
        "answered": 3,
        "correct": 2,
        "by_tactic": {
            "bribe": {"answered": 2, "correct": 1},
            "threat": {"answered": 1, "correct": 1},
        },
    }
    json.dumps(result)


def test_records_create_an_unknown_learner(store: Store) -> None:
    lid = new_learner_id()
    assert store.record_quiz_answer(lid, "meeting", True) is True
    assert store.award_badge(lid, "quiz_star") is True
    assert count(store, Learner) == 1


@pytest.mark.parametrize(
    "story_id, marks, score",
    [
        ("lost_skin", [{"mark": "safe", "tactic": "bribe", "text": "my name is Léa"}], 50),
        ("lost_skin", [{"mark": "I would say no", "tactic": "bribe"}], 50),
        ("lost_skin", [{"mark": "safe", "tactic": "not a tactic"}], 50),
        ("lost_skin", "safe,risky", 50),
        ("Lost Skin!", [], 50),
        ("lost_skin", [], 101),
        ("lost_skin", [], -1),
        ("lost_skin", [], True),
        ("lost_skin", [{"mark": "safe"}] * 51, 50),
    ],
)
def test_record_story_end_refuses_anything_but_marks(
    store: Store, story_id: str, marks: object, score: object, caplog: pytest.LogCaptureFixture
) -> None:
    lid = new_learner_id()
    with caplog.at_level(logging.WARNING, logger="lumi.storage"):
        assert store.record_story_end(lid, story_id, marks, score) is False  # type: ignore[arg-type]
    assert len(caplog.records) == 1 and "invalid input" in caplog.text
    assert "Léa" not in caplog.text and "I would say no" not in caplog.text
    assert count(store, StoryProgress) == 0


def test_marks_are_stored_normalised(store: Store) -> None:
    lid = new_learner_id()
    store.record_story_end(
        lid, "lost_skin", [{"mark": "risky", "tactic": "secrecy"}, {"mark": "safe"}], 50
    )
    data = store.export_learner(lid)
    assert data is not None
    assert data["stories"][0]["marks"] == [
        {"step": 1, "mark": "risky", "tactic": "secrecy"},
        {"step": 2, "mark": "safe", "tactic": None},
    ]


def test_quiz_refuses_unknown_tactic_and_non_bool(store: Store) -> None:
    lid = new_learner_id()
    assert store.record_quiz_answer(lid, "grooming", True) is False
    assert store.record_quiz_answer(lid, "bribe", "yes") is False  # type: ignore[arg-type]
    assert store.award_badge(lid, "Badge With Spaces") is None
    assert count(store, QuizResult) == 0 and count(store, Badge) == 0


# ---------------------------------------------------------------- export, erase, purge


def test_export_and_erase_one_learner(store: Store) -> None:
    keep, gone = new_learner_id(), new_learner_id()
    for lid in (keep, gone):
        store.ensure_learner(lid, age_band="11-13", language="en", country="GB")
        store.record_story_end(lid, "lost_skin", MARKS, 80)
        store.award_badge(lid, "first_story")
        store.record_quiz_answer(lid, "flattery", True)
    data = store.export_learner(gone)
    assert data is not None
    text = json.dumps(data)
    assert json.loads(text) == data
    assert data["learner"]["id"] == gone
    assert [s["story_id"] for s in data["stories"]] == ["lost_skin"]
    assert data["stories"][0]["marks"] == MARKS
    assert [b["badge_id"] for b in data["badges"]] == ["first_story"]
    assert [(q["tactic"], q["correct"]) for q in data["quiz_results"]] == [("flattery", True)]
    assert keep not in text

    assert store.erase_learner(gone) is True
    assert store.export_learner(gone) is None
    assert store.erase_learner(gone) is False
    assert store.progress(gone) == store.progress(new_learner_id())
    for model in (Learner, StoryProgress, Badge, QuizResult):
        assert count(store, model) == 1, model
    assert store.export_learner(keep) is not None
    with pytest.raises(ValueError):
        store.erase_learner("not a token!")


def test_purge_by_age(store: Store, store_clock: Clock, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("RETENTION_DAYS", raising=False)
    teacher = store.create_teacher("old.teacher", "a long password")
    store_clock.shift(days=-400)
    old_code = store.create_class_session(teacher, "en", ["lost_skin"])
    old = store.ensure_learner(None, class_code=old_code)
    assert old is not None
    store.record_story_end(old, "lost_skin", MARKS, 10)
    store.award_badge(old, "first_story")
    store.record_quiz_answer(old, "bribe", False)
    store_clock.shift(days=100)  # 300 days ago
    recent = store.ensure_learner(None)
    assert recent is not None
    store.record_story_end(recent, "lost_skin", MARKS, 90)
    store_clock.shift(days=300)  # now

    result = store.purge()  # default: 365 days
    assert result["days"] == 365
    assert result["cutoff"].startswith(str(store_clock().year - 1))
    assert {k: v for k, v in result.items() if k not in ("days", "cutoff")} == {
        "learners": 1,
        "story_progress": 1,
        "badges": 1,
        "quiz_results": 1,
        "class_sessions": 1,
    }
    assert store.export_learner(old) is None
    assert store.export_learner(recent) is not None
    assert store.join_class(old_code) is None

    monkeypatch.setenv("RETENTION_DAYS", "200")
    assert store.retention_days() == 200
    result = store.purge()
    assert result["days"] == 200 and result["learners"] == 1
    assert store.export_learner(recent) is None


def test_purge_counts_and_setting_override(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RETENTION_DAYS", "30")
    assert store.retention_days() == 30
    store.set_setting("retention_days", 90)
    assert store.retention_days() == 90
    assert store.settings() == {"retention_days": 90, "store_free_text": False}
    store.ensure_learner(None)
    result = store.purge()
    assert result["days"] == 90
    assert {k: v for k, v in result.items() if k not in ("days", "cutoff")} == {
        "learners": 0,
        "story_progress": 0,
        "badges": 0,
        "quiz_results": 0,
        "class_sessions": 0,
    }
    assert store.purge(0)["learners"] == 1
    with pytest.raises(ValueError):
        store.purge(-1)
    with pytest.raises(ValueError):
        store.set_setting("favourite_colour", "blue")
    with pytest.raises(ValueError):
        store.set_setting("store_free_text", "yes")
    monkeypatch.setenv("RETENTION_DAYS", "forever")
    store.set_setting("store_free_text", True)
    assert store.get_setting("store_free_text") is True


# ---------------------------------------------------------------- teachers


def test_teacher_password_hashing_and_verification(store: Store) -> None:
    teacher = store.create_teacher("  Mme.Martin@Ecole.fr ", "correct horse battery")
    with store._tx(write=False) as session:
        from bot.storage.models import Teacher

        row = session.get(Teacher, teacher)
        assert row is not None
        assert row.username == "mme.martin@ecole.fr"
        assert row.password_hash.startswith("$argon2id$")
        assert "correct horse battery" not in row.password_hash
    assert store.verify_teacher("mme.martin@ecole.fr", "correct horse battery") == teacher
    assert store.verify_teacher("MME.MARTIN@ECOLE.FR", "correct horse battery") == teacher
    assert store.verify_teacher("mme.martin@ecole.fr", "Correct horse battery") is None
    assert store.verify_teacher("nobody@ecole.fr", "correct horse battery") is None
    assert store.verify_teacher("x", "") is None
    with pytest.raises(ValueError, match="taken"):
        store.create_teacher("MME.martin@ecole.fr", "another long password")
    with pytest.raises(ValueError):
        store.create_teacher("prof", "short")
    with pytest.raises(ValueError):
        store.create_teacher("a b", "long enough password")


def test_unknown_teacher_takes_an_argon2_verification(store: Store) -> None:
    store.create_teacher("prof.timing", "correct horse battery")
    store.verify_teacher("nobody", "x")  # warms up the dummy hash

    def timed(name: str) -> float:
        start = time.perf_counter()
        assert store.verify_teacher(name, "wrong password") is None
        return time.perf_counter() - start

    known = min(timed("prof.timing") for _ in range(3))
    unknown = min(timed("nobody.here") for _ in range(3))
    invalid = min(timed("?") for _ in range(3))
    assert known > 0.01
    # Same order of magnitude (without the dummy verification: ~1 ms vs ~100 ms).
    assert 0.33 < unknown / known < 3.0
    assert 0.33 < invalid / known < 3.0


# ---------------------------------------------------------------- class sessions


def test_class_codes_are_short_unambiguous_and_unique(store: Store) -> None:
    teacher = store.create_teacher("prof.codes", "correct horse battery")
    codes = [store.create_class_session(teacher, "fr", ["lost_skin"]) for _ in range(150)]
    assert len(set(codes)) == 150
    for code in codes:
        assert len(code) == 6 and set(code) <= set(CODE_ALPHABET)
        assert not set(code) & set("01OIL")
    assert count(store, ClassSession) == 150


def test_class_code_collision_draws_again(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    import bot.storage.validate as validate

    teacher = store.create_teacher("prof.collide", "correct horse battery")
    draws = iter(["AAAAAA", "AAAAAA", "AAAAAA", "BBBBBB"])
    monkeypatch.setattr(validate, "new_class_code", lambda: next(draws))
    assert store.create_class_session(teacher, "en", []) == "AAAAAA"
    assert store.create_class_session(teacher, "en", []) == "BBBBBB"


def test_join_unknown_ended_and_typed_codes(store: Store) -> None:
    teacher = store.create_teacher("prof.join", "correct horse battery")
    code = store.create_class_session(teacher, "fr", ["lost_skin", "fake_scout", "lost_skin"])
    info = store.join_class(f" {code[:3].lower()}-{code[3:]} ")
    assert info == {
        "code": code,
        "language": "fr",
        "story_ids": ["lost_skin", "fake_scout"],
        "status": "open",
    }
    assert store.join_class("ZZZZZZ" if code != "ZZZZZZ" else "YYYYYY") is None
    assert store.join_class("nope") is None
    assert store.join_class("") is None
    other = store.create_teacher("prof.other", "correct horse battery")
    assert store.end_class_session(other, code) is False  # not theirs
    assert store.join_class(code) is not None
    assert store.end_class_session(teacher, code) is True
    assert store.end_class_session(teacher, code) is False  # ended already
    assert store.join_class(code) is None
    with pytest.raises(ValueError):
        store.create_class_session(teacher, "de", [])
    with pytest.raises(ValueError):
        store.create_class_session(teacher, "fr", ["Not A Slug"])
    with pytest.raises(ValueError):
        store.create_class_session(999_999, "fr", [])


def test_teacher_sees_only_own_sessions_and_summaries(store: Store) -> None:
    alice = store.create_teacher("alice.teacher", "correct horse battery")
    bob = store.create_teacher("bob.teacher", "correct horse battery")
    a1 = store.create_class_session(alice, "en", ["lost_skin"])
    a2 = store.create_class_session(alice, "fr", ["fake_scout"])
    b1 = store.create_class_session(bob, "en", ["lost_skin"])
    assert [s["code"] for s in store.teacher_sessions(alice)] == [a2, a1]
    assert [s["code"] for s in store.teacher_sessions(bob)] == [b1]
    assert store.teacher_sessions(12345) == []
    assert store.class_summary(bob, a1) is None
    assert store.class_summary(alice, b1) is None
    assert store.class_summary(alice, a1) is not None


def test_class_summary_is_aggregate_only(store: Store) -> None:
    teacher = store.create_teacher("prof.summary", "correct horse battery")
    code = store.create_class_session(teacher, "en", ["lost_skin", "fake_scout"])
    pupils = [store.ensure_learner(None, class_code=code) for _ in range(3)]
    outsider = store.ensure_learner(None)
    assert all(pupils) and outsider
    p0, p1, p2 = (str(p) for p in pupils)
    store.record_story_end(p0, "lost_skin", MARKS, 60)
    store.record_story_end(p1, "lost_skin", [{"mark": "safe", "tactic": "app_switch"}], 100)
    store.record_story_end(p1, "fake_scout", [{"mark": "risky", "tactic": "flattery"}], 20)
    store.record_quiz_answer(p2, "threat", True)
    store.record_quiz_answer(p2, "threat", False)
    store.record_story_end(str(outsider), "lost_skin", MARKS, 0)  # not in the class

    summary = store.class_summary(teacher, code.lower())
    assert summary is not None
    assert summary["learners_joined"] == 3 and summary["learners_active"] == 2
    assert summary["stories"] == {
        "fake_scout": {"finished": 1, "learners": 1, "average_score": 20, "best_score": 20},
        "lost_skin": {"finished": 2, "learners": 2, "average_score": 80, "best_score": 100},
    }
    assert summary["tactics"]["bribe"] == {"spotted": 1, "missed": 0}
    assert summary["tactics"]["app_switch"] == {"spotted": 1, "missed": 1}
    assert summary["tactics"]["flattery"] == {"spotted": 0, "missed": 1}
    assert summary["quiz"]["threat"] == {"answered": 2, "correct": 1}
    text = json.dumps(summary)
    for pupil in (p0, p1, p2):
        assert pupil not in text and pupil[:8] not in text

    # After the session ends, new work no longer counts for the class.
    store.end_class_session(teacher, code)
    store.record_story_end(p0, "fake_scout", MARKS, 100)
    after = store.class_summary(teacher, code)
    assert after is not None and after["status"] == "ended" and after["ended_at"]
    assert after["stories"]["fake_scout"]["finished"] == 1
    # Erasing a learner removes their part of the aggregates too.
    store.erase_learner(p1)
    after = store.class_summary(teacher, code)
    assert after is not None and "fake_scout" not in after["stories"]
    assert after["learners_joined"] == 2


def test_module_functions_use_the_configured_store(storage_url: str) -> None:
    import bot.storage as storage

    old = storage._store
    storage.configure(storage_url)
    try:
        assert storage.migrate() == "0005"
        lid = storage.ensure_learner(None, age_band="8-10")
        assert lid is not None
        assert storage.record_story_end(lid, "lost_skin", MARKS, 75) is True
        assert storage.award_badge(lid, "first_story") is True
        assert storage.record_quiz_answer(lid, "secrecy", True) is True
        progress = storage.progress(lid)
        assert progress is not None and progress["stories_finished"] == 1
        teacher = storage.create_teacher("prof.module", "correct horse battery")
        assert storage.verify_teacher("prof.module", "correct horse battery") == teacher
        code = storage.create_class_session(teacher, "en", ["lost_skin"])
        assert storage.join_class(code) is not None
        assert storage.class_summary(teacher, code) is not None
        assert len(storage.teacher_sessions(teacher)) == 1
        assert storage.end_class_session(teacher, code) is True
        assert storage.export_learner(lid) is not None
        assert storage.erase_learner(lid) is True
        assert storage.purge(0)["class_sessions"] == 1
        assert storage.settings()["store_free_text"] is False
    finally:
        storage.store().dispose()
        storage._store = old
