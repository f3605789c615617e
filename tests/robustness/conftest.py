"""Robustness tests against the REAL servers: bad input, limits, exposure, faults.

One stack (Rasa + action server, and the web app when ``bot/web`` exists) is
started for the session. Every bad input goes through :class:`Prober`, which
checks the contract's "Bad input" promise for it and counts what happened;
the counts are written to ``var/robustness-results.json`` at the end of the
session (quoted by docs/robustness.md).

A "bystander" conversation (French, Switzerland, in the middle of a story)
is read through Rasa's HTTP API before the suite and after every input: no
input from another sender may change it.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
import requests

from bot import text as texts
from bot.language import detect
from bot.paths import ROOT
from tests.servers import Stack, require_model

RESULTS_FILE = ROOT / "var" / "robustness-results.json"
# Slots a bad input must never change, in its own conversation or another one.
KEPT_SLOTS = ("language", "language_locked", "country", "learner_id", "class_code", "age_band")
# Each probe is a fresh child: alternately French in Belgium and English in Ireland.
PROFILES = (("fr", "BE"), ("en", "IE"))
BYSTANDER_PROFILE = ("fr", "CH")
STORY = "skin_gift"
TIMEOUT = 90


def pytest_collection_modifyitems(config, items):
    """Mark the suite, and run the fault tests last (they stop and restart servers)."""
    ours = [i for i in items if "tests/robustness/" in str(i.fspath)]
    for item in ours:
        item.add_marker(pytest.mark.model)
        item.add_marker(pytest.mark.e2e)
    faults = [i for i in items if "tests/robustness/test_faults.py" in str(i.fspath)]
    if faults:
        items[:] = [i for i in items if i not in faults] + faults


@pytest.fixture(scope="session")
def stack(tmp_path_factory):
    require_model()
    web = (ROOT / "bot" / "web" / "__main__.py").exists()
    stack = Stack.create(tmp_path_factory.mktemp("robustness-stack"), with_web=web)
    stack.start("actions")
    stack.start("rasa")
    if web:
        stack.start("web")
    try:
        stack.wait_actions()
        stack.wait_rasa()
    except TimeoutError:
        print(stack.log_tail("rasa"), stack.log_tail("actions"))
        stack.stop_all()
        raise
    stack.web_ready = False  # type: ignore[attr-defined]
    if web:
        try:
            stack.wait_web()
            stack.web_ready = True  # type: ignore[attr-defined]
        except TimeoutError:  # the web app is someone else's work in progress
            print("web app not ready:", stack.log_tail("web"))
    yield stack
    stack.stop_all()


# --- talking to the stack -----------------------------------------------------------


def post(stack: Stack, body: bytes, content_type: str = "application/json") -> requests.Response:
    return requests.post(
        stack.rasa_url + "/webhooks/rest/webhook",
        data=body,
        headers={"Content-Type": content_type},
        timeout=TIMEOUT,
    )


def body_for(sender: Any, message: Any, metadata: Any = None) -> bytes:
    body: dict[str, Any] = {"sender": sender, "message": message}
    if metadata is not None:
        body["metadata"] = metadata
    return json.dumps(body).encode()


def send(stack: Stack, sender: str, message: str, metadata: Any = None) -> requests.Response:
    return post(stack, body_for(sender, message, metadata))


def tracker(stack: Stack, sender: str) -> dict[str, Any]:
    assert stack.settings
    response = requests.get(
        f"{stack.rasa_url}/conversations/{sender}/tracker",
        params={"token": stack.settings.rasa_token},
        timeout=TIMEOUT,
    )
    response.raise_for_status()
    return response.json()


def slots(stack: Stack, sender: str) -> dict[str, Any]:
    return dict(tracker(stack, sender).get("slots") or {})


def texts_of(reply: Any) -> list[str]:
    return [m["text"] for m in reply if isinstance(m, dict) and isinstance(m.get("text"), str)]


def payloads_of(reply: Any) -> list[dict[str, Any]]:
    return [m["custom"] for m in reply if isinstance(m, dict) and isinstance(m.get("custom"), dict)]


def new_sender(prefix: str = "rob") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:16]}"


def greeting(lang: str) -> str:
    return texts.t("menu.greeting", lang)


def other(lang: str) -> str:
    return "en" if lang == "fr" else "fr"


# --- the aggregate ------------------------------------------------------------------


@dataclass
class Results:
    """What the suite tried and what went wrong (written to var/robustness-results.json)."""

    inputs_tried: int = 0
    crashes: int = 0  # 5xx, no reply, a reply that is not the contract's JSON
    lost_state: int = 0  # a conversation (its own or the bystander's) whose state changed
    wrong_language: int = 0  # a reply not in the child's language
    not_normal_after: int = 0  # the next /start was not answered normally
    by_category: Counter = field(default_factory=Counter)
    statuses: Counter = field(default_factory=Counter)
    failures: list[dict[str, Any]] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def as_dict(self) -> dict[str, Any]:
        return {
            "inputs_tried": self.inputs_tried,
            "crashes": self.crashes,
            "conversations_that_lost_state": self.lost_state,
            "replies_in_the_wrong_language": self.wrong_language,
            "next_message_not_answered_normally": self.not_normal_after,
            "inputs_by_category": dict(sorted(self.by_category.items())),
            "http_statuses": {str(k): v for k, v in sorted(self.statuses.items())},
            "failures": self.failures[:50],
            **self.extra,
        }


@pytest.fixture(scope="session")
def results():
    found = Results()
    started = time.monotonic()
    yield found
    if found.inputs_tried:
        RESULTS_FILE.parent.mkdir(parents=True, exist_ok=True)
        data = {
            "written": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "duration_s": round(time.monotonic() - started, 1),
            **found.as_dict(),
        }
        RESULTS_FILE.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n")


# --- the bystander ------------------------------------------------------------------


@dataclass
class Bystander:
    sender: str
    lang: str
    country: str
    slots: dict[str, Any]
    events: int


@pytest.fixture(scope="session")
def bystander(stack) -> Bystander:
    """Another child's conversation: French, Switzerland, a learner id, inside a story."""
    lang, country = BYSTANDER_PROFILE
    sender = new_sender("bystander")
    metadata = {"language": lang, "country": country, "learner_id": "bystanderLearner01"}
    assert send(stack, sender, "/start", metadata).status_code == 200
    assert send(stack, sender, f'/start_story{{"story_id":"{STORY}"}}').status_code == 200
    state = tracker(stack, sender)
    kept = state["slots"]
    assert (kept["language"], kept["country"], kept["mode"]) == (lang, country, "story")
    return Bystander(sender, lang, country, dict(kept), len(state["events"]))


