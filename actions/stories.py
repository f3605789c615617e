"""Role-play stories, the quiz and co-play mode."""

from __future__ import annotations

from actions.base import LumiAction
from bot import quiz, stories
from bot.conversation import Reply, Turn


class ActionListStories(LumiAction):
    action_name = "action_list_stories"

    def handle(self, turn: Turn) -> Reply:
        return stories.list_stories(turn, turn.entities.get("age_band"))


class ActionStartStory(LumiAction):
    action_name = "action_start_story"
    scope = "activity"

    def handle(self, turn: Turn) -> Reply:
        return stories.start_story(turn, turn.entities.get("story_id"))


class ActionStoryChoice(LumiAction):
    action_name = "action_story_choice"
    scope = "activity"

    def handle(self, turn: Turn) -> Reply:
        return stories.choose(turn, turn.entities)


class ActionSetCoplay(LumiAction):
    action_name = "action_set_coplay"
    scope = "activity"

    def handle(self, turn: Turn) -> Reply:
        return stories.set_coplay(turn, turn.entities.get("on") is True)


class ActionStartQuiz(LumiAction):
    action_name = "action_start_quiz"

    def handle(self, turn: Turn) -> Reply:
        return quiz.start_quiz(turn)


class ActionQuizAnswer(LumiAction):
    action_name = "action_quiz_answer"
    scope = "activity"

    def handle(self, turn: Turn) -> Reply:
        return quiz.answer(turn, turn.entities)
