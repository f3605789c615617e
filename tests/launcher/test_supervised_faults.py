"""A process dies and the assistant keeps answering (``make run``'s launcher).

In file order, on one launcher (the embedded default, conversations in
SQLite on a small disk of its own), each while a class of 30 plays through
the web app: SIGKILL to the action server; the conversation database locked
by another program; its disk full; SIGKILL to Rasa; SIGKILL to the web app;
then SIGTERM to the launcher. On a second launcher configured with Redis:
Redis stopped and started again. Each test records its figures (gap, failed
requests, disclosures answered with help, conversations that went on).
"""

from __future__ import annotations

import json
import re
import signal
import sqlite3
import time
import uuid
from typing import Any

import psutil
import pytest
import requests

from bot import text as texts
from tests.launcher.conftest import (
    ClassLoad,
    Disclosures,
    help_in,
    window,
)

STORY = "skin_gift"


# --------------------------------------------------------------------------- helpers


def send(url: str, sender: str, message: str, metadata: dict | None = None) -> requests.Response:
    body: dict[str, Any] = {"sender": sender, "message": message}
    if metadata:
        body["metadata"] = metadata
    return requests.post(url, json=body, timeout=60)


def texts_of(reply: Any) -> list[str]:
    return [m["text"] for m in reply if isinstance(m, dict) and isinstance(m.get("text"), str)]


def choices_of(reply: Any) -> list[str]:
    return [
        b["payload"]
        for m in reply
        for b in (m.get("buttons") or [])
        if b["payload"].startswith("/story_choice")
    ]


class Reader:
    """A child in the middle of a story, through the web app."""

    def __init__(self, web: str, lang: str = "fr", country: str = "FR") -> None:
        self.url = web + "/api/message"
        self.sender = f"reader-{uuid.uuid4().hex[:12]}"
        self.lang = lang
        assert send(self.url, self.sender, "/start", {"language": lang, "country": country}).ok
        reply = send(self.url, self.sender, f'/start_story{{"story_id":"{STORY}"}}').json()
        self.choices = choices_of(reply)
        assert self.choices, texts_of(reply)

    def step(self) -> None:
        """Press the first button; remember the next step's buttons."""
        reply = send(self.url, self.sender, self.choices[0]).json()
        found = choices_of(reply)
        assert found, texts_of(reply)
        self.choices = found

    def resumes_where_it_was(self) -> bool:
        reply = send(self.url, self.sender, "/resume").json()
        return choices_of(reply) == self.choices


def summarise(load: Any, killed_at: float, back_at: float) -> dict[str, Any]:
    """Failed requests in the gap, and whether every conversation went on after it."""
    samples = load.samples
    gap = window(samples, killed_at, back_at + 1.0)
    failed = [s for s in gap if s.status != 200]
    apologies = [s for s in gap if s.status == 200 and s.error == "fallback_reply"]
    before = {s.sender for s in samples if s.started < killed_at}
    after_ok = {s.sender for s in window(samples, back_at + 1.0) if s.error is None}
    errors_after_back = [s for s in window(samples, back_at + 1.0) if s.error is not None]
    kinds_after = _count(str(s.error) for s in errors_after_back)
    return {
        "class_requests_total": len(samples),
        "requests_in_gap": len(gap),
        "requests_failed": len(failed),
        "failed_by_status": _count(str(s.status) for s in failed),
        "apologies_in_gap": len(apologies),
        "conversations_before": len(before),
        "conversations_went_on": len(before & after_ok),
        "errors_after_back": len(errors_after_back),
        "errors_after_back_by_kind": kinds_after,
    }


def _count(values: Any) -> dict[str, int]:
    found: dict[str, int] = {}
    for value in values:
        found[value] = found.get(value, 0) + 1
    return found


def disclosures_summary(sent: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "disclosures_sent": len(sent),
        "answered_with_help": sum(1 for d in sent if d["helplines"] > 0),
        "statuses": _count(str(d["status"]) for d in sent),
        "in_the_childs_language": sum(1 for d in sent if d.get("payload_langs") == [d["lang"]]),
        "without_help": [
            {k: d.get(k) for k in ("lang", "country", "status", "first_reply", "error")}
            for d in sent
            if d["helplines"] == 0
        ],
    }


