"""A button press skips the NLU pipeline (addons/speedups.py): the parse must be
exactly what the pipeline gives, on the trained model, for every payload Lumi
sends and for odd ones a child or a client could type."""

from __future__ import annotations

import pytest

from addons import speedups
from bot.conversation import payload
from bot.stories.model import load_stories

ODD = [
    "/start",
    "  /start  ",
    "/start@0.4",
    '/set_language{"language":"fr"}',
    '/set_language{"language": "xx"}',
    '/story_choice{"story_id": "nope", "step": 1}',
    "/story_choice{not json}",
    '/story_choice{"story_id":"follower_bribe"}trailing',
    "/no_such_intent",
    '/no_such_intent{"a":1}',
    "/ he hurts me",
    "/",
    "//start",
    '/start{"unknown_entity": "x"}',
    "he said /start",
    "hello",
]


def _payloads() -> list[str]:
    found = {payload("list_stories"), payload("help"), payload("start_quiz")}
    for story in load_stories().values():
        found.add(payload("start_story", story_id=story.id))
        for step in story.steps.values():
            for choice in step.choices:
                found.add(
                    payload("story_choice", story_id=story.id, step=step.id, choice=choice.id)
                )
    return sorted(found) + ODD


@pytest.fixture(scope="module")
def processor(parser):
    speedups.install()
    return parser.agent.processor


def test_every_payload_parses_as_the_pipeline_does(processor):
    from rasa.core.channels.channel import UserMessage
    from rasa.shared.core.trackers import DialogueStateTracker

    texts = _payloads()
    assert len(texts) > 100
    skipped = 0
    for text in texts:
        message = UserMessage(text, sender_id="t")
        tracker = DialogueStateTracker.from_events("t", [])
        expected = speedups.ORIGINAL["parse"](processor, message, tracker)
        got = processor._parse_message_with_graph(message, tracker)
        assert got == expected, text
        skipped += speedups.parse_intent_payload(text, processor.domain) is not None
    # the shortcut is taken for the buttons, not for the odd texts the pipeline reads
    assert skipped >= len(texts) - len(ODD)
    assert speedups.parse_intent_payload("hello", processor.domain) is None
    assert speedups.parse_intent_payload("/no_such_intent", processor.domain) is None
