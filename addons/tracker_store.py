"""Tracker stores that keep what children type out of the stored conversation.

Rasa's tracker holds each message's text. During a turn the processor works on
the tracker in memory, so actions still read the message they are answering;
when the tracker is saved, the text of every user message is replaced by an
empty string (intents, entities and slots are kept: they carry no free text),
and so is the text of every reply (``bot.privacy``).

- :class:`RedactingSQLTrackerStore` (the default): Rasa's own SQL tracker
  store, on SQLite in the var directory (``bot.conversations``), so
  conversations survive a restart of any process. If the database cannot be
  written (locked by another program, disk full), the conversation is kept
  in memory, an error says so once, the child is answered as usual, and
  everything is written as soon as the database takes writes again.
- :class:`RedactingRedisTrackerStore`: Redis with an expiry (``record_exp``)
  when REDIS_URL is set.
- :class:`RedactingInMemoryTrackerStore`: nothing survives a restart (tests).

Every store also keeps the few slots the REST channel passes to the NLU
(``bot.nlu_rules.STATE_SLOTS``: language choice, mode) under their own small
entry, so the channel reads those instead of a second copy of the whole
conversation on every message (measured in docs/performance.md).
"""

from __future__ import annotations

import json
import logging
import time
from typing import Any

import ujson
from rasa.core.tracker_store import (
    InMemoryTrackerStore,
    RedisTrackerStore,
    SQLTrackerStore,
    TrackerDeserialisationException,
    TrackerStore,
)
from rasa.shared.core.conversation import Dialogue
from rasa.shared.core.trackers import DialogueStateTracker

from bot import conversations
from bot.nlu_rules import STATE_SLOTS
from bot.privacy import redact_dialogue

STATE_PREFIX = "lumi_state:"
logger = logging.getLogger(__name__)


def dumps(value: Any) -> str:
    """JSON text, as ``json.dumps`` writes it, about 3 times faster (ujson)."""
    try:
        return str(ujson.dumps(value, escape_forward_slashes=False))
    except (TypeError, ValueError, OverflowError):  # what ujson refuses, json may take
        return json.dumps(value)


def loads(text: str | bytes) -> Any:
    try:
        return ujson.loads(text)
    except ValueError:  # e.g. NaN, written by json.dumps in an older store
        return json.loads(text)


def serialise_redacted(tracker: DialogueStateTracker) -> str:
    return dumps(redact_dialogue(tracker.as_dialogue().as_dict()))


class _FastJson:
    """Rasa's ``deserialise_tracker`` with the faster JSON parser (same errors)."""

    def deserialise_tracker(
        self, sender_id: str, serialised_tracker: str | bytes
    ) -> DialogueStateTracker | None:
        tracker: DialogueStateTracker = self.init_tracker(sender_id)  # type: ignore[attr-defined]
        try:
            dialogue = Dialogue.from_parameters(loads(serialised_tracker))
        except UnicodeDecodeError as error:
            raise TrackerDeserialisationException(
                "Tracker cannot be deserialised. Trackers must be serialised as json. "
                "Support for deserialising pickled trackers has been removed."
            ) from error
        tracker.recreate_from_dialogue(dialogue)
        return tracker


def state_of(tracker: DialogueStateTracker) -> dict[str, Any]:
    return {name: tracker.get_slot(name) for name in STATE_SLOTS}


class RedactingInMemoryTrackerStore(_FastJson, InMemoryTrackerStore):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.states: dict[str, dict[str, Any]] = {}

    async def save(self, tracker: DialogueStateTracker) -> None:
        await self.stream_events(tracker)
        self.store[tracker.sender_id] = serialise_redacted(tracker)
        self.states[tracker.sender_id] = state_of(tracker)

    async def conversation_state(self, sender_id: str) -> dict[str, Any] | None:
        return self.states.get(sender_id)


class RedactingRedisTrackerStore(_FastJson, RedisTrackerStore):
    @staticmethod
    def serialise_tracker(tracker: DialogueStateTracker) -> str:
        return serialise_redacted(tracker)

    async def save(self, tracker: DialogueStateTracker, timeout: float | None = None) -> None:
        await super().save(tracker, timeout)
        key = STATE_PREFIX + self.key_prefix + tracker.sender_id
        self.red.set(key, json.dumps(state_of(tracker)), ex=timeout or self.record_exp)

    async def conversation_state(self, sender_id: str) -> dict[str, Any] | None:
        raw = self.red.get(STATE_PREFIX + self.key_prefix + sender_id)
        return json.loads(raw) if raw else None