def fault_during_class(
    launched: Any, name: str, seconds_after: float = 20.0, during: Any = None
) -> tuple[dict[str, Any], list[dict[str, Any]], Any]:
    """Kill ``name`` while the class plays and disclosures arrive; wait until it is back."""
    load = ClassLoad(launched.web_url, duration_s=600)
    load.start()
    time.sleep(5)  # the class is playing
    probes = Disclosures(launched.web_url)
    pid, _ = launched.kill(name)
    killed_at = time.perf_counter()
    probes.start()
    extra = during() if during else None
    launched.wait_back(name, pid)
    back_at = time.perf_counter()
    time.sleep(2)  # disclosures right after the restart too
    sent = probes.finish()
    time.sleep(seconds_after)
    result = load.finish(stop=True)
    in_gap = [d for d in sent if d["at"] < back_at]
    right_after = [d for d in sent if back_at <= d["at"] <= back_at + 2]
    figures = {
        "killed": name,
        "old_pid": pid,
        "new_pid": launched.pid(name),
        "seconds_until_back": round(back_at - killed_at, 1),
        **summarise(result, killed_at, back_at),
        **disclosures_summary(in_gap),
        "disclosures_right_after_the_restart": disclosures_summary(right_after),
    }
    return figures, in_gap, extra


# --------------------------------------------------------------------------- the embedded default


@pytest.fixture(scope="module")
def main(launchers, results):
    results["boot_seconds"] = launchers.boot_s
    return launchers.main


@pytest.fixture(scope="module")
def readers(main):
    """Children in the middle of a story before any fault; checked after each one."""
    return {"before_faults": Reader(main.web_url)}


def test_action_server_killed(main, readers, results):
    reader = readers["before_faults"]
    leaver = f"leaver-{uuid.uuid4().hex[:10]}"
    assert send(main.web_url + "/api/message", leaver, "/start", {"language": "fr"}).ok
    seen: dict[str, Any] = {}

    def during() -> None:
        url = main.web_url + "/api/message"
        # a story button and a menu command: "one moment, try again", in French, with 3018
        for message in (reader.choices[0], "/help"):
            said = texts_of(send(url, reader.sender, message).json())
            seen[message[:20]] = said[0][:80] if said else None
        # the quick exit still works
        seen["exit"] = texts_of(send(url, leaver, "/exit").json())

    figures, sent, _ = fault_during_class(main, "actions", during=during)
    results["action_server_killed"] = {**figures, "replies_while_down": seen}
    try_again = texts.t("menu.errors_unavailable", "fr", helpline="X").split("X")[0]
    for said in (seen[reader.choices[0][:20]], seen["/help"]):
        assert said and said.startswith(try_again[:40]), said
    assert seen["exit"] == ["D'accord."]
    assert figures["disclosures_sent"] >= 3
    assert figures["answered_with_help"] == figures["disclosures_sent"], sent
    assert figures["in_the_childs_language"] == figures["disclosures_sent"], sent
    dangers = [d for d in sent if d["country"] == "GB"]  # "coming to my house tonight"
    assert dangers and all(d["levels"] == ["danger"] for d in dangers), dangers
    assert figures["requests_failed"] == 0  # the channel answers every one of them
    assert figures["conversations_went_on"] == figures["conversations_before"]
    assert reader.resumes_where_it_was()


