"""Faults: the action server stops during a conversation and comes back; the
database is down. The child always gets a reply (the safeguarding reply above
all), and the conversation resumes with its state.

These tests stop and restart servers of the shared stack: conftest.py runs them
after every other robustness test (the action server is left running with the
database down when they end, just before the stack is stopped).
"""

from __future__ import annotations

import re
import time

import pytest

from bot import text as texts
from tests.robustness.conftest import (
    STORY,
    greeting,
    new_sender,
    payloads_of,
    send,
    slots,
    texts_of,
)
from tests.servers import free_port

DISCLOSURE_FR = "un homme sur insta me demande des photos de moi et dit de ne rien dire"
DANGER_EN = "he says he is coming to my house tonight to pick me up, i am scared"


def story_payloads(reply) -> list[str]:
    return [
        b["payload"]
        for m in reply
        for b in m.get("buttons") or []
        if b["payload"].startswith("/story_choice")
    ]


def log_since(stack, name: str, offset: int) -> str:
    return stack.logs[name].read_text(errors="replace")[offset:]


def log_size(stack, name: str) -> int:
    path = stack.logs[name]
    return len(path.read_text(errors="replace")) if path.exists() else 0


@pytest.fixture(scope="module")
def restore_actions(stack):
    """The action server is running when each test starts; the environment is put
    back at the end (the stack is stopped right after: these tests run last)."""
    database = stack.env.get("DATABASE_URL")
    yield
    stack.env.pop("DATABASE_URL", None)
    if database is not None:
        stack.env["DATABASE_URL"] = database
    if "actions" not in stack.procs:
        stack.start("actions")
        stack.wait_actions()


def test_action_server_down_then_back(stack, restore_actions, results):
    # Two children in the middle of things, before the fault.
    reader = new_sender("fault-story")
    first = send(stack, reader, "/start", {"language": "fr", "country": "FR"})
    assert first.status_code == 200
    story = send(stack, reader, f'/start_story{{"story_id":"{STORY}"}}').json()
    choices = story_payloads(story)
    assert choices
    leaver = new_sender("fault-exit")
    send(stack, leaver, "/start", {"language": "fr"})

    stack.stop("actions")
    down = {}
    try:
        # A story choice, a menu command and free text: a clear apology, in French,
        # naming France's main helpline.
        for message in (choices[0], "/help", "bonjour"):
            reply = send(stack, reader, message)
            assert reply.status_code == 200, message
            said = texts_of(reply.json())
            assert said and "Désolée" in said[0], (message, said)
            assert "3018" in said[0] or "119" in said[0], said
            down[message[:20]] = said[0][:60]
        # A disclosure: the safeguarding reply (domain responses), French, France.
        reply = send(stack, reader, DISCLOSURE_FR).json()
        guard = [p for p in payloads_of(reply) if p["kind"] == "safeguard"]
        assert guard and guard[0]["lang"] == "fr" and guard[0]["country"] == "FR"
        assert "3018" in [h["phone"] for h in guard[0]["helplines"]]
        # The quick exit works too.
        assert texts_of(send(stack, leaver, "/exit").json()) == ["D'accord."]
        # A child who was never seen before, disclosing a danger straight away.
        newcomer = new_sender("fault-new")
        reply = send(stack, newcomer, DANGER_EN, {"country": "GB"})
        assert reply.status_code == 200
        guard = [p for p in payloads_of(reply.json()) if p["kind"] == "safeguard"]
        assert guard and guard[0]["level"] == "danger" and guard[0]["lang"] == "en"
        assert guard[0]["helplines"] and guard[0]["country"] == "GB"
        # Nobody else's state is touched by the failures.
        state = slots(stack, reader)
        assert (state["language"], state["country"]) == ("fr", "FR")
    finally:
        stack.start("actions")
    started = time.monotonic()
    stack.wait_actions()
    results.extra["fault_action_server"] = {
        "replies_while_down": down,
        "safeguarding_reply_while_down": True,
        "seconds_to_come_back": round(time.monotonic() - started, 1),
    }

    # Back: the conversation resumes where it was, with its language and country.
    reply = send(stack, reader, "/resume").json()
    assert story_payloads(reply) == choices, texts_of(reply)
    reply = send(stack, reader, choices[0])
    assert reply.status_code == 200 and texts_of(reply.json())
    state = slots(stack, reader)
    assert (state["language"], state["country"], state["mode"]) in (
        ("fr", "FR", "story"),
        ("fr", "FR", "menu"),  # a one-step story could have ended
    )
    assert texts_of(send(stack, reader, "/start").json())[0].startswith(greeting("fr"))


def test_database_down_chat_goes_on_and_progress_is_skipped(stack, restore_actions, results):
    closed = free_port()  # nothing listens there
    stack.env["DATABASE_URL"] = f"postgresql+psycopg2://lumi:lumi@127.0.0.1:{closed}/lumi"
    offset = log_size(stack, "actions")
    stack.stop("actions")
    stack.start("actions")
    stack.wait_actions()

    sender = new_sender("fault-db")
    metadata = {"language": "en", "country": "GB", "learner_id": "dbDownLearner0001"}
    reply = send(stack, sender, "/start", metadata)
    assert reply.status_code == 200
    assert texts_of(reply.json())[0].startswith(greeting("en"))
    # play a story to its end: its progress would be saved
    started = time.monotonic()
    reply = send(stack, sender, f'/start_story{{"story_id":"{STORY}"}}').json()
    turns = 1
    while not [p for p in payloads_of(reply) if p["kind"] == "story_end"]:
        choices = story_payloads(reply)
        assert choices and turns < 20, texts_of(reply)
        time.sleep(0.5)  # a child's pace (and under the rate limit)
        reply = send(stack, sender, choices[0]).json()
        turns += 1
    elapsed = time.monotonic() - started
    assert texts_of(reply)
    # the other parts of the chat are normal
    reply = send(stack, sender, "/start_quiz").json()
    assert texts_of(reply)
    assert not any(t == texts.t("menu.errors_oops", "en") for t in texts_of(reply))

    log = log_since(stack, "actions", offset)
    skipped = [
        line
        for line in log.splitlines()
        if re.search(r"storage unavailable|progress not saved|database not ready", line)
    ]
    assert skipped, log[-2000:]
    results.extra["fault_database_down"] = {
        "story_turns": turns,
        "story_seconds_including_think_time": round(elapsed, 1),
        "log_lines": [
            re.sub(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\S*\s+", "", line)[:200] for line in skipped[:3]
        ],
    }
