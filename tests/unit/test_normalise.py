"""The shared normal form and the classifier's view of repeated words."""

from __future__ import annotations

import pytest

from bot.normalise import collapse_repeated_words, normalise


def test_normal_form():
    assert normalise("  J’AI   trèèès PEUR\u200b ") == "j'ai tres peur"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("blah " * 2000, "blah blah blah"),
        ("mdr MDR mdr mdr mdr!!", "mdr MDR mdr"),
        ("jsp jsp jsp jsp jsp et toi", "jsp jsp jsp et toi"),
        ("a b a b a b a b", "a b a b a b a b"),  # alternating: not a run
        ("j'ai peur j'ai peur j'ai peur j'ai peur", "j'ai peur j'ai peur j'ai peur j'ai peur"),
        ("help help help", "help help help"),  # three are kept
        ("", ""),
    ],
)
def test_runs_of_one_word_are_cut_to_three(text, expected):
    assert collapse_repeated_words(text) == expected


def test_text_without_runs_is_returned_as_is():
    text = "he   said\tdon't tell"
    assert collapse_repeated_words(text) is text


def test_long_text_guard_gives_classifiers_a_short_text_and_keeps_the_full_one():
    from rasa.shared.nlu.training_data.message import Message

    from addons.nlu import FULL_TEXT, LongTextGuard

    guard = LongTextGuard({"max_chars": 20})
    spam, long, payload, plain = (
        Message(data={"text": t})
        for t in ("blah " * 50, "x" * 30, '/start{"story":"' + "s" * 40 + '"}', "hello there")
    )
    guard.process([spam, long, payload, plain])
    assert spam.get("text") == "blah blah blah" and spam.get(FULL_TEXT) == "blah " * 50
    assert long.get("text") == "x" * 20 and long.get(FULL_TEXT) == "x" * 30
    assert payload.get("text").startswith("/start{") and len(payload.get("text")) == 20
    assert plain.get("text") == "hello there" and plain.get(FULL_TEXT) is None
