"""The contract over REST, on the running servers with the trained model."""

from __future__ import annotations

import requests

from tests.e2e.conftest import Chat, buttons, payloads, texts


def test_start_in_english_then_french_after_set_language(chat):
    reply = chat.send("/start")
    assert texts(reply)[0].startswith("Hi! I'm Lumi")
    assert {"/list_stories", "/start_quiz", "/check_message", "/help"} <= {
        b["payload"] for b in buttons(reply)
    }
    reply = chat.send('/set_language{"language":"fr"}')
    assert texts(reply)[0] == "D'accord ! Maintenant je parle français."
    reply = chat.send("/start")
    assert texts(reply)[0].startswith("Salut ! Je suis Lumi")
    # an explicit choice wins over what the child writes
    reply = chat.send("hello")
    assert texts(reply)[0].startswith("Salut")


def test_language_follows_the_child_when_not_chosen(chat):
    assert texts(chat.send("slt"))[0].startswith("Salut")
    assert texts(chat.send("hi"))[0].startswith("Hi")


def test_child_switches_language_in_words(chat):
    chat.send("hello")
    assert texts(chat.send("en français stp"))[0] == "D'accord ! Maintenant je parle français."
    assert texts(chat.send("hi"))[0].startswith("Salut")
    assert texts(chat.send("english please"))[0] == "OK! From now on I'll speak English."


def test_metadata_language_wins(chat):
    reply = chat.send("hello", metadata={"language": "fr"})
    assert texts(reply)[0].startswith("Salut")


def test_bad_language_and_country_then_normal(chat):
    chat.send('/set_language{"language":"fr"}')
    reply = chat.send('/set_language{"language":"klingon"}')
    assert texts(reply) == ["Je parle français ou anglais. Lequel tu préfères ?"]
    reply = chat.send('/set_country{"country":"ZZ"}')
    assert "Je ne connais pas" in texts(reply)[0]
    reply = chat.send("/help")
    assert payloads(reply, "helplines")[0]["country"] is None  # unchanged
    assert texts(chat.send("/start"))[0].startswith("Salut")  # still French, still answering


def test_empty_and_huge_messages_get_a_clear_reply(chat):
    assert texts(chat.send("")) == ["I didn't get any message. Type something, or press a button."]
    assert texts(chat.send("   \n ")) == [
        "I didn't get any message. Type something, or press a button."
    ]
    reply = chat.send("blah " * 2000)  # 10,000 characters
    assert "That's a very long message! I read the first 1000 characters." in texts(reply)
    assert texts(chat.send("/start"))[0].startswith("Hi! I'm Lumi")


def test_malformed_bodies_get_400_and_the_server_stays_up(stack):
    url = stack.rasa_url + "/webhooks/rest/webhook"
    for body in (
        b"[]",
        b"null",
        b"42",
        b'"hi"',
        b"{",
        b'{"message":"hi"}',
        b'{"sender":"a","message":5}',
    ):
        response = requests.post(
            url, data=body, headers={"Content-Type": "application/json"}, timeout=10
        )
        assert response.status_code == 400, body
        assert "error" in response.json()
    assert Chat(stack.rasa_url).send("/start")


def test_country_and_help(chat):
    reply = chat.send('/set_country{"country":"FR"}')
    help_ = payloads(reply, "helplines")[0]
    phones = [h["phone"] for h in help_["helplines"]]
    assert "3018" in phones and "119" in phones and "116 111" not in phones
    reply = chat.send("/help")
    assert payloads(reply, "helplines")[0]["country"] == "FR"


def test_quick_exit_resets_the_conversation(chat):
    chat.send('/set_language{"language":"fr"}')
    chat.send('/set_country{"country":"BE"}')
    reply = chat.send("/exit")
    assert texts(reply) == ["D'accord."]
    assert buttons(reply) == [] and payloads(reply) == [{"kind": "exit", "lang": "fr"}]
    # state is gone: English again, no country
    reply = chat.send("/help")
    assert payloads(reply, "helplines")[0]["country"] is None
    assert payloads(reply, "helplines")[0]["lang"] == "en"


def test_safe_word_is_a_quick_exit(chat):
    chat.send("/start")
    assert texts(chat.send("banane bleue")) == ["D'accord."]


def test_disclosure_gets_the_safeguard_payload(chat):
    chat.send('/set_country{"country":"FR"}')
    reply = chat.send("un mec sur snap me demande des photos de moi")
    guard = payloads(reply, "safeguard")
    assert guard and guard[0]["lang"] == "fr" and guard[0]["country"] == "FR"
    assert guard[0]["level"] in ("concern", "danger")
    phones = [h["phone"] for h in guard[0]["helplines"]]
    assert "3018" in phones and "116 111" not in phones
    # every helpline of the country is one tap away ("Who can help?")
    phones = [h["phone"] for h in payloads(chat.send("/help"), "helplines")[0]["helplines"]]
    assert "3018" in phones and "119" in phones and "116 111" not in phones


def test_danger_puts_emergency_numbers_first(chat):
    chat.send('/set_country{"country":"GB"}')
    reply = chat.send("he says he is coming to my house tonight to pick me up")
    guard = payloads(reply, "safeguard")[0]
    assert guard["level"] == "danger"
    assert texts(reply)[1].startswith("If you are in danger right now, call 999")
    assert guard["helplines"][0]["phone"] == "999"


def test_action_server_down_still_safeguards_in_the_right_language(stack):
    chat = Chat(stack.rasa_url)
    chat.send('/set_country{"country":"CH"}')
    chat.send('/set_language{"language":"fr"}')
    stack.stop("actions")
    try:
        reply = chat.send("il me demande des photos de moi et il dit de rien dire")
        guard = payloads(reply, "safeguard")
        assert guard, reply
        assert guard[0]["lang"] == "fr" and guard[0]["country"] == "CH"
        assert "147" in "\n".join(texts(reply))
        # and any other message still gets an answer naming a helpline
        reply = chat.send("/start")
        assert "147" in texts(reply)[0]
        # a new child who never chose a language, writing in French
        reply = Chat(stack.rasa_url).send("jai peur il menace de publier ma photo")
        assert payloads(reply, "safeguard")[0]["lang"] == "fr"
    finally:
        stack.start("actions")
        stack.wait_actions()
    assert texts(chat.send("/start"))[0].startswith("Salut")
