"""Scale-out test: Rasa's horizontal topology on this machine, measured in one run.

    .venv/bin/python -m scale.run          # or: make scale-test   (about 7 minutes)
    .venv/bin/python -m scale.run --quick  # smoke run, results in bench/results/tmp/

1. Starts (scale/topology.py) PostgreSQL and Redis (scripts/services.sh, this
   run's own), migrates our database, M action servers, N Rasa replicas (the
   launcher's commands; Redis tracker store with expiry + Redis lock store) and
   nginx in front (generated config, foreground, free ports).
2. Saturation with bench/load.py (no think time), alternating one replica and
   all N behind nginx (same action servers): turns/s, and where the CPU went.
3. Failover: a class of 30 children playing stories through nginx; one replica
   is killed (SIGKILL) mid-run; failed requests and story continuity.
4. Redis down, back (empty) and frozen: what the children get.
5. Writes bench/results/scale.json and scale.md, prints a summary.

Exit status: 0 when the scale-out and failover targets pass, 1 when one fails,
2 when the run itself broke, 130 when interrupted. Every process started is
stopped and the temp dir removed in every case.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from pathlib import Path
from typing import Any

from bench import procs as P
from bench.load import Driver
from bench.run import machine_info
from scale import report
from scale.failover import run_failover, run_redis_outage
from scale.measure import load_avg, measure_scenario
from scale.topology import MODEL, Topology, log

RESULTS = P.ROOT / "bench" / "results"


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--replicas", type=int, default=2, help="Rasa replicas (N >= 2)")
    parser.add_argument("--action-servers", type=int, default=2, help="action servers (M)")
    parser.add_argument("--sat-users", type=int, default=40)
    parser.add_argument("--sat-duration", type=float, default=30.0, help="seconds per round")
    parser.add_argument(
        "--rounds",
        type=int,
        default=3,
        help="one/all pairs, run one-all-all-one-... (drift cancels)",
    )
    parser.add_argument("--class-users", type=int, default=30)
    parser.add_argument("--think", type=float, nargs=2, default=(2.0, 8.0), metavar=("MIN", "MAX"))
    parser.add_argument("--failover-duration", type=float, default=100.0, help="seconds")
    parser.add_argument("--kill-after", type=float, default=40.0, help="seconds into failover")
    parser.add_argument("--probes", type=int, default=3, help="probe children for continuity")
    parser.add_argument(
        "--midturn", type=int, default=6, help="children pressing just before the kill"
    )
    parser.add_argument(
        "--midturn-delay", type=float, default=0.04, help="seconds from their press to the kill"
    )
    parser.add_argument(
        "--lock-lifetime", type=int, default=15, help="TICKET_LOCK_LIFETIME (Rasa default: 60)"
    )
    parser.add_argument("--redis-children", type=int, default=4)
    parser.add_argument("--redis-freeze", type=float, default=8.0, help="SIGSTOP seconds, 0: skip")
    parser.add_argument("--target-ratio", type=float, default=None, help="default 0.75 x N")
    parser.add_argument("--max-failed", type=float, default=0.01, help="failover: failed share")
    parser.add_argument("--quick", action="store_true", help="short smoke run, not for results")
    parser.add_argument("--out", type=Path, help="results folder (default bench/results)")
    parser.add_argument("--seed", type=int, default=11)
    args = parser.parse_args(argv)
    if args.replicas < 2:
        parser.error("--replicas must be at least 2 (one is killed in the failover test)")
    if args.quick:
        args.sat_duration, args.rounds, args.failover_duration = 15.0, 1, 45.0
        args.kill_after, args.redis_freeze = 20.0, 3.0
        args.out = args.out or RESULTS / "tmp"
    args.out = (args.out or RESULTS).resolve()
    if args.target_ratio is None:
        args.target_ratio = round(0.75 * args.replicas, 2)
    return args


def saturation(topology: Topology, args: argparse.Namespace) -> dict[str, Any]:
    order = ["one", "all", "all", "one"] * (args.rounds // 2) + ["one", "all"] * (args.rounds % 2)
    urls = {"one": topology.url_one, "all": topology.url_all}
    rounds = []
    for i, which in enumerate(order):
        summary = measure_scenario(
            f"saturation-{which}-{i}",
            urls[which],
            topology.groups(),
            seed=args.seed + i,
            users=args.sat_users,
            conversations_per_user=2,
            duration_s=args.sat_duration,
        )
        summary["replicas"] = 1 if which == "one" else args.replicas
        summary.pop("sample_errors", None)
        rounds.append(summary)
        comps = summary["components"]
        rasa = ", ".join(
            f"{name} {c['cores']} cores" for name, c in comps.items() if name.startswith("rasa")
        )
        log(
            f"saturation {summary['replicas']} replica(s): {summary['turns_per_s']} turns/s, "
            f"p50 {summary['p50_ms']} ms, errors {summary['errors']}, {rasa}, "
            f"other work {summary['other_work_cores']} cores, "
            f"load {summary['load_average_after'][0]}"
        )
        time.sleep(2)
    return {"order": order, "rounds": rounds, **report.saturation_summary(rounds, args)}


def memory(topology: Topology) -> dict[str, Any]:
    rows = {}
    for server in [*topology.rasa, *topology.actions]:
        found = P.per_process([server.proc])
        rows[server.name] = {
            "rss_mb": round(sum(r["rss_mb"] for r in found), 1),
            "pss_mb": round(sum(r["pss_mb"] for r in found), 1),
        }
    return rows


def execute(topology: Topology, args: argparse.Namespace) -> dict[str, Any]:
    started = time.monotonic()
    results: dict[str, Any] = {
        "date": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
        "machine": machine_info(),
        "load_average": {"before": load_avg()},
        "parameters": {
            k: (list(v) if isinstance(v, tuple) else v) for k, v in vars(args).items() if k != "out"
        },
        "logs": str(topology.logs.relative_to(P.ROOT)),
    }
    log(f"load average {results['load_average']['before']}; logs in {topology.logs}")
    topology.start()
    results["topology"] = {
        "rasa_replicas": [{"name": s.name, "port": s.port} for s in topology.rasa],
        "action_servers": [{"name": s.name, "port": s.port} for s in topology.actions],
        "nginx_ports": topology.ports,
        "redis": {"tracker_store_db": 0, "lock_store_db": 1, "record_exp_s": 7200},
        "ticket_lock_lifetime_s": args.lock_lifetime,
    }
    log("waiting for every server (two models load at once: 1-3 minutes)")
    results["ready_s"] = topology.wait_ready()

    for server in topology.rasa:  # the first turns of each replica are not counted
        asyncio.run(Driver(server.url, "ours", seed=args.seed).warm_up(20))

    results["saturation"] = saturation(topology, args)
    results["memory_mb"] = memory(topology)
    log("failover: a class plays; one replica is killed mid-run")
    results["failover"] = run_failover(topology, args)
    log(report.failover_line(results["failover"]))
    assert topology.services
    results["redis_footprint"] = topology.services.redis_footprint()
    log("Redis: down, back (empty), frozen")
    results["redis_outage"] = run_redis_outage(topology, args.redis_children, args.redis_freeze)
    results["load_average"]["after"] = load_avg()
    results["run_time_s"] = round(time.monotonic() - started, 1)
    results["targets"] = report.targets(results, args)
    return results


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if not MODEL.exists():
        print(f"no trained model at {MODEL}: run `make model` first", file=sys.stderr)
        return 2
    P.interrupt_on_sigterm()
    stamp = time.strftime("%Y%m%d-%H%M%S")
    logs = P.ROOT / "var" / "scale" / f"run-{stamp}"
    topology = Topology(args.replicas, args.action_servers, logs, args.lock_lifetime)
    began = time.monotonic()
    try:
        results = execute(topology, args)
    except KeyboardInterrupt:
        print("\ninterrupted: stopping every process started", file=sys.stderr, flush=True)
        return 130
    except Exception as error:
        print(f"\nthe scale run broke: {type(error).__name__}: {error}", file=sys.stderr)
        print(f"logs: {logs}", file=sys.stderr, flush=True)
        return 2
    finally:
        log("stopping every process and removing the temp dir")
        topology.stop_all()
    json_path, md_path = report.write(results, args.out)
    print()
    print(report.summary(results))
    print(
        f"\nwrote {json_path.relative_to(P.ROOT)} and {md_path.relative_to(P.ROOT)} "
        f"in {time.monotonic() - began:.0f} s"
    )
    return 0 if all(t["pass"] for t in results["targets"]) else 1


if __name__ == "__main__":
    sys.exit(main())