def test_conversation_database_locked(main, readers, launchers, results):
    if not launchers.disk.mounted:
        pytest.skip("no tmpfs for the conversation store (needs root)")
    reader = Reader(main.web_url, "en", "IE")
    readers["locked"] = reader
    load = ClassLoad(main.web_url, duration_s=20)
    load.start()
    time.sleep(3)
    holder = sqlite3.connect(launchers.disk.path / "conversations.db", isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # another program holds the write lock
    locked_at = time.perf_counter()
    reader.step()
    reader.step()
    time.sleep(6)
    holder.execute("ROLLBACK")
    holder.close()
    released_at = time.perf_counter()
    result = load.finish()
    time.sleep(1)
    reader_after = send(main.web_url + "/api/message", reader.sender, "/resume").json()
    log = main.log("rasa")
    during = window(result.samples, locked_at, released_at)
    figures = {
        "seconds_locked": round(released_at - locked_at, 1),
        "class_requests_while_locked": len(during),
        "answered_normally": sum(1 for s in during if s.error is None),
        "log": _lines(log, r"conversation store .*(cannot be written|writable again)"),
    }
    results["conversation_database_locked"] = figures
    assert figures["answered_normally"] == figures["class_requests_while_locked"] > 0
    assert "database is locked" in log and "writable again" in log
    assert choices_of(reader_after) == reader.choices


def test_conversation_disk_full(main, readers, launchers, results):
    if not launchers.disk.mounted:
        pytest.skip("no tmpfs for the conversation store (needs root)")
    reader = Reader(main.web_url, "fr", "CH")
    readers["disk_full"] = reader
    load = ClassLoad(main.web_url, duration_s=20)
    load.start()
    time.sleep(3)
    # SQLite reuses its write-ahead log: empty it first, so that writing needs new space
    with sqlite3.connect(launchers.disk.path / "conversations.db") as db:
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    filler = launchers.disk.fill()
    full_at = time.perf_counter()
    reader.step()
    reader.step()
    disclosure = send(
        main.web_url + "/api/message",
        f"full-{uuid.uuid4().hex[:10]}",
        "un homme sur insta me demande des photos de moi",
        {"language": "fr", "country": "CH"},
    ).json()
    time.sleep(6)
    filler.unlink()
    freed_at = time.perf_counter()
    result = load.finish()
    time.sleep(1)
    reader_after = send(main.web_url + "/api/message", reader.sender, "/resume").json()
    log = main.log("rasa")
    during = window(result.samples, full_at, freed_at)
    figures = {
        "seconds_full": round(freed_at - full_at, 1),
        "class_requests_while_full": len(during),
        "answered_normally": sum(1 for s in during if s.error is None),
        "disclosure_answered_with_help": bool(help_in(disclosure)),
        "log": _lines(log, r"conversation store .*(disk is full|writable again)"),
    }
    results["conversation_disk_full"] = figures
    assert figures["answered_normally"] == figures["class_requests_while_full"] > 0
    assert figures["disclosure_answered_with_help"]
    assert "disk is full" in log, figures["log"]
    assert choices_of(reader_after) == reader.choices


def test_rasa_killed(main, readers, results):
    figures, sent, _ = fault_during_class(main, "rasa")
    went_on = {name: r.resumes_where_it_was() for name, r in readers.items()}
    figures["stories_resumed_at_the_same_step"] = went_on
    results["rasa_killed"] = figures
    assert figures["disclosures_sent"] >= 10
    assert figures["answered_with_help"] == figures["disclosures_sent"], sent
    assert all(went_on.values()), went_on
    assert figures["conversations_went_on"] == figures["conversations_before"]
    assert figures["errors_after_back"] == 0


def test_web_app_killed(main, results):
    figures, sent, _ = fault_during_class(main, "web")
    refused = [d for d in sent if d["status"] == 0]
    figures["refused_at_connection"] = len(refused)
    results["web_app_killed"] = figures
    # Those that reached a server got help; the others met a closed port, where the
    # open page shows its own "can't reach Lumi" text with the helpline
    # (tests/browser/test_chat.py::test_web_app_down_shows_a_kind_message_with_a_helpline).
    assert figures["answered_with_help"] + len(refused) == figures["disclosures_sent"]
    assert figures["conversations_went_on"] == figures["conversations_before"]
    assert figures["errors_after_back"] == 0


def test_sigterm_stops_everything_and_frees_the_ports(main, results):
    pids = [main.pid(name) for name in ("actions", "rasa", "web")]
    seconds = main.stop(signal.SIGTERM)
    left = [pid for pid in pids if psutil.pid_exists(pid)]
    results["sigterm"] = {
        "seconds_to_stop": round(seconds, 1),
        "exit_code": main.proc.returncode,
        "processes_left": len(left),
        "ports_still_taken": main.ports_free(),
    }
    assert main.proc.returncode == 0
    assert not left
    assert main.ports_free() == []


# --------------------------------------------------------------------------- with Redis


def test_redis_stopped_and_back(launchers, results):
    launched, server = launchers.redis, launchers.redis_server
    if launched is None or server is None:
        pytest.skip("no redis-server on this machine")
    url = launched.rasa_url + "/webhooks/rest/webhook"
    reader = f"redis-{uuid.uuid4().hex[:10]}"
    send(url, reader, "/start", {"language": "en", "country": "GB"})
    choices = choices_of(send(url, reader, f'/start_story{{"story_id":"{STORY}"}}').json())
    assert choices
    server.stop()
    stopped_at = time.perf_counter()
    disclosure = send(
        url,
        f"redis-new-{uuid.uuid4().hex[:8]}",
        "he says he is coming to my house tonight to pick me up",
        {"language": "en", "country": "GB"},
    )
    other = send(url, reader, choices[0])
    server.start()
    back_at = time.perf_counter()
    time.sleep(1)
    resumed = send(url, reader, "/resume").json()
    log = launched.log("rasa")
    figures = {
        "seconds_stopped": round(back_at - stopped_at, 1),
        "disclosure_status": disclosure.status_code,
        "disclosure_answered_with_help": bool(help_in(disclosure.json())),
        "other_message_status": other.status_code,
        "other_message_reply": texts_of(other.json())[:1],
        "story_resumed_at_the_same_step": choices_of(resumed) == choices,
        "log": _lines(log, r"(?i)redis|connection refused")[:3],
    }
    results["redis_stopped"] = figures
    assert disclosure.status_code == 200 and figures["disclosure_answered_with_help"]
    assert other.status_code == 200 and other.json()
    assert figures["story_resumed_at_the_same_step"], texts_of(resumed)
    launched.stop()
    assert launched.proc.returncode == 0


def _lines(log: str, pattern: str) -> list[str]:
    found = [line for line in log.splitlines() if re.search(pattern, line)]
    return [re.sub(r"^\S+ \S+\s+", "", line)[:220] for line in found[-4:]]


def test_results_are_json(results):
    json.dumps(results)
