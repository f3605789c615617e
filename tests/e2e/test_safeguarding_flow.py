"""A disclosure anywhere (story, quiz, message check) gets help; then the child goes back."""

from __future__ import annotations

import requests

from tests.e2e.conftest import Chat, buttons, payloads, texts

DISCLOSURE_EN = "a man on snap keeps asking me for pics"


def story_buttons(reply):
    return [b for b in buttons(reply) if b["payload"].startswith("/story_choice")]


def test_disclosure_inside_a_story_then_back_to_the_story(chat):
    chat.send('/set_country{"country":"GB"}')
    reply = chat.send('/start_story{"story_id":"skin_gift"}')
    first = story_buttons(reply)
    assert len(first) >= 2
    reply = chat.send(DISCLOSURE_EN)
    guard = payloads(reply, "safeguard")
    assert guard and guard[0]["country"] == "GB" and guard[0]["lang"] == "en"
    assert any(b["payload"] == "/resume" for b in buttons(reply)) or any(
        b["payload"].startswith("/pick_adult") for b in buttons(reply)
    )
    reply = chat.send("/resume")
    assert [b["payload"] for b in story_buttons(reply)] == [b["payload"] for b in first]


def test_a_sentence_about_the_character_gets_a_gentle_question(chat):
    chat.send('/start_story{"story_id":"follower_bribe"}')
    reply = chat.send("he wants a photo")
    assert payloads(reply, "safeguard") == []
    assert "/disclose_problem" in [b["payload"] for b in buttons(reply)]
    reply = chat.send("/disclose_problem")
    assert payloads(reply, "safeguard")


def test_disclosure_inside_the_quiz_then_back_to_the_quiz(chat):
    reply = chat.send('/set_language{"language":"fr"}')
    reply = chat.send("/start_quiz")
    question = [b["payload"] for b in buttons(reply) if b["payload"].startswith("/quiz_answer")]
    assert question
    reply = chat.send("un monsieur sur insta me demande des photos de moi")
    guard = payloads(reply, "safeguard")
    assert guard and guard[0]["lang"] == "fr"
    reply = chat.send("/resume")
    again = [b["payload"] for b in buttons(reply) if b["payload"].startswith("/quiz_answer")]
    assert again == question


def test_threat_pasted_in_a_message_check(chat):
    """A pasted threat (a message the child received) gets the tricks and one
    line offering help, not the whole script (issue 16); the offer's button
    opens the safeguarding reply, in danger."""
    chat.send("/check_message")
    reply = chat.send("if u dont send more pics i will post the one u sent to all ur followers")
    check = payloads(reply, "tactic_check")
    assert check and "threat" in check[0]["tactics"]
    assert "/disclose_problem" in [b["payload"] for b in buttons(reply)]
    guard = payloads(chat.send("/disclose_problem"), "safeguard")
    assert guard and guard[0]["level"] == "danger"


def test_pick_a_trusted_adult_and_rehearse(chat):
    chat.send(DISCLOSURE_EN)
    reply = chat.send('/pick_adult{"adult":"teacher"}')
    assert any("A teacher can help you" in t for t in texts(reply))
    reply = chat.send("miss, someone online keeps asking me for photos and i dont like it")
    assert texts(reply)[0] == "That's a great way to say it. Clear and brave."


def play_to_the_end(chat, story_id, metadata):
    reply = chat.send(f'/start_story{{"story_id":"{story_id}"}}', metadata)
    for _ in range(20):
        if payloads(reply, "story_end"):
            return reply
        choice = next(b for b in buttons(reply) if b["payload"].startswith("/story_choice"))
        reply = chat.send(choice["payload"], metadata)
    raise AssertionError("the story did not end")


def test_nothing_typed_is_kept_in_the_conversation_the_database_or_the_logs(stack):
    import sqlite3

    chat = Chat(stack.rasa_url)
    meta = {"learner_id": "privacyTest12345"}
    typed = [
        "hello lumi my secret word is zebracorn",
        "a man on snap keeps asking me for pics of zebracorn",
        "jai peur il menace zebracorn",
    ]
    for text in typed:
        chat.send(text, meta)
    chat.send("/check_message", meta)
    chat.send("zebracorn says send me a pic and keep it secret", meta)
    chat.send('/start_story{"story_id":"skin_gift"}', meta)
    chat.send("i would tell zebracorn's mum", meta)
    play_to_the_end(chat, "genuine_friend", meta)
    # progress was kept, under the pseudonymous id only
    with sqlite3.connect(stack.workdir / "lumi.db") as db:
        rows = db.execute("select count(*) from story_progress").fetchone()[0]
    assert rows >= 1
    tracker = requests.get(
        f"{stack.rasa_url}/conversations/{chat.sender}/tracker",
        params={"token": stack.settings.rasa_token},
        timeout=10,
    )
    assert tracker.status_code == 200
    assert "zebracorn" not in tracker.text
    for name in ("rasa", "actions"):
        assert "zebracorn" not in stack.logs[name].read_text(errors="replace")
    for path in stack.workdir.rglob("*"):
        if path.is_file() and path.suffix in (".db", ".log", ".json", ".yml"):
            assert b"zebracorn" not in path.read_bytes(), path


def test_rasa_api_needs_the_token(stack):
    response = requests.get(f"{stack.rasa_url}/conversations/x/tracker", timeout=10)
    assert response.status_code == 401


def test_a_disclosure_typed_as_a_story_answer_interrupts_the_story_in_both_languages(chat, stack):
    for lang, text in (
        ("en", "this happened to me too, he says he will post my pics unless i pay"),
        ("fr", "ca m'arrive aussi, il dit qu'il publie mes photos si je paye pas"),
    ):
        child = Chat(stack.rasa_url)
        child.send(f'/set_language{{"language":"{lang}"}}')
        reply = child.send('/start_story{"story_id":"follower_bribe"}')
        child.send(story_buttons(reply)[0]["payload"])
        reply = child.send(text)
        guard = payloads(reply, "safeguard")
        assert guard and guard[0]["level"] == "danger" and guard[0]["lang"] == lang, reply


def test_a_disclosure_told_in_pieces_is_answered_when_it_is_complete(stack):
    for lang, pieces in (
        ("en", ["can i tell you something", "there is this man online", "he wants pics of me"]),
        (
            "fr",
            [
                "je peux te dire un truc",
                "y a un monsieur sur internet",
                "il veut des photos de moi",
            ],
        ),
    ):
        child = Chat(stack.rasa_url)
        replies = [child.send(text) for text in pieces]
        assert not payloads(replies[0], "safeguard"), pieces[0]  # an announcement alone
        guards = [g for r in replies[1:] for g in payloads(r, "safeguard")]
        assert guards and guards[0]["lang"] == lang, pieces
