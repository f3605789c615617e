"""Check a message: tactics found, danger, bad pastes, the child's language kept."""

from __future__ import annotations

from tests.e2e.conftest import payloads, texts


def test_a_pasted_conversation_with_names_and_times(chat):
    chat.send("/check_message")
    paste = (
        "[18:02] Tom_12: hey ur so pretty, way more mature than girls my age\n"
        "[18:03] Tom_12: lets talk on snap its more private\n"
        "[18:04] Tom_12: dont tell ur parents ok"
    )
    reply = chat.send(paste)
    tactics = payloads(reply, "tactic_check")[0]["tactics"]
    assert {"flattery", "app_switch", "secrecy"} <= set(tactics)
    assert payloads(reply, "tactic_check")[0]["lang"] == "en"


def test_a_harmless_message_finds_nothing_but_says_trust_your_feeling(chat):
    chat.send("/check_message")
    reply = chat.send("mum: dinner at 7, dont forget your PE kit tomorrow")
    assert payloads(reply, "tactic_check")[0]["tactics"] == []
    assert any("feel" in t.lower() for t in texts(reply))


def test_a_french_child_pasting_an_english_message_gets_french(chat):
    chat.send("salut")
    chat.send("/check_message")
    reply = chat.send("send me a pic and dont tell anyone, ill give u 1000 robux")
    check = payloads(reply, "tactic_check")[0]
    assert check["lang"] == "fr"
    assert {"bribe", "secrecy", "photo_request"} <= set(check["tactics"])


def test_empty_emoji_and_huge_pastes_get_a_clear_reply(chat):
    chat.send("/check_message")
    assert texts(chat.send(""))  # the channel's "I didn't get any message"
    reply = chat.send("😂😂😂🙈")
    assert texts(reply) and payloads(reply, "tactic_check")[0]["tactics"] == []
    chat.send("/check_message")
    reply = chat.send("hey wanna be friends? " * 1000)  # 22,000 characters
    assert texts(reply)
    assert payloads(reply, "tactic_check")
    assert texts(chat.send("/start"))[0].startswith("Hi! I'm Lumi")
