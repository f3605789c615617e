"""Profile our turn path under load: where do the Rasa server and the action server spend time?

    .venv/bin/python -m bench.profiling                 # about 3 minutes
    .venv/bin/python -m bench.profiling --users 20 --duration 60

Starts our Rasa server and action server exactly as the launcher does (same
arguments, ports from ``tests.servers.Stack``), each inside a small wrapper
that runs it under pyinstrument. Profiling covers only serving: it starts on
SIGUSR1, after the model is loaded and a warm-up, and stops on SIGUSR2, after
the load. The load is bench/load.py's saturation scenario (no think time).
pyinstrument samples the main thread, where Sanic's event loop runs every
request; time waiting for the network (the action server, the client) shows
as the event loop's ``select`` (idle), not as work.

Writes bench/results/profile.txt: per process, busy time by component, the
hottest functions (self time) and the call tree.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import shlex
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from bench import procs as P

OUT = P.ROOT / "bench" / "results" / "profile.txt"

# Each frame's own time goes to the innermost component on its call path (so TensorFlow
# under DIET counts as DIET); patterns are "path/suffix", "path/" or "path:function".
IDLE = "event loop (uvloop, in C) incl. waiting for the network"
COMPONENTS: dict[str, list[tuple[str, str]]] = {
    "rasa": [
        (IDLE, "sanic/server/runners.py:serve"),
        (
            "RemoteAction: jsonschema check of the action server's reply",
            "rasa/core/actions/action.py:_validate_action_result",
        ),
        (
            "RemoteAction: request body (tracker + full domain), HTTP to the action server",
            "rasa/utils/endpoints.py:request",
        ),
        (
            "RemoteAction: tracker state for the request",
            "rasa/core/actions/action.py:_action_call_format",
        ),
        ("RemoteAction: other (replies to bot messages)", "rasa/core/actions/action.py:run"),
        ("NLU: DIETClassifier (incl. TensorFlow)", "rasa/nlu/classifiers/diet_classifier.py"),
        ("NLU: featurizers", "rasa/nlu/featurizers/"),
        ("NLU: tokenizer", "rasa/nlu/tokenizers/"),
        ("NLU: FallbackClassifier", "rasa/nlu/classifiers/fallback_classifier.py"),
        ("NLU: addons.nlu (long text guard, annotator)", "addons/nlu.py"),
        ("policies (RulePolicy, incl. the tracker's past states)", "rasa/core/policies/"),
        ("tracker store: serialise / deserialise the conversation", "rasa/core/tracker_store.py"),
        ("tracker store: ours (redaction, JSON read and write)", "addons/tracker_store.py"),
        ("lock store", "rasa/core/lock_store.py"),
        ("our REST channel (checks, rate limit, slot read)", "addons/channel.py"),
        ("graph runner (dask) and other engine work", "rasa/engine/"),
        ("message processor, other", "rasa/core/processor.py"),
        ("Sanic request handling", "sanic/"),
    ],
    "actions": [
        (IDLE, "sanic/server/runners.py:serve"),
        ("stories engine", "bot/stories/"),
        ("language detection", "bot/language.py"),
        ("safeguarding screen", "bot/safeguarding/"),
        ("message checker", "bot/checker/"),
        ("texts / i18n", "bot/text.py"),
        ("progress storage", "bot/progress.py"),
        ("bot package (other)", "bot/"),
        ("our actions (adapter)", "actions/"),
        ("rasa_sdk: request parsing, tracker, events", "rasa_sdk/"),
        ("Sanic request handling", "sanic/"),
    ],
}


# --- inside the profiled server process -----------------------------------------------------------


def serve(kind: str, out: Path, argv: list[str]) -> None:
    """Run the server of ``kind`` with ``argv``; profile between SIGUSR1 and SIGUSR2."""
    from pyinstrument import Profiler

    profiler = Profiler(interval=0.001, async_mode="disabled")
    state = {"running": False}

    def start() -> None:
        if not state["running"]:
            state["running"] = True
            profiler.start()

    def stop() -> None:
        if state["running"]:
            state["running"] = False
            session = profiler.stop()
            session.save(str(out))

    async def listener(app: Any, loop: asyncio.AbstractEventLoop) -> None:
        loop.add_signal_handler(signal.SIGUSR1, start)
        loop.add_signal_handler(signal.SIGUSR2, stop)
        out.with_suffix(".ready").write_text("ready\n")

    async def before_stop(app: Any, loop: asyncio.AbstractEventLoop) -> None:
        stop()

    if kind == "rasa":
        import functools

        import rasa.core.run

        original = rasa.core.run.serve_application

        @functools.wraps(original)
        def serve_application(*args: Any, **kwargs: Any) -> None:
            listeners = list(kwargs.get("server_listeners") or [])
            listeners += [(listener, "after_server_start"), (before_stop, "before_server_stop")]
            kwargs["server_listeners"] = listeners
            return original(*args, **kwargs)

        rasa.core.run.serve_application = serve_application
        from rasa.__main__ import main

        sys.argv = ["rasa", *argv]
        main()
    else:
        import rasa_sdk.endpoint

        create_app = rasa_sdk.endpoint.create_app

        def create_app_profiled(*args: Any, **kwargs: Any) -> Any:
            app = create_app(*args, **kwargs)
            app.register_listener(listener, "after_server_start")
            app.register_listener(before_stop, "before_server_stop")
            return app

        rasa_sdk.endpoint.create_app = create_app_profiled
        from actions.__main__ import main as actions_main

        sys.argv = ["actions", *argv]
        actions_main()


# --- analysis ------------------------------------------------------------------------------------


def _matches(frame: Any, pattern: str) -> bool:
    path = (frame.file_path or "").replace("\\", "/")
    if ":" in pattern:
        file_part, name = pattern.split(":", 1)
        return path.endswith(file_part) and frame.function == name
    if pattern.endswith("/"):
        return f"/{pattern}" in path
    return path.endswith(pattern)


def by_component(root: Any, kind: str) -> dict[str, float]:
    """Own time of every frame, summed by the innermost component on its call path."""
    totals: dict[str, float] = {label: 0.0 for label, _ in COMPONENTS[kind]}
    totals["other"] = 0.0
    stack: list[tuple[Any, str]] = [(root, "other")]
    while stack:
        frame, label = stack.pop()
        for candidate, pattern in COMPONENTS[kind]:
            if _matches(frame, pattern):
                label = candidate
                break
        totals[label] += frame.total_self_time
        inherited = "other" if label == IDLE else label
        stack.extend((child, inherited) for child in frame.children if not child.is_synthetic)
    return totals


def hottest(root: Any, limit: int = 25) -> list[tuple[float, str]]:
    """Self time by function (file:function), summed over the tree."""
    totals: dict[str, float] = {}
    stack = [root]
    while stack:
        frame = stack.pop()
        stack.extend(frame.children)
        if frame.is_synthetic:
            continue
        key = f"{frame.function}  ({frame.file_path_short}:{frame.line_no})"
        totals[key] = totals.get(key, 0.0) + frame.total_self_time
    return sorted(((t, k) for k, t in totals.items()), reverse=True)[:limit]


def summarise(kind: str, session_path: Path, turns: int) -> str:
    from pyinstrument.renderers import ConsoleRenderer
    from pyinstrument.session import Session

    session = Session.load(str(session_path))
    root = session.root_frame()
    if root is None:
        return f"## {kind}: no samples\n"
    total = root.time
    parts = by_component(root, kind)
    busy = total - parts.get(IDLE, 0.0)
    cpu = session.cpu_time or 0.0
    per_turn = max(turns, 1)
    lines = [
        f"## {kind} server: {total:.1f} s profiled (wall), busy {busy:.1f} s ({busy / total:.0%}),"
        f" CPU {cpu:.1f} s; {turns} turns → {cpu * 1000 / per_turn:.1f} ms CPU per turn",
        "",
        "Busy time by component (innermost match on each call path); ms CPU/turn = share of"
        " busy time × CPU per turn:",
        "",
    ]
    for label, seconds in sorted(parts.items(), key=lambda item: -item[1]):
        if label == IDLE or seconds <= 0:
            continue
        share = seconds / busy if busy else 0.0
        lines.append(f"  {share:6.1%}  {share * cpu * 1000 / per_turn:6.1f} ms/turn  {label}")
    lines += ["", "Hottest functions (self time, % of busy time):", ""]
    for seconds, key in hottest(root):
        if key.startswith("serve  (sanic/server/runners.py"):
            continue
        lines.append(f"  {seconds / busy:6.1%}  {key}")
    renderer = ConsoleRenderer(
        unicode=True,
        color=False,
        show_all=False,
        time="percent_of_total",
        processor_options={
            "filter_threshold": 0.01,
            "show_regex": r".*/(rasa|rasa_sdk|addons|bot|actions)/.*",
        },
    )
    tree_lines = renderer.render(session).splitlines()
    limit = 160
    lines += ["", "Call tree (pyinstrument, % of profiled wall time):", ""]
    lines += tree_lines[:limit]
    if len(tree_lines) > limit:
        lines.append(f"  … {len(tree_lines) - limit} more lines in {session_path}")
    return "\n".join(lines) + "\n"


# --- the driver ---------------------------------------------------------------------------------


def start_profiled(stack: Any, name: str, session_path: Path) -> None:
    from bot.launcher import commands, endpoints_yaml

    endpoints = stack.workdir / "endpoints.yml"
    endpoints.write_text(endpoints_yaml(stack.settings), encoding="utf-8")
    command = shlex.split(commands(stack.settings, endpoints)[name])
    # drop ".../bin/rasa" or ".../python -m actions"
    argv = command[1:] if name == "rasa" else command[3:]
    full = [sys.executable, "-m", "bench.profiling", "--serve", name, str(session_path)]
    full += ["--", *argv]
    log = stack.workdir / f"{name}.log"
    stack.logs[name] = log
    with log.open("ab") as handle:
        stack.procs[name] = subprocess.Popen(
            full,
            cwd=P.ROOT,
            env=stack.env,
            stdout=handle,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def remote_calls_per_turn(stack: Any, senders: list[str]) -> dict[str, Any]:
    """From the trackers: how many action-server calls a child's message costs."""
    import requests

    assert stack.settings
    action_url = f"http://127.0.0.1:{stack.settings.action_port}/actions"
    custom = {a["name"] for a in requests.get(action_url, timeout=10).json()}
    user_turns, calls = 0, 0
    by_name: dict[str, int] = {}
    for sender in senders:
        reply = requests.get(
            f"{stack.rasa_url}/conversations/{sender}/tracker",
            params={"token": stack.settings.rasa_token},
            timeout=30,
        )
        if reply.status_code != 200:
            continue
        for event in reply.json().get("events", []):
            if event.get("event") == "user":
                user_turns += 1
            elif event.get("event") == "action" and event.get("name") in custom:
                calls += 1
                by_name[event["name"]] = by_name.get(event["name"], 0) + 1
    return {
        "user_turns": user_turns,
        "remote_action_calls": calls,
        "per_turn": round(calls / user_turns, 2) if user_turns else None,
        "by_action": dict(sorted(by_name.items(), key=lambda item: -item[1])),
    }


