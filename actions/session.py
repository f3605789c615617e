"""Session start, main menu, language and country."""

from __future__ import annotations

import asyncio
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActionExecuted, EventType, SessionStarted, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.base import LumiAction
from bot import menu, progress
from bot.conversation import Reply, Turn
from bot.session import slots_from_metadata

# Slots that are not carried into a new session (state of an activity).
ACTIVITY_SLOTS = (
    "mode",
    "story",
    "quiz",
    "support",
    "misunderstood",
    "safeguard_level",
    "safeguard_topic",
    "safeguard_memory",
)


class ActionSessionStart(Action):
    """Starts a session, keeps settings and progress, applies request metadata."""

    def name(self) -> str:
        return "action_session_start"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        events: list[EventType] = [SessionStarted()]
        slots = {
            name: value
            for name, value in tracker.slots.items()
            if value is not None
            and name not in ACTIVITY_SLOTS
            and name != "session_started_metadata"
        }
        for name, value in slots.items():
            events.append(SlotSet(name, value))
        metadata = tracker.get_slot("session_started_metadata")
        changes = slots_from_metadata(metadata, slots)
        slots.update(changes)
        learner = slots.get("learner_id")
        if isinstance(learner, str):
            # a returning child keeps the badges earned before (storage never raises)
            changes.update(await asyncio.to_thread(progress.restore, learner, slots))
        for name, value in changes.items():
            events.append(SlotSet(name, value))
        events.append(SlotSet("mode", "menu"))
        events.append(ActionExecuted("action_listen"))
        return events


class ActionStart(LumiAction):
    action_name = "action_start"

    def handle(self, turn: Turn) -> Reply:
        return menu.start(turn)


class ActionSetLanguage(LumiAction):
    action_name = "action_set_language"

    def handle(self, turn: Turn) -> Reply:
        return menu.set_language(turn)


class ActionSetCountry(LumiAction):
    action_name = "action_set_country"

    def handle(self, turn: Turn) -> Reply:
        return menu.set_country(turn)
