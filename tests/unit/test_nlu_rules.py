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
    state: dict[str, object] = {STATE_KEY: {"language": "en", "language_locked": True}}
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
    # With the bar for classifier-only disclosures lowered (it is high by
    # default, see below), a disclosure ranked first under the fallback counts.
    result = annotate(
        text="something weird keeps happening with a guy online",
        metadata={},
        intent="nlu_fallback",
        confidence=0.45,
        ranking=[("nlu_fallback", 0.45), ("disclose_problem", 0.4), ("greet", 0.2)],
        classifier_only_confidence=0.3,
    )
    assert result.intent == "disclose_problem"
    assert result.entities["safeguard_level"] == "concern"


def test_a_sure_classifier_disclosure_counts_without_the_net():
    result = run(
        "something weird keeps happening with a guy online",
        intent="disclose_problem",
        confidence=0.97,
        ranking=[("disclose_problem", 0.97), ("share_everyday", 0.02)],
    )
    assert result.intent is None  # the classifier's disclose_problem stands
    assert result.entities["safeguard_level"] == "concern"


def test_an_unsure_classifier_disclosure_is_set_aside():
    result = run(
        "i went to the dentist and it was ok",
        intent="disclose_problem",
        confidence=0.6,
        ranking=[("disclose_problem", 0.6), ("share_everyday", 0.35), ("greet", 0.05)],
    )
    assert result.intent == "share_everyday"
    assert "safeguard_level" not in result.entities
    # under the fallback threshold too, and with nothing else sure: not understood
    result = run(
        "hmm the thing with the stuff",
        intent="nlu_fallback",
        confidence=0.33,
        ranking=[("nlu_fallback", 0.33), ("disclose_problem", 0.32), ("greet", 0.1)],
    )
    assert result.intent == "nlu_fallback"
    assert "safeguard_level" not in result.entities


def test_an_unsure_mention_is_set_aside_and_a_sure_one_kept():
    unsure = run(
        "it rains again",
        intent="mention_risk",
        confidence=0.5,
        ranking=[("mention_risk", 0.5), ("share_everyday", 0.45)],
    )
    assert unsure.intent == "share_everyday"
    assert "safeguard_level" not in unsure.entities
    sure = run(
        "she looks sad every time he writes to her",
        intent="mention_risk",
        confidence=0.98,
        ranking=[("mention_risk", 0.98), ("choose_action", 0.01)],
    )
    assert sure.intent is None
    assert sure.entities["safeguard_level"] == "concern"


def test_what_the_net_reads_as_harmless_overrides_the_classifier():
    # a lesson question: the net blanks it whole, the classifier's alarm is set aside
    result = run(
        "why do people online pretend to be younger",
        intent="disclose_problem",
        confidence=0.97,
        ranking=[("disclose_problem", 0.97), ("out_of_scope", 0.02)],
    )
    assert result.intent == "nlu_fallback"  # nothing else sure: not understood
    assert "safeguard_level" not in result.entities


def test_the_net_decides_personal_even_when_the_classifier_says_disclosure():
    # a story character: a mention (in a story, "is this happening to you?")
    result = run(
        "the man in the story keeps asking her for photos",
        intent="disclose_problem",
        confidence=1.0,
        ranking=[("disclose_problem", 1.0)],
    )
    assert result.intent == "mention_risk"
    assert result.entities["safeguard_level"] == "concern"


def test_benign_text_is_not_touched():
    result = run("my mum posted a photo of our dog on insta", intent="out_of_scope")
    assert result.intent is None
    assert "safeguard_level" not in result.entities


def test_self_harm_is_danger():
    result = run("i want to die", intent="out_of_scope")
    assert result.intent == "disclose_problem"
    assert result.entities["safeguard_level"] == "danger"


def test_inside_a_story_the_net_decides_alone():
    story = {STATE_KEY: {"mode": "story"}}
    # a story answer the classifier over-reads: left to the story
    result = run(
        "he downloads the app she told him about",
        intent="disclose_problem",
        confidence=1.0,
        ranking=[("disclose_problem", 0.96), ("choose_action", 0.03)],
        metadata=story,
    )
    assert result.intent == "nlu_fallback"
    assert "safeguard_level" not in result.entities
    # the same words outside an activity: the sure classifier counts
    assert (
        run(
            "he downloads the app she told him about",
            intent="disclose_problem",
            confidence=0.96,
            ranking=[("disclose_problem", 0.96), ("choose_action", 0.03)],
        ).entities["safeguard_level"]
        == "concern"
    )
    # what the net reads as the child's own life still interrupts the story
    result = run(
        "for real a man on snap keeps asking me for pics",
        intent="choose_action",
        metadata=story,
    )
    assert result.intent == "disclose_problem"


def test_the_sentence_practised_for_a_trusted_adult_is_not_a_new_disclosure():
    rehearsal = {STATE_KEY: {"mode": "rehearsal"}}
    result = run(
        "mum, a man on snap keeps asking me for pics and i feel weird",
        intent="disclose_problem",
        confidence=1.0,
        metadata=rehearsal,
    )
    assert result.intent == "nlu_fallback"  # the rehearsal reads it
    assert "safeguard_level" not in result.entities
    # danger still interrupts
    result = run("miss, he is outside my house right now", metadata=rehearsal)
    assert result.intent == "disclose_problem"
    assert result.entities["safeguard_level"] == "danger"


def test_in_support_a_further_concern_is_answered_in_context():
    state = {
        STATE_KEY: {"mode": "support", "safeguard_level": "concern", "safeguard_topic": "online"}
    }
    result = run("he keeps asking me for pics", intent="disclose_problem", metadata=state)
    assert result.intent == "nlu_fallback"
    assert result.entities["safeguard_level"] == "concern"
    assert result.entities["safeguard_topic"] == "online"


def test_in_support_a_rise_to_danger_or_self_harm_is_a_new_disclosure():
    state = {
        STATE_KEY: {"mode": "support", "safeguard_level": "concern", "safeguard_topic": "online"}
    }
    result = run("i want to kill myself", intent="disclose_problem", metadata=state)
    assert result.intent == "disclose_problem"
    assert result.entities["safeguard_level"] == "danger"
    assert result.entities["safeguard_topic"] == "self_harm"
    # already in danger support for self-harm: answered in context
    state[STATE_KEY].update(safeguard_level="danger", safeguard_topic="self_harm")
    again = run("i want to kill myself", intent="disclose_problem", metadata=state)
    assert again.intent == "nlu_fallback" and again.entities["safeguard_level"] == "danger"
