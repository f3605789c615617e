"""Failover under a class's load, and what a Redis outage does.

``run_failover``: 30 children play stories through nginx (bench/load.py's class
scenario, recorded turn by turn); ``kill_after_s`` into it, one Rasa replica is
killed with SIGKILL (its whole process group). Meanwhile a few probe children
play a story *directly on the replica that will die* (so their conversation
state was last written by it), wait for the kill, then press their next button
through nginx: the other replica must answer with the story's next step.

``run_redis_outage``: with the conversations in Redis, Redis is shut down (no
save), turns are sent, Redis is started again (empty, as after a crash without
persistence), turns are sent again; then Redis is frozen (SIGSTOP) for a few
seconds. What the child gets each time is recorded (status, time, reply kind).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import signal
import time
import uuid
from pathlib import Path
from typing import Any

import aiohttp

from bench.load import percentile
from scale.measure import CpuWindow, RecordingDriver, story_moved_on, story_press
from scale.topology import Server, Topology, log

WEBHOOK = "/webhooks/rest/webhook"


async def _post(
    session: aiohttp.ClientSession, base: str, sender: str, message: str, timeout: float = 40
) -> dict[str, Any]:
    started = time.perf_counter()
    out: dict[str, Any] = {"message": message, "status": 0, "error": None, "reply": None}
    try:
        async with session.post(
            base + WEBHOOK,
            json={"sender": sender, "message": message},
            timeout=aiohttp.ClientTimeout(total=timeout),
        ) as response:
            out["status"] = response.status
            out["upstream"] = response.headers.get("X-Upstream")
            raw = await response.read()
        try:
            out["reply"] = json.loads(raw)
        except ValueError:
            out["reply"] = None
            out["body"] = raw[:200].decode(errors="replace")
        if out["status"] != 200:
            out["error"] = f"http_{out['status']}"
    except asyncio.TimeoutError:
        out["error"] = "timeout"
    except aiohttp.ClientError as error:
        out["error"] = type(error).__name__
    out["latency_ms"] = round((time.perf_counter() - started) * 1000, 1)
    return out


def _story_buttons(reply: Any) -> list[str]:
    if not isinstance(reply, list):
        return []
    return [
        str(b.get("payload"))
        for m in reply
        if isinstance(m, dict)
        for b in (m.get("buttons") or [])
        if str(b.get("payload", "")).startswith("/story_choice")
    ]


def _story_ids(reply: Any) -> list[str]:
    if not isinstance(reply, list):
        return []
    for message in reply:
        custom = message.get("custom") if isinstance(message, dict) else None
        if isinstance(custom, dict) and custom.get("kind") == "story_list":
            return [str(s["id"]) for s in custom.get("stories", [])]
    return []


async def _play_into_story(
    session: aiohttp.ClientSession, base: str, sender: str, pick: int, presses: int = 1
) -> tuple[list[str], list[dict[str, Any]]]:
    """/start, /list_stories, /start_story, then ``presses`` button presses, on ``base``.
    Returns the story buttons of the last reply and every exchange."""
    exchanges = [await _post(session, base, sender, "/start")]
    exchanges.append(await _post(session, base, sender, "/list_stories"))
    ids = _story_ids(exchanges[-1]["reply"]) or ["follower_bribe"]
    story = ids[pick % len(ids)]
    start = "/start_story" + json.dumps({"story_id": story}, separators=(",", ":"))
    exchanges.append(await _post(session, base, sender, start))
    for _ in range(presses):
        buttons = _story_buttons(exchanges[-1]["reply"])
        if not buttons:
            break
        await asyncio.sleep(0.6)  # the channel's rate limit: 2 messages/s per child
        exchanges.append(await _post(session, base, sender, buttons[0]))
    return _story_buttons(exchanges[-1]["reply"]), exchanges


def _brief(exchange: dict[str, Any]) -> dict[str, Any]:
    """An exchange without the reply's text (what a child wrote is never kept)."""
    reply = exchange.get("reply")
    first = ""
    if isinstance(reply, list) and reply and isinstance(reply[0], dict):
        first = str(reply[0].get("text") or "")[:70]
    return {
        "message": exchange["message"][:80],
        "status": exchange["status"],
        "error": exchange["error"],
        "latency_ms": exchange["latency_ms"],
        "upstream": exchange.get("upstream"),
        "reply_messages": len(reply) if isinstance(reply, list) else None,
        "story_buttons": len(_story_buttons(reply)),
        "first_text": first,
    }


