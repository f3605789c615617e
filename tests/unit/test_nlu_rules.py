"""What the Rasa-side component adds to every typed message (bot.nlu_rules)."""

from __future__ import annotations

import pytest

from bot.nlu_rules import STATE_KEY, annotate, is_quick_exit


def run(text, intent="greet", confidence=0.9, ranking=None, metadata=None):
    return annotate(
        text=text,
        metadata=metadata or {},
        intent=intent,
        confidence=confidence,
        ranking=ranking or [(intent, confidence)],
    )


def test_payloads_are_left_alone():
    result = run('/set_language{"language":"fr"}', intent="set_language")
    assert result.intent is None and result.entities == {}


def test_language_and_reply_language():
    result = run("slt ca va")
    assert result.entities["detected_language"] == "fr"
    assert result.entities["reply_language"] == "fr"
    # unclear text keeps the conversation's language
    result = run("ok", metadata={STATE_KEY: {"detected_language": "fr"}})
    assert "detected_language" not in result.entities
    assert result.entities["reply_language"] == "fr"


def test_a_locked_language_wins_over_detection():
    state = {STATE_KEY: {"language": "en", "language_locked": True}}
    assert run("slt ca va", metadata=state).entities["reply_language"] == "en"
    # but metadata language wins over everything
    state["language"] = "fr"
    assert run("hello", metadata=state).entities["reply_language"] == "fr"


def test_a_pasted_message_does_not_change_the_language():
    state = {STATE_KEY: {"mode": "check", "detected_language": "fr"}}
    result = run(
        "hey cutie, send me a pic and keep it secret", intent="out_of_scope", metadata=state
    )
    assert "detected_language" not in result.entities
    assert result.entities["reply_language"] == "fr"


def test_metadata_country_is_validated():
    assert run("hi", metadata={"country": "be"}).entities["metadata_country"] == "BE"
    assert "metadata_country" not in run("hi", metadata={"country": "../x"}).entities


def test_language_requests_become_set_language():
    result = run("en français stp", intent="greet")
    assert result.intent == "set_language"
    assert result.entities["language"] == "fr" and result.entities["reply_language"] == "fr"


@pytest.mark.parametrize("text", ["banane bleue", "Blue Banana!", "LUMI EXIT"])
def test_safe_words_are_a_quick_exit(text):
    assert is_quick_exit(text)
    assert run(text).intent == "exit"


def test_safe_word_inside_a_sentence_is_not_an_exit():
    assert not is_quick_exit("i ate a blue banana yesterday")


def test_a_personal_disclosure_overrides_the_classifier():
    result = run("a man on snap keeps asking me for pics", intent="choose_action")
    assert result.intent == "disclose_problem"
    assert result.entities["safeguard_level"] in ("concern", "danger")


def test_a_sentence_about_a_character_is_a_mention():
    result = run("he wants a photo", intent="choose_action")
    assert result.intent == "mention_risk"


def test_classifier_disclosure_is_kept_even_under_the_fallback_threshold():
    result = run(
        "something weird keeps happening with a guy online",
        intent="nlu_fallback",
        confidence=0.45,
        ranking=[("nlu_fallback", 0.45), ("disclose_problem", 0.4), ("greet", 0.2)],
    )
    assert result.intent == "disclose_problem"
    assert result.entities["safeguard_level"] == "concern"


def test_benign_text_is_not_touched():
    result = run("my mum posted a photo of our dog on insta", intent="out_of_scope")
    assert result.intent is None
    assert "safeguard_level" not in result.entities


def test_self_harm_is_danger():
    result = run("i want to die", intent="out_of_scope")
    assert result.intent == "disclose_problem"
    assert result.entities["safeguard_level"] == "danger"
