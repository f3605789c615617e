"""The input fixes found by the robustness suite, unit by unit (no servers needed)."""

from __future__ import annotations

import json

import pytest

from bot.guard import MAX_METADATA_DEPTH, BadRequest, clean_payload, is_blank, parse_body

INTENTS = [
    "start",
    "set_language",
    "set_country",
    "help",
    "start_story",
    "story_choice",
    "disclose_problem",
    "restart",
    "back",
    "session_start",
]
ENTITIES = [
    "language",
    "country",
    "story_id",
    "step",
    "choice",
    "detected_language",
    "reply_language",
    "metadata_country",
    "safeguard_level",
    "safeguard_topic",
    "safeguard_memory",
]


def clean(text: str) -> str:
    return clean_payload(text, INTENTS, ENTITIES)


# Fix 1: a body nested thousands deep raised RecursionError: HTTP 500.
@pytest.mark.parametrize(
    "body",
    [
        b'{"sender":"a","message":"hi","metadata":' + b"[" * 100_000 + b"]" * 100_000 + b"}",
        b'{"sender":"a","message":' + b"{" * 50_000 + b"}" * 50_000 + b"}",
    ],
)
def test_deeply_nested_body_is_a_400(body):
    with pytest.raises(BadRequest):
        parse_body(body)


def test_metadata_depth_is_bounded():
    ok = {"a": {"b": {"c": [1]}}}
    assert parse_body(json.dumps({"sender": "s", "message": "hi", "metadata": ok})).metadata == ok
    deep: list = []
    for _ in range(MAX_METADATA_DEPTH):
        deep = [deep]
    with pytest.raises(BadRequest):
        parse_body(json.dumps({"sender": "s", "message": "hi", "metadata": {"a": deep}}))


# Fix 2: a lone surrogate in metadata raised UnicodeEncodeError: HTTP 500.
def test_lone_surrogate_in_metadata_is_a_400():
    with pytest.raises(BadRequest):
        parse_body(b'{"sender":"a","message":"hi","metadata":{"country":"\\ud800"}}')


def test_lone_surrogate_in_text_is_replaced():
    incoming = parse_body(b'{"sender":"a","message":"\\ud800 hi \\udfff"}')
    assert incoming.text == "\ufffd hi \ufffd"
    # a real pair is one character and stays
    assert parse_body(b'{"sender":"a","message":"\\ud83e\\udd89"}').text == "🦉"


# Fix 3: senders are printable (no RTL override, line separator or lone surrogate).
@pytest.mark.parametrize("sender", ["a\u202eb", "a\u2028b", "a\u200bb", "\ud800", "a\tb"])
def test_unprintable_senders_are_a_400(sender):
    with pytest.raises(BadRequest):
        parse_body(json.dumps({"sender": sender, "message": "hi"}))


@pytest.mark.parametrize("sender", ["abc", "learner_ABC-123", "élève 3", "🦉"])
def test_printable_senders_are_kept(sender):
    assert parse_body(json.dumps({"sender": sender, "message": "hi"})).sender == sender


# Fix 4: payloads cannot set what only the NLU sets; slashes typed by a child are text.
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("/start", "/start"),
        (" /start ", "/start"),
        ('/set_country{"country":"BE"}', '/set_country{"country":"BE"}'),
        ('/help{"safeguard_level":"danger"}', "/help"),
        (
            '/start{"metadata_country":"XX","reply_language":"de","detected_language":"zz"}',
            "/start",
        ),
        ('/disclose_problem{"safeguard_level":"bogus"}', "/disclose_problem"),
        ('/start{"learner_id":"x","country":"FR","mode":"story"}', '/start{"country":"FR"}'),
        ("/start{not json", "/start"),
        ('/start{"country":"FR"} and more', "/start"),
        ("/start@0.0", "/start"),
        ("/", ""),
        ("//", ""),
        ("/foo", "foo"),
        ("/START", "START"),
        ("/restart", "restart"),
        ("/back", "back"),
        ("/session_start", "session_start"),
        ("/ un homme me demande des photos", "un homme me demande des photos"),
        ("/help please help me", "help please help me"),
        ("hello /start", "hello /start"),
        ("bonjour", "bonjour"),
    ],
)
def test_clean_payload(text, expected):
    assert clean(text) == expected


def test_payload_values_are_passed_on_as_json():
    out = clean('/start_story{"story_id":"\\ud800é","step":[1,{"a":null}]}')
    assert out.startswith("/start_story{")
    assert json.loads(out[len("/start_story") :]) == {
        "story_id": "\ud800é",
        "step": [1, {"a": None}],
    }
    assert "\ud800" not in out  # escaped: the text itself stays encodable


def test_too_deeply_nested_payload_arguments_are_dropped():
    """``/help{"country":[[[...500 deep]]]}`` made Rasa's deepcopy of the entities
    raise RecursionError: no reply at all."""
    deep = "[" * 500 + "]" * 500
    assert clean('/help{"country":' + deep + "}") == "/help"
    assert clean('/story_choice{"step":[[1]]}') == '/story_choice{"step":[[1]]}'


def test_without_a_domain_the_text_is_left_alone():
    assert clean_payload("/foo{", None, None) == "/foo{"


# Fix 5: invisible characters only are an empty message.
@pytest.mark.parametrize("text", ["", " ", "\n\t", "\u3000\u00a0", "\u200b\u200d\ufeff\u2060"])
def test_blank(text):
    assert is_blank(text)


@pytest.mark.parametrize("text", ["a", "🦉", "\u0301", "/", "<", "0"])
def test_not_blank(text):
    assert not is_blank(text)