async def _probe_child(
    index: int,
    victim: Server,
    survivor_port: int,
    nginx_url: str,
    killed: asyncio.Event,
    start_delay: float,
) -> dict[str, Any]:
    sender = f"scale-probe-{uuid.uuid4().hex[:8]}-{index}"
    await asyncio.sleep(start_delay)
    async with aiohttp.ClientSession() as session:
        buttons, before = await _play_into_story(session, victim.url, sender, pick=index)
        await killed.wait()
        await asyncio.sleep(1.0)
        after = []
        moved = []
        for _ in range(2):  # the next two presses, through nginx
            if not buttons:
                break
            press = buttons[0]
            exchange = await _post(session, nginx_url, sender, press)
            after.append(exchange)
            moved.append(
                exchange["error"] is None
                and story_moved_on(story_press(press) or {}, exchange["reply"])
            )
            buttons = _story_buttons(exchange["reply"])
            await asyncio.sleep(0.6)
    served_by = [e.get("upstream") for e in after]
    return {
        "sender_suffix": sender[-10:],
        "before_kill_on": victim.name,
        "before_kill": [_brief(e) for e in before],
        "after_kill": [_brief(e) for e in after],
        "story_moved_on": moved,
        "served_after_kill_by": served_by,
        "continued": bool(moved)
        and all(moved)
        and all(str(survivor_port) in str(u) for u in served_by),
    }


def _nginx_retries(access_log: Path, port: int, since: float) -> dict[str, Any]:
    """Requests on nginx's ``port`` since ``since`` (epoch): statuses, and how many
    were passed to a second replica (``$upstream_addr`` lists two)."""
    statuses: dict[str, int] = {}
    retried = 0
    upstream_failures: dict[str, int] = {}
    line_re = re.compile(r'^(\S+) (\d+) (\d+) \S+ "([^"]*)" "([^"]*)"')
    with contextlib.suppress(OSError):
        for line in access_log.read_text().splitlines():
            match = line_re.match(line)
            if not match or int(match.group(2)) != port or float(match.group(1)) < since:
                continue
            statuses[match.group(3)] = statuses.get(match.group(3), 0) + 1
            if "," in match.group(4):
                retried += 1
                first = match.group(5).split(",")[0].strip()
                upstream_failures[first] = upstream_failures.get(first, 0) + 1
    return {
        "statuses": statuses,
        "passed_to_another_replica": retried,
        "first_try_status": upstream_failures,
    }


def _window(records: list[Any], start: float, end: float) -> dict[str, Any]:
    rows = [r for r in records if start <= r.started < end]
    ok = sorted(r.latency for r in rows if r.error is None)
    errors: dict[str, int] = {}
    for r in rows:
        if r.error:
            errors[r.error] = errors.get(r.error, 0) + 1

    def ms(q: float) -> float | None:
        value = percentile(ok, q)
        return None if value is None else round(value * 1000, 1)

    return {
        "turns": len(rows),
        "errors": sum(errors.values()),
        "errors_by_kind": errors,
        "p50_ms": ms(50),
        "p95_ms": ms(95),
        "max_ms": ms(100),
    }


