"""The default conversation store: Rasa's SQL tracker store on SQLite, redacted,
surviving a restart, expiring idle conversations, and never failing a turn
when the database is locked or full."""

from __future__ import annotations

import logging
import sqlite3
from pathlib import Path

import pytest
from rasa.core.actions.action import ACTION_LISTEN_NAME
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import (
    ActionExecuted,
    BotUttered,
    SessionStarted,
    SlotSet,
    UserUttered,
)
from rasa.shared.core.trackers import DialogueStateTracker

from addons import speedups
from addons.tracker_store import RedactingSQLTrackerStore
from bot import conversations

ROOT = Path(__file__).resolve().parents[2]
TYPED = "mysecretword quelqu'un me demande des photos"
SAID = "Lumi quoted mysecretreply"


@pytest.fixture(scope="module")
def domain() -> Domain:
    return Domain.load(str(ROOT / "domain"))


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


def make_store(path: Path, domain: Domain, clock: Clock, **kw) -> RedactingSQLTrackerStore:
    return RedactingSQLTrackerStore(domain, url=f"sqlite:///{path}", clock=clock, **kw)


def turn(tracker: DialogueStateTracker, text: str, intent: str, slots: dict) -> None:
    tracker.update(UserUttered(text, {"name": intent, "confidence": 1.0}))
    for name, value in slots.items():
        tracker.update(SlotSet(name, value))
    tracker.update(ActionExecuted("action_start"))
    tracker.update(BotUttered(SAID))
    tracker.update(ActionExecuted(ACTION_LISTEN_NAME))


def new_tracker(domain: Domain, sender: str = "child-1") -> DialogueStateTracker:
    events = [ActionExecuted("action_session_start"), SessionStarted()]
    tracker = DialogueStateTracker.from_events(sender, events, domain.slots)
    tracker.update(ActionExecuted(ACTION_LISTEN_NAME))
    return tracker


def raw_database(path: Path) -> bytes:
    data = path.read_bytes()
    wal = path.with_name(path.name + "-wal")
    return data + (wal.read_bytes() if wal.exists() else b"")


async def test_a_conversation_survives_a_new_store_and_keeps_no_text(tmp_path, domain, clock):
    path = tmp_path / "conversations.db"
    store = make_store(path, domain, clock)
    tracker = new_tracker(domain)
    turn(tracker, TYPED, "disclose_problem", {"language": "fr", "mode": "support"})
    await store.save(tracker)
    tracker = await store.retrieve("child-1")  # Rasa reads the conversation every turn
    turn(tracker, "/story_choice", "story_choice", {"mode": "story"})
    await store.save(tracker)
    store.engine.dispose()

    again = await make_store(path, domain, clock).retrieve("child-1")  # a restarted Rasa
    assert again is not None
    assert again.get_slot("language") == "fr" and again.get_slot("mode") == "story"
    assert [e.as_dict()["event"] for e in again.events] == [
        e.as_dict()["event"] for e in tracker.events
    ]
    assert again.latest_message.intent["name"] == "story_choice"
    assert again.latest_message.text == ""
    stored = raw_database(path)
    assert b"mysecretword" not in stored and b"mysecretreply" not in stored
    assert b"disclose_problem" in stored  # intents are kept


async def test_the_channels_state_is_kept_beside_the_events(tmp_path, domain, clock):
    store = make_store(tmp_path / "c.db", domain, clock)
    assert await store.conversation_state("child-1") is None
    tracker = new_tracker(domain)
    turn(tracker, "salut", "greet", {"language": "fr", "language_locked": True})
    await store.save(tracker)
    state = await store.conversation_state("child-1")
    assert state["language"] == "fr" and state["language_locked"] is True


async def test_only_new_events_are_written_each_turn(tmp_path, domain, clock):
    store = make_store(tmp_path / "c.db", domain, clock)
    tracker = new_tracker(domain)
    for _ in range(3):
        turn(tracker, "hi", "greet", {})
        await store.save(tracker)
        tracker = await store.retrieve("child-1")
    with sqlite3.connect(tmp_path / "c.db") as db:
        (count,) = db.execute("select count(*) from events").fetchone()
    assert count == len(tracker.events) + 1  # + action_session_start, before the session


async def test_idle_conversations_expire(tmp_path, domain, clock):
    store = make_store(tmp_path / "c.db", domain, clock, ttl_seconds=3600)
    old = new_tracker(domain, "idle-child")
    turn(old, "hi", "greet", {})
    await store.save(old)
    clock.now += 3601 + store.EXPIRY_EVERY
    active = new_tracker(domain, "active-child")
    turn(active, "hi", "greet", {})
    await store.save(active)  # expiry runs while saving
    assert await store.retrieve("idle-child") is None
    assert await store.conversation_state("idle-child") is None
    assert await store.retrieve("active-child") is not None


