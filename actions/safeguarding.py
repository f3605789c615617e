"""Help, and what follows a disclosure (the reply itself is a domain response)."""

from __future__ import annotations

from actions.base import LumiAction
from bot import dialogue, menu
from bot.conversation import Reply, Turn
from bot.safeguarding import support


class ActionHelp(LumiAction):
    action_name = "action_help"

    def handle(self, turn: Turn) -> Reply:
        return menu.help_(turn)


class ActionAfterSafeguard(LumiAction):
    action_name = "action_after_safeguard"
    scope = "internal"  # it runs the message check itself when needed

    def handle(self, turn: Turn) -> Reply:
        return support.after_safeguard(turn)


class ActionPickAdult(LumiAction):
    action_name = "action_pick_adult"
    scope = "activity"

    def handle(self, turn: Turn) -> Reply:
        return support.pick_adult(turn)


class ActionAnswerQuestion(LumiAction):
    """A question about online safety ("c'est quoi le grooming ?"), in any activity."""

    action_name = "action_answer_question"

    def handle(self, turn: Turn) -> Reply:
        return support.answer_question(turn) or dialogue.handle_text(turn)


class ActionSupportSteps(LumiAction):
    """ "What can I do now?": the steps that fit the disclosure."""

    action_name = "action_support_steps"
    scope = "activity"  # typed inside a story or the quiz, the activity reads it

    def handle(self, turn: Turn) -> Reply:
        return support.steps(turn)
