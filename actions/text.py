"""Free text, routed by the current activity."""

from __future__ import annotations

from actions.base import LumiAction
from bot import dialogue
from bot.conversation import Reply, Turn


class ActionHandleText(LumiAction):
    action_name = "action_handle_text"
    scope = "internal"  # it routes typed text by activity itself

    def handle(self, turn: Turn) -> Reply:
        return dialogue.handle_text(turn)


class ActionResume(LumiAction):
    action_name = "action_resume"
    scope = "activity"

    def handle(self, turn: Turn) -> Reply:
        return dialogue.resume(turn)
