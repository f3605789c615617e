"""Tracker stores that keep what children type out of the stored conversation.

Rasa's tracker holds each message's text. During a turn the processor works on
the tracker in memory, so actions still read the message they are answering;
when the tracker is saved, the text of every user message is replaced by an
empty string (intents, entities and slots are kept: they carry no free text).
In-memory by default; Redis with an expiry (``record_exp``) when REDIS_URL is set.

Both stores also keep the few slots the REST channel passes to the NLU
(``bot.nlu_rules.STATE_SLOTS``: language choice, mode) under their own small
entry, so the channel reads those instead of a second copy of the whole
conversation on every message (measured in docs/performance.md).
"""

from __future__ import annotations

import json
from typing import Any

import ujson
from rasa.core.tracker_store import (
    InMemoryTrackerStore,
    RedisTrackerStore,
    TrackerDeserialisationException,
)
from rasa.shared.core.conversation import Dialogue
from rasa.shared.core.trackers import DialogueStateTracker

from bot.nlu_rules import STATE_SLOTS
from bot.privacy import redact_dialogue

STATE_PREFIX = "lumi_state:"


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
