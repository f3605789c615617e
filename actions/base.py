"""The one adapter between rasa_sdk and the domain: tracker -> Turn, Reply -> events."""

from __future__ import annotations

import asyncio
import logging
from abc import ABCMeta, abstractmethod
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, Restarted, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from bot import dialogue, progress
from bot.conversation import Reply, Turn
from bot.session import slots_from_metadata

logger = logging.getLogger(__name__)


def turn_from_tracker(tracker: Tracker) -> Turn:
    latest = tracker.latest_message or {}
    intent = latest.get("intent") or {}
    entities: dict[str, Any] = {}
    for entity in latest.get("entities") or []:
        if isinstance(entity, dict) and "entity" in entity:
            entities.setdefault(str(entity["entity"]), entity.get("value"))
    metadata = latest.get("metadata")
    text = latest.get("text")
    return Turn(
        intent=str(intent.get("name") or ""),
        confidence=float(intent.get("confidence") or 0.0),
        entities=entities,
        text=text if isinstance(text, str) else "",
        metadata=metadata if isinstance(metadata, dict) else {},
        slots=dict(tracker.slots),
        sender=tracker.sender_id,
    )


def send(reply: Reply, dispatcher: CollectingDispatcher) -> None:
    for message in reply.messages:
        dispatcher.utter_message(
            text=message.get("text"),
            buttons=message.get("buttons") or [],
            json_message=message.get("custom"),
        )


def events_for(reply: Reply, before: dict[str, Any]) -> list[EventType]:
    if "mode" in reply.slots:
        # Rasa's rules cannot read ``mode`` (it does not influence the
        # conversation); this featurized twin tells them a paste is expected.
        pending = reply.slots["mode"] == "check"
        if pending != bool(before.get("check_pending")):
            reply.slots["check_pending"] = pending
    events: list[EventType] = [
        SlotSet(name, value) for name, value in reply.slots.items() if before.get(name) != value
    ]
    if reply.restart:
        events.append(Restarted())
    return events


class LumiAction(Action, metaclass=ABCMeta):
    """Builds a Turn, applies request metadata, calls ``handle``, never crashes."""

    action_name: str = ""
    # "global": a menu command that works anywhere (typed text while a pasted
    # message is expected is still the pasted message, e.g. a paste that reads
    # "help me with my homework").
    # "activity": a button of an activity (a story choice, a quiz answer...);
    # when typed instead of pressed, the current activity reads the text.
    # "internal": runs after a domain response or a payload only.
    scope: str = "global"
    # A global command whose words a practice reply often holds ("that's a
    # trick", « c'est un piège »): typed on a story's practice step, the story reads it.
    practice_reads_text: bool = False

    def name(self) -> str:
        return self.action_name

    @abstractmethod
    def handle(self, turn: Turn) -> Reply: ...

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        turn = turn_from_tracker(tracker)
        before = dict(turn.slots)
        changes = slots_from_metadata(turn.metadata, turn.slots)
        turn.slots.update(changes)
        typed = not turn.text.startswith("/")
        try:
            if typed and self.scope == "global" and turn.mode == "check":
                reply = dialogue.check_pasted(turn)
            elif typed and (
                self.scope == "activity" or (self.practice_reads_text and dialogue.practising(turn))
            ):
                reply = dialogue.handle_text(turn)
            else:
                reply = self.handle(turn)
        except Exception:  # a bug must never leave the child without a reply
            logger.exception("action %s failed (intent %s)", self.name(), turn.intent)
            reply = Reply(turn.lang).say("menu.errors_oops")
        reply.slots = {**changes, **reply.slots}
        if not (reply.slots.get("language_locked") or turn.slots.get("language_locked")):
            reply.slots.setdefault("language", reply.lang)
        # Domain responses (safeguarding, quick exit) follow this slot: keep it
        # right after payload turns too, which the NLU does not annotate.
        reply.slots.setdefault("reply_language", reply.lang)
        send(reply, dispatcher)
        if reply.progress:
            # bounded (storage retries < 1 s, then skips); off the event loop
            await asyncio.to_thread(progress.save, turn, reply)
        return events_for(reply, before)
