"""Check a message the child received."""

from __future__ import annotations

from actions.base import LumiAction
from bot import menu
from bot.conversation import Reply, Turn


class ActionCheckMessage(LumiAction):
    action_name = "action_check_message"
    practice_reads_text = True

    def handle(self, turn: Turn) -> Reply:
        return menu.start_check(turn)