class RedactingSQLTrackerStore(_FastJson, SQLTrackerStore):
    """Rasa's SQL tracker store (its ``events`` table and queries), with:

    - each event redacted before it is written (``bot.privacy``), and the
      conversation's small state row (``bot.conversations.STATE``) written in
      the same transaction;
    - Lumi's SQLite settings (``bot.storage.engine``: WAL, a pool that keeps
      its connection, writes with ``BEGIN IMMEDIATE``) and a short lock wait,
      since Rasa calls the store on its event loop;
    - no fault reaches the child: a save that fails keeps the conversation in
      memory (``pending``), retried with a growing pause (1 s to 30 s) and
      read from there meanwhile; ``degraded`` says whether anything is waiting;
    - idle conversations deleted after ``ttl_seconds`` (checked every
      ``EXPIRY_EVERY`` seconds while saving);
    - the current session found by position, not by clock: Rasa's query keeps
      the events whose *timestamp* is at least the last ``session_started``'s,
      which drops events made before the session started but appended after
      it (``POST /conversations/<id>/tracker/events`` parses its events, then
      starts the session): the in-memory store keeps them, and so does this one.
    """

    EXPIRY_EVERY = 300.0
    FIRST_PAUSE = 1.0
    MAX_PAUSE = 30.0
    LOCK_WAIT_MS = 200

    def __init__(
        self,
        domain: Any = None,
        host: str | None = None,
        url: str | None = None,
        ttl_seconds: float | None = None,
        event_broker: Any = None,
        clock: Any = time.time,
        **kwargs: Any,
    ) -> None:
        from sqlalchemy.orm import sessionmaker

        from bot.storage.engine import make_engine, safe_url

        TrackerStore.__init__(self, domain, event_broker, **kwargs)
        self.url = conversations.store_url(url or host)
        self.engine = make_engine(self.url).execution_options(lumi_busy_ms=self.LOCK_WAIT_MS)
        self._writer = self.engine.execution_options(lumi_begin="IMMEDIATE")
        self.sessionmaker = sessionmaker(bind=self.engine, future=True)
        self._write_session = sessionmaker(bind=self._writer, future=True)
        self.ttl = float(ttl_seconds or conversations.ttl_seconds())
        self.clock = clock
        self.pending: dict[str, tuple[str, dict[str, Any]]] = {}
        self._pause = 0.0
        self._retry_at = 0.0
        self._next_expiry = 0.0
        self._ready = False
        self._where = safe_url(self.url)
        self._create_tables()

    # ---------------------------------------------------------------- schema, faults

    def _create_tables(self) -> None:
        from sqlalchemy.exc import SQLAlchemyError

        try:
            with self._writer.begin() as connection:
                self.Base.metadata.create_all(connection)
                conversations.METADATA.create_all(connection)
            self._ready = True
        except SQLAlchemyError as error:  # created on the first save that works
            self._failed("could not be prepared", error)

    @property
    def degraded(self) -> bool:
        return bool(self.pending)

    def _failed(self, what: str, error: Exception) -> None:
        now = self.clock()
        first = self._pause == 0.0
        self._pause = min(self.MAX_PAUSE, self._pause * 2 or self.FIRST_PAUSE)
        self._retry_at = now + self._pause
        reason = str(getattr(error, "orig", None) or type(error).__name__)[:120]
        log = logger.error if first else logger.warning
        log(
            "conversation store %s %s (%s: %s): %d conversation(s) kept in memory, "
            "the children are answered as usual; writing again in %.0f s",
            self._where,
            what,
            type(error).__name__,
            reason,
            len(self.pending),
            self._pause,
        )

    def _recovered(self) -> None:
        if self._pause:
            logger.warning(
                "conversation store %s writable again: every conversation kept in memory is saved",
                self._where,
            )
        self._pause = 0.0
        self._retry_at = 0.0

    # ---------------------------------------------------------------- reading

    def _event_query(
        self, session: Any, sender_id: str, fetch_events_from_all_sessions: bool
    ) -> Any:
        """This conversation's events in order, from its last ``session_started``
        row on (by row id), or all of them. Counting and reading both use it."""
        import sqlalchemy as sa
        from rasa.shared.core.events import SessionStarted

        event = self.SQLEvent
        query = session.query(event).filter(event.sender_id == sender_id)
        if not fetch_events_from_all_sessions:
            start = (
                session.query(sa.func.max(event.id))
                .filter(event.sender_id == sender_id, event.type_name == SessionStarted.type_name)
                .scalar_subquery()
            )
            query = query.filter(sa.or_(start.is_(None), event.id >= start))
        return query.order_by(event.id)

    async def _retrieve(
        self, sender_id: str, fetch_events_from_all_sessions: bool
    ) -> DialogueStateTracker | None:
        kept = self.pending.get(sender_id)
        if kept is not None:  # newer than the database
            return self.deserialise_tracker(sender_id, kept[0])
        if not self._ready:
            self._create_tables()
        with self.session_scope() as session:
            rows = (
                self._event_query(session, sender_id, fetch_events_from_all_sessions)
                .with_entities(self.SQLEvent.data)
                .all()
            )
        events = [loads(data) for (data,) in rows]
        if not events:
            return None
        return DialogueStateTracker.from_dict(sender_id, events, self.domain.slots)

    async def conversation_state(self, sender_id: str) -> dict[str, Any] | None:
        import sqlalchemy as sa

        kept = self.pending.get(sender_id)
        if kept is not None:
            return kept[1]
        table = conversations.STATE
        with self.engine.connect() as connection:
            raw = connection.execute(
                sa.select(table.c.state).where(table.c.sender_id == sender_id)
            ).scalar()
        return loads(raw) if raw else None

    # ---------------------------------------------------------------- writing

    async def save(self, tracker: DialogueStateTracker) -> None:
        from sqlalchemy.exc import SQLAlchemyError

        await self.stream_events(tracker)
        now = self.clock()
        if now < self._retry_at:
            self._keep(tracker)
            return
        try:
            if not self._ready:
                self._create_tables()
                if not self._ready:
                    raise RuntimeError("tables not created")
            self._write(tracker, now)
            self.pending.pop(tracker.sender_id, None)
            self._flush(now)
            self._expire(now)
        except (SQLAlchemyError, RuntimeError, OSError) as error:
            self._keep(tracker)
            self._failed("cannot be written", error)
            return
        self._recovered()

    def _keep(self, tracker: DialogueStateTracker) -> None:
        self.pending[tracker.sender_id] = (serialise_redacted(tracker), state_of(tracker))

    def _flush(self, now: float) -> None:
        """Write the conversations kept in memory while the database was unwritable."""
        for sender_id in list(self.pending):
            serialised, _ = self.pending[sender_id]
            tracker = self.deserialise_tracker(sender_id, serialised)
            if tracker is not None:
                self._write(tracker, now)
            del self.pending[sender_id]

    def _write(self, tracker: DialogueStateTracker, now: float) -> None:
        import sqlalchemy as sa
        from rasa.shared.nlu.constants import INTENT_NAME_KEY

        table = conversations.STATE
        state = dumps(state_of(tracker))
        with self._write_session() as session, session.begin():
            for event in self._additional_events(session, tracker):
                data = redact_dialogue({"events": [event.as_dict()]})["events"][0]
                intent = (data.get("parse_data") or {}).get("intent", {}).get(INTENT_NAME_KEY)
                session.add(
                    self.SQLEvent(
                        sender_id=tracker.sender_id,
                        type_name=event.type_name,
                        timestamp=data.get("timestamp"),
                        intent_name=intent,
                        action_name=data.get("name"),
                        data=dumps(data),
                    )
                )
            updated = session.execute(
                sa.update(table)
                .where(table.c.sender_id == tracker.sender_id)
                .values(state=state, updated_at=now)
            ).rowcount
            if not updated:
                session.execute(
                    sa.insert(table).values(
                        sender_id=tracker.sender_id, state=state, updated_at=now
                    )
                )

    def _expire(self, now: float) -> None:
        if now < self._next_expiry:
            return
        self._next_expiry = now + self.EXPIRY_EVERY
        with self._writer.begin() as connection:
            counts = conversations.expire(connection, self.ttl, now)
        if counts["conversations"]:
            logger.info(
                "expired %d idle conversation(s) (%d events)",
                counts["conversations"],
                counts["events"],
            )
