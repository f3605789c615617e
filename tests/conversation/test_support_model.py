"""The conversation after a disclosure on the trained model: the domain responses
as Rasa's own generator fills them (braces, no error), and the new intents."""

from __future__ import annotations

import itertools
import logging

import pytest

from bot import helplines
from bot.nlu_rules import STATE_KEY
from bot.safeguarding.reply import LEVELS, safeguard_messages
from bot.safeguarding.topics import TOPICS


@pytest.fixture(scope="module")
def generator():
    from rasa.core.nlg.response import TemplatedNaturalLanguageGenerator
    from rasa.shared.core.domain import Domain

    domain = Domain.load("domain")
    return TemplatedNaturalLanguageGenerator(domain.responses)


def _slots(lang, country, level, topic):
    return {
        "reply_language": lang,
        "country": country,
        "safeguard_level": level,
        "safeguard_topic": topic,
        "language": lang,
        "mode": "menu",
    }


def test_rasa_fills_every_first_reply_exactly_and_logs_no_error(generator, caplog, capsys):
    """Rasa reads ``{...}`` in a response as a slot; an unknown one is an error line
    (structlog, on stdout) per button: the country chips are written with doubled
    braces so that Rasa gives back the payload exactly, silently."""
    parts = (
        "utter_safeguard_intro",
        "utter_safeguard_contacts",
        "utter_safeguard_payload",
        "utter_safeguard_next",
    )
    combos = itertools.product(("en", "fr"), [*helplines.countries(), None], LEVELS, TOPICS)
    with caplog.at_level(logging.WARNING):
        for lang, country, level, topic in combos:
            slots = _slots(lang, country, level, topic)
            got = []
            for name in parts:
                response = generator.generate_from_slots(name, slots, "rest")
                got.append(
                    {k: response[k] for k in ("text", "buttons", "custom") if response.get(k)}
                )
            assert got == safeguard_messages(lang, country, level, topic), slots
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING] == []
    printed = capsys.readouterr().out
    assert "[error" not in printed and "[warning" not in printed, printed[:500]


def test_the_exit_response_carries_the_exit_payload(generator):
    for lang in ("en", "fr"):
        response = generator.generate_from_slots(
            "utter_quick_exit", {"reply_language": lang}, "rest"
        )
        assert response["custom"] == {"kind": "exit", "lang": lang}


@pytest.mark.parametrize(
    "text",
    [
        "c'est quoi le grooming ?",
        "what is grooming",
        "what does sextortion mean",
        "comment bloquer quelqu'un sur snap",
        "is it my fault",
    ],
)
def test_safety_questions_are_read_as_questions(parser, text):
    parsed = parser.parse(text)
    assert parsed["intent"]["name"] in ("ask_safety_question", "share_everyday"), parsed["intent"]
    # not a disclosure
    assert not any(e["entity"] == "safeguard_level" for e in parsed.get("entities", []))


def test_what_can_i_do_now_gets_the_steps_after_a_disclosure(parser):
    """Typed after a disclosure, "what can i do now" gets the steps: the trained
    intent (support_steps), or the support handler's own reading of the words
    when the intent is split with ask_help ("what should i do?") or left
    unsure (measured 2026-12-07: nlu_fallback, support_steps 0.21, ask_help 0.27)."""
    from bot.safeguarding import followup

    metadata = {STATE_KEY: {"mode": "support"}}
    for text in ("what can i do now", "je fais quoi maintenant"):
        parsed = parser.parse(text, metadata)
        assert not any(e["entity"] == "safeguard_level" for e in parsed["entities"]), text
        intent = parsed["intent"]["name"]
        assert intent == "support_steps" or "what_now" in followup.kinds(text), (text, intent)
