"""Faults: the progress database is down. The child always gets a reply and
the chat goes on; progress is skipped.

Processes killed under the launcher (action server, Rasa, web app), the
conversation database locked or full and Redis stopped are tested through
``make run``'s own launcher in ``tests/launcher/``.

This test restarts the action server of the shared stack: conftest.py runs it
after every other robustness test.
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
    texts_of,
)
from tests.servers import free_port


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
