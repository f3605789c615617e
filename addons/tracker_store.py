"""Tracker stores that keep what children type out of the stored conversation.

Rasa's tracker holds each message's text. During a turn the processor works on
the tracker in memory, so actions still read the message they are answering;
when the tracker is saved, the text of every user message is replaced by an
empty string (intents, entities and slots are kept: they carry no free text).
In-memory by default; Redis with an expiry (``record_exp``) when REDIS_URL is set.
"""

from __future__ import annotations

import json
from typing import Any

from rasa.core.tracker_store import InMemoryTrackerStore, RedisTrackerStore
from rasa.shared.core.trackers import DialogueStateTracker

from bot.privacy import redact_dialogue


def serialise_redacted(tracker: DialogueStateTracker) -> str:
    return json.dumps(redact_dialogue(tracker.as_dialogue().as_dict()))


class RedactingInMemoryTrackerStore(InMemoryTrackerStore):
    async def save(self, tracker: DialogueStateTracker) -> None:
        await self.stream_events(tracker)
        self.store[tracker.sender_id] = serialise_redacted(tracker)


class RedactingRedisTrackerStore(RedisTrackerStore):
    @staticmethod
    def serialise_tracker(tracker: DialogueStateTracker) -> str:
        return serialise_redacted(tracker)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