# --- one bad input, checked -------------------------------------------------------------


@dataclass
class Case:
    """One bad input.

    ``build(sender)`` gives the raw body; ``context`` is where the child is when
    it arrives (menu, story or check); ``own_sender`` is False when the body
    does not come from the probing child (missing, huge or another sender id).
    """

    name: str
    category: str
    build: Callable[[str], bytes]
    context: str = "menu"
    own_sender: bool = True
    content_type: str = "application/json"
    # Language of the reply: the child's (True), or no check (a pasted message,
    # a quick check of an unparsable body).
    check_language: bool = True


def message_case(name: str, category: str, message: Any, context: str = "menu", **kw) -> Case:
    return Case(name, category, lambda s: body_for(s, message), context=context, **kw)


class Prober:
    def __init__(self, stack: Stack, results: Results, bystander: Bystander) -> None:
        self.stack = stack
        self.results = results
        self.bystander = bystander
        self._count = 0
        self._lock = threading.Lock()

    def _profile(self) -> tuple[str, str]:
        with self._lock:
            self._count += 1
            return PROFILES[self._count % 2]

    def _fail(self, case: Case, kind: str, detail: str) -> str:
        with self.results.lock:
            self.results.failures.append({"case": case.name, "kind": kind, "detail": detail[:300]})
        return f"{case.name}: {kind}: {detail[:300]}"

    def setup_child(self, lang: str, country: str, context: str) -> str:
        sender = new_sender()
        reply = send(self.stack, sender, "/start", {"language": lang, "country": country})
        assert reply.status_code == 200, reply.text[:300]
        if context == "story":
            reply = send(self.stack, sender, f'/start_story{{"story_id":"{STORY}"}}')
            assert reply.status_code == 200 and texts_of(reply.json()), reply.text[:300]
        elif context == "check":
            reply = send(self.stack, sender, "/check_message")
            assert reply.status_code == 200 and texts_of(reply.json()), reply.text[:300]
        return sender

    def run(self, case: Case) -> list[str]:
        """Send ``case`` and check the contract; returns the problems (empty: all good)."""
        lang, country = self._profile()
        sender = self.setup_child(lang, country, case.context)
        before = slots(self.stack, sender)
        problems: list[str] = []
        crashed = wrong_lang = lost = not_normal = False

        # 1. the input itself: a clear reply (JSON list with a text) or a 4xx with a JSON error
        try:
            response = post(self.stack, case.build(sender), case.content_type)
            status = response.status_code
        except requests.RequestException as error:
            response, status = None, 0
            problems.append(self._fail(case, "crash", f"no response: {error!r}"))
            crashed = True
        if response is not None:
            try:
                data = response.json()
            except ValueError:
                data = None
            if status >= 500:
                crashed = True
                problems.append(self._fail(case, "crash", f"HTTP {status}: {response.text}"))
            elif status == 200 or status == 429:
                if not (isinstance(data, list) and texts_of(data)):
                    crashed = True
                    problems.append(self._fail(case, "crash", f"no text in {response.text}"))
                elif status == 200 and case.check_language and case.own_sender:
                    said = " ".join(texts_of(data))
                    langs = {p.get("lang") for p in payloads_of(data)}
                    if detect(said) == other(lang) or langs - {lang}:
                        wrong_lang = True
                        problems.append(self._fail(case, "wrong language", f"{lang}: {said}"))
            elif 400 <= status < 500:
                if not (isinstance(data, dict) and isinstance(data.get("error"), str)):
                    crashed = True
                    problems.append(self._fail(case, "crash", f"{status} without JSON error"))
            else:
                crashed = True
                problems.append(self._fail(case, "crash", f"unexpected HTTP {status}"))

        # 2. its own state is not corrupted
        after = slots(self.stack, sender)
        changed = {
            k: (before.get(k), after.get(k)) for k in KEPT_SLOTS if before.get(k) != after.get(k)
        }
        if changed:
            lost = True
            problems.append(self._fail(case, "own state changed", repr(changed)))

        # 3. nobody else's state changed
        now = slots(self.stack, self.bystander.sender)
        if now != self.bystander.slots:
            lost = True
            diff = {k: (self.bystander.slots.get(k), now.get(k)) for k in now}
            diff = {k: v for k, v in diff.items() if v[0] != v[1]}
            problems.append(self._fail(case, "bystander state changed", repr(diff)))

        # 4. the next normal message is answered normally, in the child's language
        follow = send(self.stack, sender, "/start")
        said = texts_of(follow.json()) if follow.status_code == 200 else []
        if not said or not said[0].startswith(greeting(lang)):
            not_normal = True
            problems.append(self._fail(case, "next /start", f"{follow.status_code} {said[:1]}"))

        with self.results.lock:
            self.results.inputs_tried += 1
            self.results.by_category[case.category] += 1
            self.results.statuses[status] += 1
            self.results.crashes += crashed
            self.results.wrong_language += wrong_lang
            self.results.lost_state += lost
            self.results.not_normal_after += not_normal
        return problems


@pytest.fixture(scope="session")
def prober(stack, results, bystander) -> Prober:
    return Prober(stack, results, bystander)
