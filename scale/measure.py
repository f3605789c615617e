"""Measuring with the project's load generator (bench/load.py).

``measure_scenario`` runs one ``Driver.run_scenario`` and adds where the CPU
went (every component of the topology, the load generator, other work on the
machine) and the load averages. ``RecordingDriver`` is the same driver keeping,
for each turn, what was sent and whether a story button press moved the story
on (used by the failover check).
"""

from __future__ import annotations

import asyncio
import json
import os
import time
from dataclasses import dataclass, field
from typing import Any

from bench import procs as P
from bench.load import Conversation, Driver, ScenarioResult, Script

STORY_CHOICE = "/story_choice"


def load_avg() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


# --- story continuity ---------------------------------------------------------------------------


def story_press(message: str) -> dict[str, Any] | None:
    """The story_id/step/choice of a ``/story_choice{...}`` button press, else None."""
    if not message.startswith(STORY_CHOICE + "{"):
        return None
    try:
        value = json.loads(message[len(STORY_CHOICE) :])
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def story_moved_on(press: dict[str, Any], reply: list[dict[str, Any]] | None) -> bool:
    """A button of the current step was pressed: the reply must be the story's next
    step (its buttons, for the same story, of another step) or the story's end.
    A lost conversation answers "no story running" (menu buttons); an old state
    answers "that button is stale" with the same step again: both are False."""
    if not reply:
        return False
    for message in reply:
        custom = message.get("custom")
        if isinstance(custom, dict) and custom.get("kind") == "story_end":
            return custom.get("story_id") == press.get("story_id")
    for message in reply:
        for button in message.get("buttons") or []:
            other = story_press(str(button.get("payload", "")))
            if (
                other
                and other.get("story_id") == press.get("story_id")
                and other.get("step") != press.get("step")
            ):
                return True
    return False


@dataclass
class TurnRecord:
    sender: str
    started: float  # perf_counter at send
    latency: float
    error: str | None
    message_kind: str  # "story_press", "payload", "text"
    moved_on: bool | None  # for story presses: did the story advance


class _RememberingScript(Script):
    """Wraps a conversation's script and remembers the last message it chose."""

    def __init__(self, inner: Script) -> None:
        self.inner = inner
        self.last_message = ""

    def __getattr__(self, name: str) -> Any:  # stories_finished etc.
        return getattr(self.inner, name)

    def next_message(self, last_reply: list[dict[str, Any]] | None) -> str:
        self.last_message = self.inner.next_message(last_reply)
        return self.last_message


class RecordingDriver(Driver):
    """bench.load.Driver, plus one TurnRecord per turn."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.records: list[TurnRecord] = []

    def _conversations(self, name: str, user: int, count: int) -> list[Conversation]:
        conversations = super()._conversations(name, user, count)
        for conv in conversations:
            conv.script = _RememberingScript(conv.script)
        return conversations

    async def _turn(self, session: Any, conv: Conversation, result: ScenarioResult) -> None:
        await super()._turn(session, conv, result)
        # No await since the sample was appended: it is this turn's.
        sample = result.samples[-1]
        script = conv.script
        message = script.last_message if isinstance(script, _RememberingScript) else ""
        press = story_press(message)
        kind = "story_press" if press else ("payload" if message.startswith("/") else "text")
        moved = story_moved_on(press, conv.last_reply) if press and sample.error is None else None
        self.records.append(
            TurnRecord(conv.sender, sample.started, sample.latency, sample.error, kind, moved)
        )


# --- one measured scenario ------------------------------------------------------------------------


@dataclass
class CpuWindow:
    groups: dict[str, list[Any]]
    before: dict[str, float] = field(default_factory=dict)
    self_before: float = 0.0
    busy_before: float = 0.0
    started: float = 0.0
    load_before: list[float] = field(default_factory=list)

    def start(self) -> None:
        self.before = {name: P.cpu_seconds(roots) for name, roots in self.groups.items()}
        self.self_before = P.self_cpu_seconds()
        self.busy_before = P.machine_busy_seconds()
        self.load_before = load_avg()
        self.started = time.monotonic()

    def stop(self, ok_turns: int) -> dict[str, Any]:
        elapsed = time.monotonic() - self.started
        used = {
            name: max(0.0, P.cpu_seconds(roots) - self.before[name])
            for name, roots in self.groups.items()
        }
        generator = P.self_cpu_seconds() - self.self_before
        busy = P.machine_busy_seconds() - self.busy_before
        ours = sum(used.values())
        other = max(0.0, busy - ours - generator)

        def per_turn(seconds: float) -> float | None:
            return round(seconds * 1000 / ok_turns, 1) if ok_turns else None

        components = {
            name: {
                "cpu_s": round(seconds, 2),
                "cpu_ms_per_turn": per_turn(seconds),
                "cores": round(seconds / elapsed, 2),
            }
            for name, seconds in used.items()
        }
        components["load_generator"] = {
            "cpu_s": round(generator, 2),
            "cpu_ms_per_turn": per_turn(generator),
            "cores": round(generator / elapsed, 2),
        }
        return {
            "elapsed_s": round(elapsed, 1),
            "components": components,
            "topology_cpu_ms_per_turn": per_turn(ours),
            "all_our_cpu_ms_per_turn": per_turn(ours + generator),
            "machine_busy_cores": round(busy / elapsed, 2),
            "other_work_cores": round(other / elapsed, 2),
            "cpu_count": os.cpu_count(),
            "load_average_before": self.load_before,
            "load_average_after": load_avg(),
        }


def measure_scenario(
    name: str, url: str, groups: dict[str, list[Any]], seed: int, **scenario: Any
) -> dict[str, Any]:
    """Run one scenario of bench/load.py against ``url``; figures + CPU by component."""
    driver = Driver(url, "ours", seed=seed)
    window = CpuWindow(groups)
    window.start()
    result = asyncio.run(driver.run_scenario(name, **scenario))
    summary = result.summary()
    summary.update(window.stop(summary["ok_turns"]))
    return summary