def _continuity(records: list[Any], kill_at: float) -> dict[str, Any]:
    """Every story button press after the kill: did the story move on? And per child:
    the first press after the kill (their state was written before it, by either replica)."""
    after = [r for r in records if r.started >= kill_at and r.message_kind == "story_press"]
    answered = [r for r in after if r.error is None]
    first_by_child: dict[str, Any] = {}
    for r in sorted(after, key=lambda r: r.started):
        first_by_child.setdefault(r.sender, r)
    firsts = [r for r in first_by_child.values() if r.error is None]
    return {
        "story_presses_after_kill": len(after),
        "answered": len(answered),
        "moved_on": sum(1 for r in answered if r.moved_on),
        "not_moved_on": sum(1 for r in answered if not r.moved_on),
        "children_pressing_after_kill": len(first_by_child),
        "children_first_press_moved_on": sum(1 for r in firsts if r.moved_on),
        "children_first_press_failed": len(first_by_child) - len(firsts),
    }


async def _failover_async(
    topology: Topology, args: Any, victim: Server, survivor: Server
) -> dict[str, Any]:
    driver = RecordingDriver(topology.url_all, "ours", seed=args.seed)
    killed = asyncio.Event()
    marks: dict[str, float] = {}
    midturn: list[dict[str, Any]] = []

    async def killer() -> None:
        # Children whose turn is being processed when the replica dies: they get into a
        # story first, then press their next button together just before the kill.
        plays = []
        async with aiohttp.ClientSession() as session:
            await asyncio.sleep(2.0)
            for i in range(args.midturn):
                sender = f"scale-midturn-{uuid.uuid4().hex[:8]}-{i}"
                buttons, _ = await _play_into_story(session, topology.url_all, sender, pick=i)
                plays.append((sender, buttons))
            await asyncio.sleep(max(0.0, args.kill_after - (time.perf_counter() - started_perf)))
            presses = [
                asyncio.ensure_future(_post(session, topology.url_all, sender, buttons[0], 60))
                for sender, buttons in plays
                if buttons
            ]
            await asyncio.sleep(args.midturn_delay)
            marks["kill_perf"] = time.perf_counter()
            marks["kill_epoch"] = time.time()
            topology.kill_replica(victim)
            log(f"failover: SIGKILL to {victim.name} (pid group {victim.proc.pid})")
            killed.set()
            for (_, buttons), task in zip([p for p in plays if p[1]], presses, strict=True):
                exchange = await task
                row = _brief(exchange)
                row["story_moved_on"] = exchange["error"] is None and story_moved_on(
                    story_press(buttons[0]) or {}, exchange["reply"]
                )
                midturn.append(row)

    started_perf = time.perf_counter()
    started_epoch = time.time()
    probes = [
        _probe_child(i, victim, survivor.port, topology.url_all, killed, start_delay=3.0 + 2 * i)
        for i in range(args.probes)
    ]
    result, _, *probe_results = await asyncio.gather(
        driver.run_scenario(
            "failover",
            users=args.class_users,
            duration_s=args.failover_duration,
            think=tuple(args.think),
            ramp_s=args.think[1],
        ),
        killer(),
        *probes,
    )
    summary = result.summary()
    kill_at = marks["kill_perf"]
    records = driver.records
    end = max((r.started + r.latency for r in records), default=kill_at)
    return {
        "summary": summary,
        "kill_after_s": round(kill_at - started_perf, 1),
        "kill_epoch": marks["kill_epoch"],
        "started_epoch": started_epoch,
        "victim": victim.name,
        "survivor": survivor.name,
        "before_kill": _window(records, started_perf, kill_at),
        "first_10_s_after_kill": _window(records, kill_at, kill_at + 10),
        "after_kill": _window(records, kill_at, end + 1),
        "continuity": _continuity(records, kill_at),
        "probes": probe_results,
        "midturn": midturn,
        "midturn_delay_s": args.midturn_delay,
    }