def signal_all(stack: Any, signum: int) -> None:
    for proc in stack.procs.values():
        with contextlib.suppress(ProcessLookupError):
            os.kill(proc.pid, signum)


def drive(args: argparse.Namespace) -> int:
    from bench.load import Driver

    if str(P.ROOT) not in sys.path:
        sys.path.insert(0, str(P.ROOT))
    from tests.servers import Stack

    workdir = P.bench_var() / f"profile-{time.strftime('%Y%m%d-%H%M%S')}"
    workdir.mkdir(parents=True)
    sessions = {name: workdir / f"{name}.pyisession" for name in ("rasa", "actions")}
    stack = Stack.create(workdir)
    load_before = [round(x, 2) for x in os.getloadavg()]
    try:
        start_profiled(stack, "actions", sessions["actions"])
        start_profiled(stack, "rasa", sessions["rasa"])
        P.log("profiling: waiting for our servers (model loading, about a minute)")
        stack.wait_actions()
        stack.wait_rasa()
        for path in sessions.values():
            P.wait_ready_file(path.with_suffix(".ready"), 60)
        driver = Driver(stack.rasa_url, "ours", seed=args.seed)
        asyncio.run(driver.warm_up(30))
        signal_all(stack, signal.SIGUSR1)
        time.sleep(0.5)
        P.log(f"profiling: {args.users} users, no think time, {args.duration:.0f} s")
        result = asyncio.run(
            driver.run_scenario(
                "profile", users=args.users, conversations_per_user=2, duration_s=args.duration
            )
        )
        signal_all(stack, signal.SIGUSR2)
        for path in sessions.values():
            P.wait_ready_file(path, 120)
        calls = remote_calls_per_turn(stack, result.senders)
    finally:
        stack.stop_all()
    summary = result.summary()
    load_after = [round(x, 2) for x in os.getloadavg()]
    header = [
        f"# Profile of our turn path under load — {time.strftime('%Y-%m-%d %H:%M')}",
        "",
        "Command: .venv/bin/python -m bench.profiling "
        f"--users {args.users} --duration {args.duration:.0f}",
        f"Load: {args.users} users, no think time, 2 conversations each (bench/load.py), "
        f"{summary['turns']} turns, {summary['turns_per_s']} turns/s, p50 {summary['p50_ms']} ms, "
        f"p95 {summary['p95_ms']} ms, errors {summary['errors']} (under the profiler: slower).",
        f"Load average before {load_before}, after {load_after}; {os.cpu_count()} cores, "
        "shared by both servers, the load generator and other work.",
        "Sampling: pyinstrument, 1 ms, main thread (Sanic's event loop) of each server;"
        " the profiler slows Python-heavy code, so read shares, not absolute times.",
        f"Action-server calls per child message (from the trackers): {calls['per_turn']}"
        f" ({calls['remote_action_calls']} calls / {calls['user_turns']} messages; "
        + ", ".join(f"{k} {v}" for k, v in calls["by_action"].items())
        + ").",
        "",
    ]
    text = "\n".join(header) + "\n"
    text += summarise("rasa", sessions["rasa"], summary["ok_turns"]) + "\n"
    text += summarise("actions", sessions["actions"], summary["ok_turns"])
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text)
    (workdir / "load.json").write_text(json.dumps(summary, indent=1))
    print(text[:6000])
    P.log(f"wrote {args.out} (sessions kept in {workdir})")
    return 0


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--serve"]:
        kind, out = argv[1], Path(argv[2])
        rest = argv[4:] if argv[3:4] == ["--"] else argv[3:]
        serve(kind, out, rest)
        return 0
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--duration", type=float, default=60.0)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args(argv)
    P.interrupt_on_sigterm()
    try:
        return drive(args)
    except KeyboardInterrupt:
        print("interrupted: servers stopped", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