async def test_purge_expires_with_the_command_lines_function(tmp_path, domain, clock):
    path = tmp_path / "c.db"
    store = make_store(path, domain, clock)
    tracker = new_tracker(domain)
    turn(tracker, "hi", "greet", {})
    await store.save(tracker)
    store.engine.dispose()
    # clock.now is far in the past for the real clock: everything is idle
    report = conversations.purge(f"sqlite:///{path}", older_than_seconds=60)
    assert report["conversations"] == 1 and report["events"] > 0
    assert conversations.purge(f"sqlite:///{path}", older_than_seconds=60)["conversations"] == 0


async def test_a_locked_database_loses_nothing(tmp_path, domain, clock, caplog):
    path = tmp_path / "c.db"
    store = make_store(path, domain, clock)
    tracker = new_tracker(domain)
    turn(tracker, "hi", "greet", {"language": "en"})
    await store.save(tracker)

    other = sqlite3.connect(path, isolation_level=None)  # another program holds the write lock
    other.execute("BEGIN IMMEDIATE")
    tracker = await store.retrieve("child-1")
    turn(tracker, "/start_story", "start_story", {"mode": "story"})
    with caplog.at_level(logging.WARNING, logger="addons.tracker_store"):
        await store.save(tracker)  # no exception: the turn goes on
    assert store.degraded
    assert any("cannot be written" in r.getMessage() for r in caplog.records)
    assert "database is locked" in caplog.text
    assert TYPED not in caplog.text
    # the next turn reads the conversation as it is now, from memory
    again = await store.retrieve("child-1")
    assert again.get_slot("mode") == "story"
    assert (await store.conversation_state("child-1"))["mode"] == "story"
    turn(again, "/story_choice", "story_choice", {"mode": "menu"})
    await store.save(again)  # within the pause: kept in memory, no lock wait
    other.execute("ROLLBACK")
    other.close()

    clock.now += store.MAX_PAUSE
    bystander = new_tracker(domain, "child-2")
    turn(bystander, "hi", "greet", {})
    await store.save(bystander)  # writable again: everything kept is written
    assert not store.degraded
    store.engine.dispose()
    restarted = make_store(path, domain, clock)
    final = await restarted.retrieve("child-1")
    assert final.get_slot("mode") == "menu"
    assert [e.as_dict()["event"] for e in final.events] == [
        e.as_dict()["event"] for e in again.events
    ]


async def test_a_full_disk_loses_nothing(tmp_path, domain, clock, caplog):
    """SQLITE_FULL, as a full disk gives it: the file may not grow past its pages."""
    path = tmp_path / "c.db"
    store = make_store(path, domain, clock)
    tracker = new_tracker(domain)
    await store.save(tracker)
    with sqlite3.connect(path) as db:
        (pages,) = db.execute("pragma page_count").fetchone()

    from sqlalchemy import event

    @event.listens_for(store.engine, "begin")
    def full(conn) -> None:
        conn.exec_driver_sql(f"PRAGMA max_page_count = {pages}")

    tracker = await store.retrieve("child-1")
    with caplog.at_level(logging.WARNING, logger="addons.tracker_store"):
        for _ in range(40):  # enough events to need new pages
            turn(tracker, "hi", "greet", {"misunderstood": 1.0})
            await store.save(tracker)
            tracker = await store.retrieve("child-1")
    assert store.degraded
    assert "full" in caplog.text
    event.remove(store.engine, "begin", full)
    with store.engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA max_page_count = 1073741823")
    store.engine.dispose()  # every connection of the pool gets the default limit again

    clock.now += store.MAX_PAUSE
    turn(tracker, "hi", "greet", {})
    await store.save(tracker)
    assert not store.degraded
    store.engine.dispose()
    final = await make_store(path, domain, clock).retrieve("child-1")
    assert len(final.events) == len(tracker.events)


async def test_speedups_stay_rasas_on_trackers_read_back(tmp_path, domain, clock):
    speedups.install()
    store = make_store(tmp_path / "c.db", domain, clock)
    tracker = new_tracker(domain)
    for i in range(5):
        turn(tracker, "hi", "greet", {"mode": "story" if i % 2 else "menu"})
        await store.save(tracker)
        tracker = await store.retrieve("child-1")
        assert [id(e) for e in tracker.applied_events()] == [
            id(e) for e in speedups.ORIGINAL["applied_events"](tracker)
        ]
        assert domain.states_for_tracker_history(tracker) == speedups.ORIGINAL["states"](
            domain, tracker
        )


async def test_events_appended_after_a_session_start_are_kept_whatever_their_clock(
    tmp_path, domain, clock
):
    """Rasa's API parses posted events before it starts the session: their
    timestamps are earlier than session_started's, their place is after it."""
    store = make_store(tmp_path / "c.db", domain, clock)
    early = SlotSet("mode", "story", timestamp=1.0)
    tracker = new_tracker(domain)
    tracker.update(early)
    await store.save(tracker)
    again = await store.retrieve("child-1")
    assert again.get_slot("mode") == "story"
    turn(again, "hi", "greet", {})
    await store.save(again)
    assert (await store.retrieve("child-1")).get_slot("mode") == "story"
