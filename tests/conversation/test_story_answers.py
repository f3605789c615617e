"""Typed story answers stay in the story: the trained model, in story mode.

Inside a story, what a child types goes to the story unless the NLU reads it
as a command that leaves it (the quiz, the menu, help, a country, the quick
exit). The answers are the labelled free-text sets of every story
(``data/eval/stories/``: choice answers and practice replies), parsed as the
Rasa server parses them during a story (the conversation state in the
metadata, as ``addons/channel.py`` sends it).
"""

from __future__ import annotations

from collections import Counter

import pytest
import yaml

from bot.nlu_rules import STATE_KEY
from bot.paths import DATA_DIR

EVAL_DIR = DATA_DIR / "eval" / "stories"
# Intents whose action leaves the story (or ends the conversation) when typed.
LEAVES_THE_STORY = frozenset(
    {
        "exit",
        "start",
        "start_quiz",
        "list_stories",
        "set_country",
        "set_language",
        "check_message",
        "help",
        "ask_help",
    }
)
# Highest share of story answers the model may take out of the story.
MAX_LEAVING = 0.03
# Moves of the new stories a quick exit would cut short (leaving a group, a
# live, a call is the lesson there): never the quick exit.
LEAVING_MOVES = {
    "en": ["she leaves the group chat", "exit the group", "close the live", "he ends the call"],
    "fr": ["elle quitte le groupe", "sortir du groupe", "fermer le live", "il coupe l'appel"],
}


def story_answers(lang: str) -> list[str]:
    answers: list[str] = []
    for path in sorted(EVAL_DIR.glob(f"*.{lang}.yml")):
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
        answers += [str(item["text"]) for item in raw["items"]]
    return answers


def intent_in_story(parser, text: str, lang: str) -> str:
    state = {"mode": "story", "language": lang, "language_locked": True}
    parsed = parser.parse(text, {"language": lang, STATE_KEY: state})
    return str(parsed["intent"]["name"])


@pytest.mark.parametrize("lang", ["en", "fr"])
def test_story_answers_are_not_read_as_commands(parser, lang: str) -> None:
    answers = story_answers(lang)
    assert len(answers) > 500
    leaving = Counter()
    for text in answers:
        intent = intent_in_story(parser, text, lang)
        if intent in LEAVES_THE_STORY:
            leaving[intent] += 1
    assert leaving["exit"] == 0, leaving
    share = sum(leaving.values()) / len(answers)
    print(f"{lang}: {sum(leaving.values())}/{len(answers)} answers leave the story: {leaving}")
    assert share <= MAX_LEAVING, (share, leaving)


@pytest.mark.parametrize("lang", ["en", "fr"])
def test_leaving_a_group_a_live_or_a_call_is_not_the_quick_exit(parser, lang: str) -> None:
    for text in LEAVING_MOVES[lang]:
        assert intent_in_story(parser, text, lang) not in LEAVES_THE_STORY, text
