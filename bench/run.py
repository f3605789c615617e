"""Benchmark Lumi against a stock ``rasa init`` assistant, side by side, in one run.

    .venv/bin/python -m bench.run            # or: make bench  (about 10 minutes)
    .venv/bin/python -m bench.run --quick    # smoke run, results in bench/results/tmp/
    .venv/bin/python -m bench.run --train-time   # also time a forced training of ours

1. The stock assistant: ``rasa init --no-prompt`` (trains itself), cached under
   ``var/bench/stock/rasa-<version>/``; served by ``rasa run`` on a free port.
2. Ours: ``python -m bot.build`` (trains only if inputs changed), then Rasa and
   the action server on free ports (``tests.servers.Stack``: the launcher's
   commands), without the web app.
3. The same load generator (bench/load.py) drives both through
   ``POST /webhooks/rest/webhook``: single user (sequential turns), a class of
   30 children with think time, saturation (no think time). RSS of every
   process of each assistant is sampled throughout.
4. Writes bench/results/latest.json and latest.md, prints the table and
   PASS/FAIL per target. Exit 0 even when a target fails; 1 if the run broke,
   130 when interrupted. Every process started is stopped in any case.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from bench import procs as P
from bench import report

RESULTS = P.ROOT / "bench" / "results"


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--single-turns", type=int, default=300)
    parser.add_argument("--class-users", type=int, default=30)
    parser.add_argument("--class-duration", type=float, default=120.0, help="seconds")
    parser.add_argument("--think", type=float, nargs=2, default=(2.0, 8.0), metavar=("MIN", "MAX"))
    parser.add_argument("--sat-users", type=int, default=40, help="30-60 in the brief")
    parser.add_argument("--sat-duration", type=float, default=60.0, help="seconds")
    parser.add_argument(
        "--train-time", action="store_true", help="also time a forced training of ours (1-2 min)"
    )
    parser.add_argument("--no-build", action="store_true", help="skip bot.build (debugging)")
    parser.add_argument("--quick", action="store_true", help="short smoke run, not for results")
    parser.add_argument("--out", type=Path, help="results folder (default bench/results)")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)
    if args.quick:
        args.single_turns, args.class_duration, args.sat_duration = 60, 30.0, 20.0
        args.out = args.out or RESULTS / "tmp"
    args.out = args.out or RESULTS
    return args


def load_avg() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def machine_info() -> dict[str, Any]:
    from importlib.metadata import PackageNotFoundError, version

    import psutil

    versions: dict[str, str | None] = {}
    for name in ("rasa", "rasa-sdk", "tensorflow", "sanic", "aiohttp", "psutil"):
        try:
            versions[name] = version(name)
        except PackageNotFoundError:
            versions[name] = None

    def git(*args: str) -> str:
        out = subprocess.run(["git", *args], cwd=P.ROOT, capture_output=True, text=True)
        return out.stdout.strip()

    return {
        "cpu_count": os.cpu_count(),
        "cpu_physical": psutil.cpu_count(logical=False),
        "cpu_model": _cpu_model(),
        "memory_gb": round(psutil.virtual_memory().total / 1e9, 1),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "versions": versions,
        "git_commit": git("rev-parse", "--short", "HEAD"),
        "git_dirty": bool(git("status", "--porcelain", "--untracked-files=no")),
    }


def _cpu_model() -> str | None:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return None


TRAIN_RECORD = "train-time.json"


def model_fingerprint() -> str | None:
    path = P.ROOT / "models" / "lumi.fingerprint"
    return path.read_text().strip() if path.exists() else None


def training_figures(build: dict[str, Any], forced: dict[str, Any] | None) -> dict[str, Any]:
    """This run's training time of ours, else the last one measured (with its date)."""
    record_path = P.bench_var() / TRAIN_RECORD
    measured, source = None, None
    for figures, label in ((forced, "forced training, this run"), (build, "trained this run")):
        if figures and figures.get("rasa_train_s") is not None:
            measured, source = figures["rasa_train_s"], label
            record = {
                "rasa_train_s": measured,
                "date": time.strftime("%Y-%m-%d %H:%M"),
                "forced": figures["forced"],
                "load_average_after": figures["load_average_after"],
                "fingerprint": model_fingerprint(),
            }
            record_path.write_text(json.dumps(record, indent=1) + "\n")
            break
    if measured is None and record_path.exists():
        record = json.loads(record_path.read_text())
        measured = record["rasa_train_s"]
        same = record.get("fingerprint") == model_fingerprint()
        source = f"last measured {record['date']}, " + (
            "model unchanged since" if same else "training data changed since"
        )
    return {"ours_rasa_train_s": measured, "ours_source": source, "ours_build": build}


