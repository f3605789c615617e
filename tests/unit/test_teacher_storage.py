"""Class lessons in the store (SQLite and PostgreSQL): joining with pseudonyms, story
starts, the dashboard's counts, projector votes, retention of the new rows."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

import pytest
from sqlalchemy import func, select

from bot.storage import Store
from bot.storage.models import ClassMember, ClassStoryStart, ClassVote

if TYPE_CHECKING:
    from tests.storage_fixtures import Clock

pytest_plugins = ["tests.storage_fixtures"]

PASSWORD = "a long password 1"
SAFE = [{"mark": "safe", "tactic": "bribe"}, {"mark": "risky", "tactic": "secrecy"}]


@pytest.fixture(autouse=True)
def quick_hashes(monkeypatch: pytest.MonkeyPatch) -> None:
    from argon2 import PasswordHasher

    monkeypatch.setattr(
        Store, "_hasher", lambda self: PasswordHasher(time_cost=1, memory_cost=256, parallelism=1)
    )


def _count(store: Store, model) -> int:
    with store.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(model)).scalar_one())


def test_join_gives_pseudonyms_and_attaches_progress(store: Store) -> None:
    teacher = store.create_teacher("prof", PASSWORD)
    assert store.teacher_count() == 1 and store.teacher_username(teacher) == "prof"
    code = store.create_class_session(teacher, "fr", ["skin_gift", "meet_up"])
    assert store.class_status(code) == "open" and store.class_status("ZZZZZZ") is None
    first = store.join_class_as(code.lower(), "learnerAAAA1", language="fr")
    assert first["status"] == "open" and first["story_ids"] == ["skin_gift", "meet_up"]
    assert store.join_class_as(code, "learnerAAAA1")["pseudonym"] == first["pseudonym"]
    assert store.membership(code, "learnerAAAA1")["pseudonym"] == first["pseudonym"]
    assert store.membership(code, "learnerZZZZ1") is None
    assert store.join_class_as("ZZZZZZ", "learnerAAAA1") == {"status": "unknown"}
    assert store.join_class_as("??", "learnerAAAA1") == {"status": "unknown"}
    with pytest.raises(ValueError):
        store.join_class_as(code, "bad id!")

    assert store.record_story_start("learnerAAAA1", "skin_gift") is True
    assert store.record_story_start("outsiderAAA1", "skin_gift") is False  # not in a class
    store.record_story_end("learnerAAAA1", "skin_gift", SAFE, 50)
    store.record_quiz_answer("learnerAAAA1", "bribe", True)
    board = store.class_dashboard(teacher, code)
    assert board["joined"] == 1 and board["active"] == 1
    assert board["stories"] == {"skin_gift": {"started": 1, "finished": 1, "average_score": 50}}
    assert board["tactics"]["bribe"] == {"spotted": 1, "missed": 0}
    assert board["tactics"]["secrecy"] == {"spotted": 0, "missed": 1}
    assert board["quiz"]["bands"] == {"high": 1, "middle": 0, "low": 0}
    assert store.class_dashboard(teacher + 1, code) is None
    assert store.class_session(teacher + 1, code) is None

    assert store.end_class_session(teacher, code)
    assert store.join_class_as(code, "learnerBBBB1")["status"] == "ended"
    assert store.record_story_start("learnerAAAA1", "meet_up") is False  # session closed
    assert store.class_dashboard(teacher, code)["joined"] == 1  # results stay


def test_thirty_children_join_at_once_with_distinct_pseudonyms(store: Store) -> None:
    teacher = store.create_teacher("prof", PASSWORD)
    code = store.create_class_session(teacher, "en", ["skin_gift"])
    store.class_status(code)  # schema ready before the burst
    barrier = threading.Barrier(30)
    names: list[str] = []
    errors: list[BaseException] = []

    def child(n: int) -> None:
        try:
            barrier.wait()
            names.append(store.join_class_as(code, f"learner{n:05d}x")["pseudonym"])
        except BaseException as error:  # noqa: BLE001
            errors.append(error)

    threads = [threading.Thread(target=child, args=(n,)) for n in range(30)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len(names) == 30 and len(set(names)) == 30
    assert store.class_dashboard(teacher, code)["joined"] == 30


def test_votes_one_per_child_per_round(store: Store) -> None:
    teacher = store.create_teacher("prof", PASSWORD)
    code = store.create_class_session(teacher, "en", ["skin_gift"])
    for kid in ("kidAAAAAAA1", "kidBBBBBBB1"):
        store.join_class_as(code, kid)
    assert store.cast_vote(code, "kidAAAAAAA1", 1, "no_thanks") == "closed"  # nothing shown
    assert store.projector_show(teacher + 1, code, "skin_gift", "gift") is None  # not theirs
    state = store.projector_show(teacher, code, "skin_gift", "gift")
    assert state["round"] == 1 and state["revealed"] is False
    assert store.cast_vote(code, "kidAAAAAAA1", 1, "take_gems") == "ok"
    assert store.cast_vote(code, "kidAAAAAAA1", 1, "no_thanks") == "ok"  # replaces
    assert store.cast_vote(code, "kidBBBBBBB1", 1, "no_thanks") == "ok"
    assert store.cast_vote(code, "strangerAA1", 1, "no_thanks") == "not_member"
    assert store.cast_vote(code, "kidBBBBBBB1", 2, "no_thanks") == "closed"
    assert store.cast_vote("ZZZZZZ", "kidBBBBBBB1", 1, "no_thanks") == "unknown"
    assert store.vote_counts(teacher, code, 1) == {"no_thanks": 2}
    assert store.vote_counts(teacher + 1, code, 1) is None
    assert store.my_vote(code, "kidAAAAAAA1", 1) == "no_thanks"
    assert _count(store, ClassVote) == 2
    assert store.projector_reveal(teacher, code)
    assert store.cast_vote(code, "kidBBBBBBB1", 1, "take_gems") == "closed"
    state = store.projector_show(teacher, code, "skin_gift", "school")
    assert state["round"] == 2 and state["revealed"] is False
    assert store.projector(code)["step_id"] == "school"
    store.end_class_session(teacher, code)
    assert store.cast_vote(code, "kidBBBBBBB1", 2, "keep_private") == "ended"
    assert store.projector_show(teacher, code, "skin_gift", "gift") is None


def test_erase_and_purge_take_the_class_rows_along(store: Store, store_clock: Clock) -> None:
    teacher = store.create_teacher("prof", PASSWORD)
    store_clock.shift(days=-400)
    old = store.create_class_session(teacher, "en", ["skin_gift"])
    store.join_class_as(old, "oldkidAAAA1")
    store.record_story_start("oldkidAAAA1", "skin_gift")
    store.projector_show(teacher, old, "skin_gift", "gift")
    store.cast_vote(old, "oldkidAAAA1", 1, "no_thanks")
    store.end_class_session(teacher, old)
    store_clock.shift(days=400)
    new = store.create_class_session(teacher, "en", ["skin_gift"])
    store.join_class_as(new, "newkidAAAA1")
    store.join_class_as(new, "newkidBBBB1")
    store.record_story_start("newkidAAAA1", "skin_gift")
    store.projector_show(teacher, new, "skin_gift", "gift")
    store.cast_vote(new, "newkidAAAA1", 1, "no_thanks")
    assert _count(store, ClassMember) == 3

    assert store.erase_learner("newkidAAAA1") is True
    assert _count(store, ClassMember) == 2
    assert _count(store, ClassStoryStart) == 1 and _count(store, ClassVote) == 1
    assert store.class_dashboard(teacher, new)["joined"] == 1

    result = store.purge(365)
    assert result["class_sessions"] == 1
    assert set(result) == {
        "days",
        "cutoff",
        "learners",
        "story_progress",
        "badges",
        "quiz_results",
        "class_sessions",
    }
    assert _count(store, ClassMember) == 1
    assert _count(store, ClassStoryStart) == 0 and _count(store, ClassVote) == 0
    assert store.class_session(teacher, old) is None
    assert store.class_dashboard(teacher, new)["joined"] == 1


def test_set_teacher_password(store: Store) -> None:
    store.create_teacher("prof", PASSWORD)
    assert store.set_teacher_password("PROF", "another long one") is True
    assert store.verify_teacher("prof", PASSWORD) is None
    assert store.verify_teacher("prof", "another long one") is not None
    assert store.set_teacher_password("nobody", "another long one") is False
    with pytest.raises(ValueError):
        store.set_teacher_password("prof", "short")
