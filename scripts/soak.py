"""Soak test: a class of children using Lumi for ten minutes, memory watched.

Starts the real servers (Rasa, action server, and the web app when ``bot/web``
exists) on free ports, then 30 simulated children (configurable) play role-play
stories with 2-8 s of think time between messages, start the quiz, ask for
help, and a few of them disclose a problem or check a message they received.
Every 10 s the resident memory (RSS) of every server process (with its child
processes) is sampled.

At the end: memory growth per server (mean RSS over the last minute against
the first minute after the warm-up), requests, latency and errors, printed and
written to ``var/soak-results.json``. The run passes when the growth of every
server is under ``--max-growth`` (10 %) and there is no error; the exit status
is 1 otherwise.

An error is: a request that fails or times out (a request on a kept-alive
connection the server had just closed is sent again once, as browsers do, and
counted apart), an HTTP status other than 200, a reply without any text, a
disclosure answered without the safeguarding payload, a message check answered
without its ``tactic_check`` payload, or a story that offers no next step.

Usage:
    .venv/bin/python scripts/soak.py [--minutes 10] [--children 30]
        [--warmup 60] [--via web|rasa] [--seed 1] [--env NAME=VALUE ...]

Not part of ``make test`` (too long); see docs/robustness.md for the figures.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import statistics
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import psutil  # noqa: E402
import requests  # noqa: E402

RESULTS = ROOT / "var" / "soak-results.json"
SAMPLE_EVERY = 10.0  # seconds between two memory samples
TIMEOUT = 60.0
COUNTRIES = ("FR", "BE", "CH", "CA", "GB", "IE", "US")

# Sentences the end-to-end tests use: the model and the safety net know them.
DISCLOSURES = {
    "en": [
        "a man on snap keeps asking me for pics",
        "he says he is coming to my house tonight to pick me up",
    ],
    "fr": [
        "un mec sur snap me demande des photos de moi",
        "un monsieur sur insta me demande des photos de moi",
    ],
}
PASTES = {
    "en": ["if u dont send more pics i will post the one u sent to all ur followers"],
    "fr": ["si tu m'envoies pas d'autres photos je montre celle que t'as envoyée à tout le monde"],
}
FREE_TEXT = {
    "en": ["i would tell my mum", "no way", "block him", "i dont know"],
    "fr": ["je le dis à ma mère", "non jamais", "je le bloque", "jsp"],
}


@dataclass
class Stats:
    requests: int = 0
    retries: int = 0  # requests sent again after a stale kept-alive connection
    latencies: list[float] = field(default_factory=list)
    errors: list[dict[str, Any]] = field(default_factory=list)
    actions: Counter = field(default_factory=Counter)
    statuses: Counter = field(default_factory=Counter)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def error(self, child: str, what: str, detail: str = "") -> None:
        with self.lock:
            self.errors.append(
                {"t": round(time.time(), 1), "child": child, "what": what, "detail": detail[:200]}
            )


def payloads(reply: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [
        m["custom"]
        for m in reply
        if isinstance(m.get("custom"), dict) and m["custom"].get("kind") == kind
    ]


def buttons(reply: list[dict[str, Any]], prefix: str) -> list[str]:
    return [
        b["payload"]
        for m in reply
        for b in m.get("buttons") or []
        if str(b.get("payload", "")).startswith(prefix)
    ]


class Child(threading.Thread):
    """One child: stories most of the time, sometimes the quiz, help, a check or a disclosure."""

    def __init__(
        self, index: int, url: str, stats: Stats, stop: threading.Event, seed: int, lang: str
    ) -> None:
        super().__init__(name=f"child-{index}", daemon=True)
        self.url = url
        self.stats = stats
        self.stop_event = stop
        self.rng = random.Random(seed * 1000 + index)
        self.lang = lang
        self.sender = f"soak{index:02d}{uuid.uuid4().hex[:10]}"
        self.metadata = {
            "language": lang,
            "country": self.rng.choice(COUNTRIES),
            "learner_id": self.sender,
        }
        self.session = requests.Session()

    # -- talking ------------------------------------------------------------------
    def think(self) -> bool:
        """Wait 2-8 s like a child reading and choosing; False when time is up."""
        return not self.stop_event.wait(self.rng.uniform(2.0, 8.0))

    def say(self, message: str, action: str) -> list[dict[str, Any]] | None:
        started = time.monotonic()
        body = {"sender": self.sender, "message": message, "metadata": self.metadata}
        try:
            try:
                response = self.session.post(self.url, json=body, timeout=TIMEOUT)
            except requests.ConnectionError:
                # The server closed a kept-alive connection while the child was thinking
                # (uvicorn keeps idle connections 5 s): the request was never read.
                # Browsers send it again on a new connection; so do we, once.
                with self.stats.lock:
                    self.stats.retries += 1
                self.session.close()
                response = self.session.post(self.url, json=body, timeout=TIMEOUT)
        except requests.RequestException as error:
            self.stats.error(self.sender, f"{action}: no response", repr(error))
            return None
        elapsed = time.monotonic() - started
        with self.stats.lock:
            self.stats.requests += 1
            self.stats.latencies.append(elapsed)
            self.stats.actions[action] += 1
            self.stats.statuses[response.status_code] += 1
        if response.status_code != 200:
            self.stats.error(self.sender, f"{action}: HTTP {response.status_code}", response.text)
            return None
        try:
            reply = response.json()
        except ValueError:
            self.stats.error(self.sender, f"{action}: not JSON", response.text)
            return None
        if not isinstance(reply, list) or not any(m.get("text") for m in reply):
            self.stats.error(self.sender, f"{action}: no text", response.text)
            return None
        return reply

    # -- activities -----------------------------------------------------------------
    def story(self) -> None:
        listing = self.say("/list_stories", "list_stories")
        if listing is None or not self.think():
            return
        stories = payloads(listing, "story_list")
        ids = [s["id"] for s in stories[0]["stories"]] if stories else []
        if not ids:
            said = " | ".join(str(m.get("text", ""))[:60] for m in listing)
            self.stats.error(self.sender, "list_stories: no story_list payload", said)
            return
        story_id = self.rng.choice(ids)
        reply = self.say(f'/start_story{{"story_id":"{story_id}"}}', "start_story")
        for _ in range(25):
            if reply is None or payloads(reply, "story_end") or not self.think():
                return
            choices = buttons(reply, "/story_choice")
            if not choices:
                said = " | ".join(str(m.get("text", ""))[:60] for m in reply)
                self.stats.error(self.sender, f"story {story_id}: no next step", said)
                return
            if self.rng.random() < 0.15:
                reply = self.say(self.rng.choice(FREE_TEXT[self.lang]), "story_free_text")
                if reply is not None and not (
                    buttons(reply, "/story_choice") or payloads(reply, "story_end")
                ):
                    # the story asked again or moved on: carry on with the buttons we had
                    reply = [{"buttons": [{"payload": c} for c in choices]}]
            else:
                reply = self.say(self.rng.choice(choices), "story_choice")

    def quiz(self) -> None:
        reply = self.say("/start_quiz", "start_quiz")
        for _ in range(3):
            if reply is None or not self.think():
                return
            answers = buttons(reply, "/quiz_answer")
            if not answers:
                return
            reply = self.say(self.rng.choice(answers), "quiz_answer")

    def check(self) -> None:
        if self.say("/check_message", "check_message") is None or not self.think():
            return
        reply = self.say(self.rng.choice(PASTES[self.lang]), "check_paste")
        if reply is not None and not payloads(reply, "tactic_check"):
            self.stats.error(self.sender, "check: no tactic_check payload")

    def disclose(self) -> None:
        reply = self.say(self.rng.choice(DISCLOSURES[self.lang]), "disclosure")
        if reply is None:
            return
        if not payloads(reply, "safeguard"):
            self.stats.error(self.sender, "disclosure: no safeguard payload")
        if self.think():
            self.say("/resume", "resume")

    def run(self) -> None:
        # children arrive over the first 20 s, as a class logs in
        if self.stop_event.wait(self.rng.uniform(0, 20)):
            return
        self.say("/start", "start")
        while self.think():
            roll = self.rng.random()
            if roll < 0.03:
                self.disclose()
            elif roll < 0.10:
                self.check()
            elif roll < 0.20:
                self.quiz()
            elif roll < 0.25:
                self.say("/help", "help")
            else:
                self.story()


# -- memory ---------------------------------------------------------------------------


def tree_rss(pid: int) -> int:
    """RSS of a process and all its children, in bytes (0 when gone)."""
    try:
        root = psutil.Process(pid)
        procs = [root, *root.children(recursive=True)]
    except psutil.Error:
        return 0
    total = 0
    for proc in procs:
        with contextlib.suppress(psutil.Error):
            total += proc.memory_info().rss
    return total


def sampler(
    pids: dict[str, int], samples: list[dict[str, Any]], stop: threading.Event, start: float
) -> None:
    while True:
        row: dict[str, Any] = {"t": round(time.monotonic() - start, 1)}
        row["load1"] = round(os.getloadavg()[0], 2)  # the machine may be shared
        for name, pid in pids.items():
            row[name] = tree_rss(pid)
        samples.append(row)
        if stop.wait(SAMPLE_EVERY):
            return


def growth(samples: list[dict[str, Any]], name: str, warmup: float, end: float) -> dict[str, Any]:
    first = [s[name] for s in samples if warmup <= s["t"] < warmup + 60]
    last = [s[name] for s in samples if s["t"] >= end - 60]
    if not first or not last:
        return {"first_minute_mb": None, "last_minute_mb": None, "growth_pct": None}
    a, b = statistics.mean(first), statistics.mean(last)
    return {
        "first_minute_mb": round(a / 2**20, 1),
        "last_minute_mb": round(b / 2**20, 1),
        "max_mb": round(max(s[name] for s in samples) / 2**20, 1),
        "growth_pct": round(100 * (b - a) / a, 2) if a else None,
    }


def percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))], 3)


# -- main -------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=10.0, help="length of the load (10)")
    parser.add_argument("--children", type=int, default=30, help="simulated children (30)")
    parser.add_argument("--warmup", type=float, default=60.0, help="seconds before measuring")
    parser.add_argument("--via", choices=("web", "rasa"), default=None, help="default: web if any")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--max-growth", type=float, default=10.0, help="percent (10)")
    parser.add_argument("--output", type=Path, default=RESULTS)
    parser.add_argument(
        "--env",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="extra environment for the servers (repeatable), e.g. SANIC_KEEP_ALIVE_TIMEOUT=30",
    )
    args = parser.parse_args(argv)
    extra_env = dict(item.split("=", 1) for item in args.env)
    duration = args.minutes * 60
    if duration < args.warmup + 120:
        parser.error("--minutes must leave at least two minutes after the warm-up")

    from tests.servers import Stack, require_model

    require_model()
    has_web = (ROOT / "bot" / "web" / "__main__.py").exists()
    via = args.via or ("web" if has_web else "rasa")
    if via == "web" and not has_web:
        parser.error("--via web: there is no web app (bot/web) in this tree")
    workdir = Path(tempfile.mkdtemp(prefix="lumi-soak-"))
    stack = Stack.create(workdir, with_web=has_web, extra_env=extra_env)
    names = ("actions", "rasa", "web") if has_web else ("actions", "rasa")
    print(f"starting {', '.join(names)} (logs in {workdir}) ...", flush=True)
    booted = time.monotonic()
    stack.boot(*names)
    print(f"ready in {time.monotonic() - booted:.0f} s", flush=True)
    webhook = stack.rasa_url + "/webhooks/rest/webhook"
    url = stack.web_url + "/api/message" if via == "web" else webhook
    pids = {name: proc.pid for name, proc in stack.procs.items()}

    stats = Stats()
    stop = threading.Event()
    samples: list[dict[str, Any]] = []
    start = time.monotonic()
    watcher = threading.Thread(target=sampler, args=(pids, samples, stop, start), daemon=True)
    watcher.start()
    langs = ["fr", "en"]
    children = [Child(i, url, stats, stop, args.seed, langs[i % 2]) for i in range(args.children)]
    print(
        f"{args.children} children for {args.minutes:g} min via {via} "
        f"(warm-up {args.warmup:.0f} s, memory every {SAMPLE_EVERY:.0f} s)",
        flush=True,
    )
    try:
        for child in children:
            child.start()
        while time.monotonic() - start < duration:
            time.sleep(min(30.0, max(0.0, duration - (time.monotonic() - start))))
            elapsed = time.monotonic() - start
            latest = samples[-1] if samples else {}
            memory = ", ".join(
                f"{n} {latest.get(n, 0) / 2**20:.0f} MB" for n in pids if n in latest
            )
            print(
                f"  {elapsed:5.0f} s  {stats.requests} requests, {len(stats.errors)} errors; "
                f"{memory}",
                flush=True,
            )
        stop.set()
        for child in children:
            child.join(timeout=TIMEOUT + 5)
        watcher.join(timeout=SAMPLE_EVERY + 5)
    finally:
        stop.set()
        alive = {name: proc.poll() is None for name, proc in stack.procs.items()}
        stack.stop_all()
    end = samples[-1]["t"] if samples else 0.0

    memory = {name: growth(samples, name, args.warmup, end) for name in pids}
    worst = max((m["growth_pct"] or 0.0) for m in memory.values()) if memory else 0.0
    passed = not stats.errors and worst < args.max_growth and all(alive.values())
    report = {
        "written": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "minutes": args.minutes,
        "children": args.children,
        "via": via,
        "extra_env": extra_env,
        "warmup_s": args.warmup,
        "think_time_s": [2, 8],
        "requests": stats.requests,
        "requests_per_second": round(stats.requests / max(end, 1.0), 2),
        "actions": dict(sorted(stats.actions.items())),
        "http_statuses": {str(k): v for k, v in sorted(stats.statuses.items())},
        "latency_s": {
            "p50": percentile(stats.latencies, 0.50),
            "p95": percentile(stats.latencies, 0.95),
            "p99": percentile(stats.latencies, 0.99),
            "max": round(max(stats.latencies), 3) if stats.latencies else None,
        },
        "stale_connection_retries": stats.retries,
        "errors": len(stats.errors),
        "error_samples": stats.errors[:20],
        "servers_alive_at_end": alive,
        "memory": memory,
        "worst_growth_pct": worst,
        "machine": {
            "cpus": os.cpu_count(),
            "load1_mean": round(statistics.mean(s["load1"] for s in samples), 2)
            if samples
            else None,
            "load1_max": max((s["load1"] for s in samples), default=None),
        },
        "target": {"max_growth_pct": args.max_growth, "errors": 0},
        "passed": passed,
        "samples_mb": [
            {k: (v if k in ("t", "load1") else round(v / 2**20, 1)) for k, v in s.items()}
            for s in samples
        ],
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")

    print(f"\nsoak: {args.children} children, {args.minutes:g} min via {via} {extra_env or ''}")
    print(
        f"requests {stats.requests} ({report['requests_per_second']}/s), "
        f"errors {len(stats.errors)} (stale connections retried: {stats.retries}), "
        f"latency p50 {report['latency_s']['p50']} s, "
        f"p95 {report['latency_s']['p95']} s, max {report['latency_s']['max']} s"
    )
    print("memory (mean RSS, first minute after warm-up -> last minute):")
    for name, m in memory.items():
        print(
            f"  {name:8s} {m['first_minute_mb']} MB -> {m['last_minute_mb']} MB "
            f"({m['growth_pct']:+.2f} %), max {m.get('max_mb')} MB"
            if m["growth_pct"] is not None
            else f"  {name:8s} not enough samples"
        )
    for error in stats.errors[:5]:
        print(f"  error: {error['what']} {error['detail'][:100]}")
    print(f"{'PASSED' if passed else 'FAILED'} (target: growth < {args.max_growth:g} %, 0 errors)")
    print(f"written to {args.output}")
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
