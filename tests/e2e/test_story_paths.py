"""Every path of every story, by its buttons, over REST, in both languages.

The conversation is walked as a tree: at a step with several choices the test
reads the conversation's slots through Rasa's HTTP API and presses the first
button; for each other button it starts a new conversation with those slots
(``POST .../tracker/events``) and presses that button there. Each path from
the first step to a ``story_end`` is therefore played by the real servers,
button by button, without replaying its beginning every time (and no
conversation grows to thousands of events).
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
import requests

from bot.stories.model import SHOW_EXAMPLE, Story, stories
from tests.e2e.conftest import Chat, buttons, payloads, texts

LANGS = ("en", "fr")
COUNTRY = {"en": "GB", "fr": "FR"}
MIN_STORIES = 10
MAX_DEPTH = 20
# What a branch point's conversation carries on to the next branch.
KEPT = ("story", "mode", "language", "language_locked", "country", "badges")
# python-i18n answers a missing key with the key itself ("stories.x.step.text").
UNTRANSLATED = re.compile(r"^[a-z0-9_]+(\.[a-z0-9_]+){2,}$")


def paths_of(story: Story, step_id: str | None = None) -> int:
    """How many paths lead from ``step_id`` (the start) to an end, by the story's graph."""
    step = story.steps[step_id or story.start]
    if step.kind == "end":
        return 1
    return sum(paths_of(story, target) for target in step.targets)


def choice_of(button: dict[str, str]) -> dict[str, Any]:
    _, _, body = button["payload"].partition("{")
    return json.loads("{" + body)


class Api:
    """Rasa's HTTP API for one conversation (token from the stack)."""

    def __init__(self, stack, sender: str) -> None:
        self.base = f"{stack.rasa_url}/conversations/{sender}/tracker"
        self.params = {"token": stack.settings.rasa_token}

    def slots(self) -> dict[str, Any]:
        tracker = requests.get(self.base, params=self.params, timeout=30)
        assert tracker.status_code == 200, tracker.text[:300]
        slots = tracker.json()["slots"]
        return {name: slots.get(name) for name in KEPT}

    def put_back(self, slots: dict[str, Any]) -> None:
        events = [{"event": "slot", "name": name, "value": value} for name, value in slots.items()]
        answer = requests.post(self.base + "/events", params=self.params, json=events, timeout=30)
        assert answer.status_code == 200, answer.text[:300]


def check_reply(reply: list[dict], lang: str, where: str) -> None:
    assert reply, f"empty reply at {where}"
    for text in texts(reply):
        assert text.strip(), f"empty text at {where}"
        assert not UNTRANSLATED.match(text.strip()), f"untranslated {text!r} at {where}"
    for payload in payloads(reply):
        assert payload.get("lang") == lang, (where, payload)
    for button in buttons(reply):
        assert button["title"].strip(), f"button without a title at {where}"
        assert not UNTRANSLATED.match(button["title"].strip()), (where, button)


def story_ids(chat: Chat, lang: str) -> list[str]:
    reply = chat.send("/list_stories", {"language": lang})
    [listing] = payloads(reply, "story_list")
    assert listing["lang"] == lang
    return [story["id"] for story in listing["stories"]]


def test_both_languages_list_every_story_with_the_same_ids(stack):
    listed = {lang: story_ids(Chat(stack.rasa_url), lang) for lang in LANGS}
    assert len(listed["en"]) >= MIN_STORIES
    assert sorted(listed["en"]) == sorted(listed["fr"]) == sorted(stories())


class Walk:
    """One story in one language, walked as a tree of button presses."""

    def __init__(self, stack, lang: str, story_id: str) -> None:
        self.stack, self.lang, self.story_id = stack, lang, story_id
        self.meta = {"language": lang, "country": COUNTRY[lang]}
        self.endings: list[tuple[list[str], int]] = []

    def run(self) -> list[tuple[list[str], int]]:
        chat = Chat(self.stack.rasa_url)
        chat.send(f'/set_country{{"country":"{COUNTRY[self.lang]}"}}', self.meta)
        first = chat.send(f'/start_story{{"story_id":"{self.story_id}"}}', self.meta)
        self.explore(chat, first, [])
        return self.endings

    def explore(self, chat: Chat, reply: list[dict], path: list[str]) -> None:
        where = f"{self.lang}/{self.story_id}/{'/'.join(path) or 'start'}"
        assert len(path) < MAX_DEPTH, where
        check_reply(reply, self.lang, where)
        ends = payloads(reply, "story_end")
        if ends:
            assert ends[0]["story_id"] == self.story_id, where
            assert isinstance(ends[0]["score"], int), where
            self.endings.append((path, ends[0]["score"]))
            return
        choices = [b for b in buttons(reply) if b["payload"].startswith("/story_choice")]
        ids = [choice_of(b)["choice"] for b in choices]
        # a choice step offers two or more choices; a practice step ("what would
        # you answer?") takes free text and offers to show an example
        assert len(choices) >= 2 or ids == [SHOW_EXAMPLE], (where, ids)
        for choice in choices:
            assert choice_of(choice)["story_id"] == self.story_id, where
        slots = Api(self.stack, chat.sender).slots() if len(choices) > 1 else {}
        for index, choice in enumerate(choices):
            here = chat
            if index:  # the same step in a new conversation
                here = Chat(self.stack.rasa_url)
                Api(self.stack, here.sender).put_back(slots)
            self.explore(here, here.send(choice["payload"], self.meta), [*path, ids[index]])


@pytest.mark.parametrize("lang", LANGS)
def test_every_path_of_every_story_by_its_buttons(stack, lang):
    walked = {
        story_id: len(Walk(stack, lang, story_id).run())
        for story_id in story_ids(Chat(stack.rasa_url), lang)
    }
    assert len(walked) >= MIN_STORIES, walked
    assert walked == {story_id: paths_of(story) for story_id, story in stories().items()}
    print(f"{lang}: {sum(walked.values())} paths walked: {walked}")