def run_failover(topology: Topology, args: Any) -> dict[str, Any]:
    victim, survivor = topology.rasa[0], topology.rasa[1]
    window = CpuWindow(topology.groups())
    window.start()
    out = asyncio.run(_failover_async(topology, args, victim, survivor))
    time.sleep(1.5)  # nginx flushes its access log every second
    access_log, port = topology.logs / "nginx-access.log", topology.ports["nginx_all"]
    out["nginx"] = {
        "this_scenario": _nginx_retries(access_log, port, out.pop("started_epoch")),
        "after_kill": _nginx_retries(access_log, port, out.pop("kill_epoch")),
    }
    cpu = window.stop(out["summary"]["ok_turns"])
    out["load_average_before"] = cpu["load_average_before"]
    out["load_average_after"] = cpu["load_average_after"]
    out["other_work_cores"] = cpu["other_work_cores"]
    out["victim_alive_after"] = victim.alive()
    return out


# --- Redis ---------------------------------------------------------------------------------------


async def _round(
    session: aiohttp.ClientSession, base: str, plays: list[dict[str, Any]], label: str
):
    """Each child presses its next story button (or /start when it has none)."""

    async def one(play: dict[str, Any]) -> dict[str, Any]:
        buttons = play["buttons"]
        message = buttons[0] if buttons else "/start"
        exchange = await _post(session, base, play["sender"], message, timeout=45)
        press = story_press(message)
        brief = _brief(exchange)
        brief["story_moved_on"] = (
            story_moved_on(press, exchange["reply"]) if press and not exchange["error"] else None
        )
        if exchange["error"] is None:
            play["buttons"] = _story_buttons(exchange["reply"])
        return brief

    rows = await asyncio.gather(*(one(play) for play in plays))
    await asyncio.sleep(0.6)
    statuses: dict[str, int] = {}
    for row in rows:
        key = str(row["status"]) if row["status"] else str(row["error"])
        statuses[key] = statuses.get(key, 0) + 1
    return {
        "phase": label,
        "requests": len(rows),
        "statuses": statuses,
        "story_presses": sum(1 for r in rows if r["story_moved_on"] is not None),
        "story_moved_on": sum(1 for r in rows if r["story_moved_on"]),
        "max_latency_ms": max((r["latency_ms"] for r in rows), default=None),
        "rows": rows,
    }


async def _redis_async(topology: Topology, children: int, freeze_s: float) -> dict[str, Any]:
    services = topology.services
    assert services
    base = topology.url_all
    plays = []
    async with aiohttp.ClientSession() as session:
        for i in range(children):
            sender = f"scale-redis-{uuid.uuid4().hex[:8]}-{i}"
            buttons, _ = await _play_into_story(session, base, sender, pick=i)
            plays.append({"sender": sender, "buttons": buttons})
        rounds = [await _round(session, base, plays, "Redis up (baseline)")]

        log("redis: shutdown nosave")
        services.redis_down()
        rounds.append(await _round(session, base, plays, "Redis down"))
        rounds.append(await _round(session, base, plays, "Redis down (second press)"))

        back_s = services.redis_up()
        log(f"redis: started again (empty) in {back_s:.2f} s")
        rounds.append(await _round(session, base, plays, "Redis back, empty"))
        rounds.append(await _round(session, base, plays, "Redis back (next press)"))

        pid = services.redis_pid()
        frozen = None
        if pid and freeze_s > 0:
            log(f"redis: frozen (SIGSTOP) for {freeze_s:.0f} s")
            os.kill(pid, signal.SIGSTOP)
            try:
                task = asyncio.ensure_future(
                    _round(session, base, plays, f"Redis frozen {freeze_s:.0f} s")
                )
                await asyncio.sleep(freeze_s)
            finally:
                os.kill(pid, signal.SIGCONT)
            frozen = await task
            rounds.append(frozen)
            rounds.append(await _round(session, base, plays, "Redis thawed"))
    return {"children": children, "redis_restart_s": round(back_s, 2), "rounds": rounds}


def run_redis_outage(
    topology: Topology, children: int = 4, freeze_s: float = 8.0
) -> dict[str, Any]:
    return asyncio.run(_redis_async(topology, children, freeze_s))
