"""Help, and what follows a disclosure (the reply itself is a domain response)."""

from __future__ import annotations

from actions.base import LumiAction
from bot import class_space, dialogue, menu
from bot.conversation import Reply, Turn
from bot.safeguarding import adult_in_room, support


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


class ActionAnswerAdultOffer(LumiAction):
    """The child's yes or no to "Do you want me to tell your teacher you'd like to talk?"
    (in a class) or "Would you like help to start talking with a parent?" (at home)."""

    action_name = "action_answer_adult_offer"
    scope = "activity"

    def handle(self, turn: Turn) -> Reply:
        return adult_in_room.answer(turn, class_space.raise_alert)


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
