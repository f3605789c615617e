"""Main menu, language and country settings, help."""

from __future__ import annotations

import pytest

from bot import menu
from bot.conversation import payload
from tests.conftest import make_turn


def test_start_greets_with_menu_buttons_in_english_by_default():
    reply = menu.start(make_turn("start", "/start"))
    assert reply.lang == "en"
    assert "Lumi" in reply.texts[0]
    buttons = reply.messages[-1]["buttons"]
    payloads = [b["payload"] for b in buttons]
    assert payloads[:4] == ["/list_stories", "/start_quiz", "/check_message", "/help"]
    assert payloads[4] == payload("set_language", language="fr")
    assert reply.slots["mode"] == "menu"


def test_start_in_french_when_the_child_wrote_french():
    reply = menu.start(make_turn("greet", "slt", detected_language="fr"))
    assert reply.lang == "fr"
    assert reply.texts[0].startswith("Salut")


def test_set_language_payload_locks_the_choice():
    reply = menu.set_language(make_turn("set_language", entities={"language": "fr"}))
    assert reply.lang == "fr"
    assert reply.slots == {"language": "fr", "language_locked": True, "mode": "menu"}


def test_set_language_from_words():
    reply = menu.set_language(make_turn("set_language", "english please", detected_language="fr"))
    assert reply.lang == "en"
    assert reply.slots["language_locked"] is True


@pytest.mark.parametrize("bad", ["de", "", None, 42, "../../x", ["fr"]])
def test_set_language_bad_value_changes_nothing(bad):
    turn = make_turn(
        "set_language",
        entities={"language": bad} if bad is not None else {"language": None},
        language="fr",
        language_locked=True,
    )
    reply = menu.set_language(turn)
    assert reply.slots == {}
    assert reply.lang == "fr"
    assert [b["payload"] for b in reply.messages[0]["buttons"]] == [
        payload("set_language", language="en"),
        payload("set_language", language="fr"),
    ]


def test_set_country_sets_and_shows_helplines():
    reply = menu.set_country(make_turn("set_country", entities={"country": "be"}))
    assert reply.slots == {"country": "BE"}
    helplines = reply.payloads("helplines")
    assert helplines and helplines[0]["country"] == "BE"


@pytest.mark.parametrize("bad", ["XX", "../../x", "", None, 7, "FRA"])
def test_set_country_bad_value_changes_nothing(bad):
    reply = menu.set_country(make_turn("set_country", entities={"country": bad}, country="FR"))
    assert reply.slots == {}
    assert len(reply.messages[0]["buttons"]) == 9


def test_help_without_country_asks_for_it_and_gives_international_help():
    reply = menu.help_(make_turn("help", "/help", detected_language="fr"))
    payload_ = reply.payloads("helplines")[0]
    assert payload_["lang"] == "fr" and payload_["country"] is None
    assert [h["name"] for h in payload_["helplines"]] == [
        "Take It Down",
        "Child Helpline International",
    ]
    assert reply.messages[0]["buttons"]


def test_fallback_does_not_repeat_itself():
    first = menu.fallback(make_turn("nlu_fallback", "blorp"))
    second = menu.fallback(make_turn("nlu_fallback", "blorp", misunderstood=1))
    assert first.texts[0] != second.texts[0]
    assert first.slots["misunderstood"] == 1 and second.slots["misunderstood"] == 2


def test_small_talk_answers():
    for intent in ("thank", "goodbye", "ask_about_bot", "insult", "out_of_scope", "affirm", "deny"):
        reply = menu.small_talk(make_turn(intent, "x", detected_language="fr"))
        assert reply.texts and reply.lang == "fr"


def test_check_mode():
    reply = menu.start_check(make_turn("check_message", "/check_message"))
    assert reply.slots["mode"] == "check"