class Run:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.procs = P.Processes()
        stamp = time.strftime("%Y%m%d-%H%M%S")
        self.workdir = P.bench_var() / f"run-{stamp}"
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.sampler: P.MemorySampler | None = None
        self.bots: dict[str, P.Bot] = {}
        self.results: dict[str, Any] = {}

    def scenario(self, name: str, bot: P.Bot, **kw: Any) -> dict[str, Any]:
        from bench.load import Driver

        assert self.sampler
        all_roots = [p for b in self.bots.values() for p in b.roots]
        driver = Driver(bot.url, bot.name, seed=self.args.seed)
        before_load = load_avg()
        cpu_bot, cpu_all = P.cpu_seconds(bot.roots), P.cpu_seconds(all_roots)
        cpu_self, busy = P.self_cpu_seconds(), P.machine_busy_seconds()
        started = time.monotonic()
        result = asyncio.run(driver.run_scenario(name, **kw))
        ended = time.monotonic()
        summary = result.summary()
        cpu_bot = P.cpu_seconds(bot.roots) - cpu_bot
        cpu_all = P.cpu_seconds(all_roots) - cpu_all
        cpu_self = P.self_cpu_seconds() - cpu_self
        busy = P.machine_busy_seconds() - busy
        elapsed = ended - started
        summary.update(self.sampler.window(bot.name, started, ended))
        summary.update(
            {
                "cpu_s": round(cpu_bot, 2),
                "cpu_ms_per_turn": round(cpu_bot * 1000 / summary["ok_turns"], 1)
                if summary["ok_turns"]
                else None,
                "cpu_cores_used": round(cpu_bot / elapsed, 2),
                "generator_cpu_cores": round(cpu_self / elapsed, 2),
                "other_work_cpu_cores": round(max(0.0, busy - cpu_all - cpu_self) / elapsed, 2),
                "load_average_before": before_load,
                "load_average_after": load_avg(),
                "latencies_ms": [round(s.latency * 1000, 1) for s in result.samples],
                "sample_errors": [s.error for s in result.samples if s.error],
            }
        )
        P.log(
            f"{name:<10} {bot.name:<5} turns={summary['turns']} p50={summary['p50_ms']} "
            f"p95={summary['p95_ms']} p99={summary['p99_ms']} ms, "
            f"{summary['turns_per_s']} turns/s, errors={summary['errors']} "
            f"{summary['errors_by_kind'] or ''} rss_peak={summary['rss_peak_mb']} MiB, "
            f"load {before_load[0]}→{summary['load_average_after'][0]}, "
            f"other work {summary['other_work_cpu_cores']} cores"
        )
        time.sleep(2)  # let the previous load drain
        return summary

    def execute(self) -> dict[str, Any]:
        args = self.args
        run_started = time.monotonic()
        results: dict[str, Any] = {
            "date": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
            "machine": machine_info(),
            "load_average": {"before": load_avg()},
            "parameters": {
                k: (list(v) if isinstance(v, tuple) else v)
                for k, v in vars(args).items()
                if k != "out"
            },
            "workdir": str(self.workdir.relative_to(P.ROOT)),
        }
        self.results = results
        P.log(f"load average before: {results['load_average']['before']}; logs: {self.workdir}")

        stock_meta = P.ensure_stock(self.procs)
        problem = P.check_stories(self.workdir)
        if problem:
            raise RuntimeError(
                "bot.stories.validate fails, so our action server would not start:\n"
                f"{problem}\nRun from a clean worktree of the last commit "
                "(see docs/performance.md)."
            )
        build = {"forced": False, "trained": False, "rasa_train_s": None, "build_wall_s": None}
        if not args.no_build:
            build = P.build_ours(self.procs, self.workdir)
        forced = P.build_ours(self.procs, self.workdir, force=True) if args.train_time else None
        results["training"] = training_figures(build, forced)
        results["training"]["stock_init_and_train_s"] = stock_meta.get("init_and_train_s")
        results["training"]["stock_cached"] = stock_meta.get("cached")
        results["training"]["stock_created"] = stock_meta.get("created")

        P.log("starting both assistants (model loading takes about a minute)")
        stock = P.start_stock(self.procs, self.workdir)
        ours, stack = P.start_ours(self.procs, self.workdir / "ours")
        self.bots = {"stock": stock, "ours": ours}
        self.sampler = P.MemorySampler({name: bot.roots for name, bot in self.bots.items()})
        self.sampler.start()
        P.wait_ready(stock)
        P.wait_ready(ours, stack)
        results["startup"] = {
            name: {
                "ready_s": bot.ready_s,
                "first_text_turn_ms": bot.first_text_turn_ms,
                "started_together": True,
            }
            for name, bot in self.bots.items()
        }
        P.log(f"ready: stock after {stock.ready_s} s, ours after {ours.ready_s} s")

        from bench.load import Driver

        results["cold_turns"] = {}
        for name, bot in self.bots.items():
            warm = asyncio.run(Driver(bot.url, name, seed=args.seed).warm_up(20))
            results["cold_turns"][name] = [round(s.latency * 1000, 1) for s in warm.samples]

        plan = {
            "single": {
                "users": 1,
                "conversations_per_user": 12,
                "max_turns": args.single_turns,
            },
            "class": {
                "users": args.class_users,
                "duration_s": args.class_duration,
                "think": tuple(args.think),
                "ramp_s": args.think[1],
            },
            "saturation": {
                "users": args.sat_users,
                "conversations_per_user": 2,
                "duration_s": args.sat_duration,
            },
        }
        results["plan"] = {k: {kk: vv for kk, vv in v.items()} for k, v in plan.items()}
        results["scenarios"] = {}
        for name, params in plan.items():
            results["scenarios"][name] = {}
            for bot_name in ("stock", "ours"):
                results["scenarios"][name][bot_name] = self.scenario(
                    name, self.bots[bot_name], **params
                )

        results["processes"] = {name: P.per_process(bot.roots) for name, bot in self.bots.items()}
        self.sampler.stop()
        results["memory"] = self.memory_summary()
        results["load_average"]["after"] = load_avg()
        results["run_time_s"] = round(time.monotonic() - run_started, 1)
        results["targets"] = report.targets(results)
        return results

    def memory_summary(self) -> dict[str, Any]:
        assert self.sampler
        out: dict[str, Any] = {}
        t0 = self.sampler.samples[0][0] if self.sampler.samples else 0.0
        for name in self.bots:
            values = [s[1].get(name, 0) for s in self.sampler.samples]
            values = [v for v in values if v]
            out[name] = {
                "rss_peak_bytes": max(values) if values else None,
                "rss_mean_bytes": int(sum(values) / len(values)) if values else None,
                "series_mb": [
                    [round(t - t0, 1), round(v.get(name, 0) / 2**20, 1)]
                    for t, v in self.sampler.samples[::4]
                ],
            }
        return out

    def cleanup(self) -> None:
        if self.sampler:
            self.sampler.stop()
        self.procs.stop_all()


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    P.interrupt_on_sigterm()
    run = Run(args)
    started = time.monotonic()
    try:
        results = run.execute()
    except KeyboardInterrupt:
        print("\ninterrupted: stopping every process started", file=sys.stderr, flush=True)
        return 130
    except Exception as error:
        print(f"\nthe benchmark run broke: {error}", file=sys.stderr, flush=True)
        print(f"logs: {run.workdir}", file=sys.stderr)
        return 1
    finally:
        run.cleanup()
    json_path, md_path = report.write(results, args.out)
    print()
    print(report.markdown(results))
    for row in results["targets"]:
        print(f"{'PASS' if row['pass'] else 'FAIL'}  {row['target']}: {row['value']}")
    print(
        f"\nwrote {json_path.relative_to(P.ROOT)} and {md_path.relative_to(P.ROOT)} "
        f"in {time.monotonic() - started:.0f} s"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
