"""Measure the gain of the profile's suggestions before anyone changes the code.

    .venv/bin/python -m bench.whatif          # about 8 minutes

Starts the stock ``rasa init`` assistant (as bench.run does) and ours several
times side by side (each: Rasa + action server, same model, the launcher's
commands): once as it is, and once per variant with
some of the suggested changes applied *in that process only*, by the small
patches below (nothing in the project is modified). The same load generator
drives each in turn: single user (sequential turns) and saturation (no think
time). Writes bench/results/whatif.md.

Patches (each mirrors one suggestion in docs/performance.md):
- ``schema``: check the action server's reply with a jsonschema validator built
  once, instead of ``jsonschema.validate`` (which re-checks the schema itself
  and rebuilds a validator on every call). Invalid replies still take Rasa's
  own path and raise the same error.
- ``events``: resolve an event's class by its name from a cache, instead of
  walking every ``Event`` subclass for each event of each tracker read.
- ``selective_domain``: ``enable_selective_domain: true`` on the action
  endpoint: Rasa stops sending the whole domain (~170 KB of JSON) with every
  action call (our actions never read it).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shlex
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from bench import procs as P

OUT = P.ROOT / "bench" / "results" / "whatif.md"
PATCHES = ("schema", "events", "selective_domain")


# --- patches (applied inside a Rasa server process) -------------------------------------------


def patch_schema() -> None:
    import jsonschema
    from jsonschema.exceptions import best_match
    from rasa.core.actions.action import RemoteAction

    spec = RemoteAction.action_response_format_spec()
    cls = jsonschema.validators.validator_for(spec)
    cls.check_schema(spec)
    validator = cls(spec)
    original = RemoteAction._validate_action_result

    def _validate_action_result(self: Any, result: dict[str, Any]) -> bool:
        if best_match(validator.iter_errors(result)) is None:
            return True
        return original(self, result)  # raises Rasa's own error

    RemoteAction._validate_action_result = _validate_action_result


def patch_events() -> None:
    from rasa.shared.core.events import Event
    from rasa.shared.utils.common import all_subclasses

    original = Event.resolve_by_type
    cache: dict[str, Any] = {}

    def resolve_by_type(type_name: str, default: Any = None) -> Any:
        found = cache.get(type_name)
        if found is not None:
            return found
        for cls in all_subclasses(Event):
            if cls.type_name == type_name:
                cache[type_name] = cls
                return cls
        return original(type_name, default)

    Event.resolve_by_type = staticmethod(resolve_by_type)


def serve(patches: list[str], argv: list[str]) -> None:
    if "schema" in patches:
        patch_schema()
    if "events" in patches:
        patch_events()
    from rasa.__main__ import main

    sys.argv = ["rasa", *argv]
    main()


# --- the driver ------------------------------------------------------------------------------


def start_variant(workdir: Path, patches: list[str]) -> Any:
    import yaml

    from bot.launcher import commands, endpoints_yaml

    if str(P.ROOT) not in sys.path:
        sys.path.insert(0, str(P.ROOT))
    from tests.servers import Stack

    workdir.mkdir(parents=True, exist_ok=True)
    stack = Stack.create(workdir)
    stack.start("actions")
    assert stack.settings
    endpoints = workdir / "endpoints.yml"
    config = yaml.safe_load(endpoints_yaml(stack.settings))
    if "selective_domain" in patches:
        config["action_endpoint"]["enable_selective_domain"] = True
    endpoints.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    command = shlex.split(commands(stack.settings, endpoints)["rasa"])
    code_patches = [p for p in patches if p != "selective_domain"]
    full = [sys.executable, "-m", "bench.whatif", "--serve", ",".join(code_patches) or "-"]
    full += ["--", *command[1:]]
    log = workdir / "rasa.log"
    stack.logs["rasa"] = log
    with log.open("ab") as handle:
        stack.procs["rasa"] = subprocess.Popen(
            full,
            cwd=P.ROOT,
            env=stack.env,
            stdout=handle,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    return stack


def measure(
    url: str, roots: list[Any], bot: str, label: str, name: str, seed: int, **kw: Any
) -> dict[str, Any]:
    from bench.load import Driver

    driver = Driver(url, bot, seed=seed)
    load = os.getloadavg()[0]
    cpu = P.cpu_seconds(roots)
    result = asyncio.run(driver.run_scenario(name, **kw))
    cpu = P.cpu_seconds(roots) - cpu
    summary = result.summary()
    summary["cpu_ms_per_turn"] = round(cpu * 1000 / max(summary["ok_turns"], 1), 1)
    summary["load_1min"] = round(load, 2)
    P.log(
        f"{name:<10} {label:<36} p50 {summary['p50_ms']} ms, p95 {summary['p95_ms']} ms, "
        f"{summary['turns_per_s']} turns/s, CPU {summary['cpu_ms_per_turn']} ms/turn, "
        f"errors {summary['errors']}, load {load:.2f}"
    )
    time.sleep(2)
    return summary


def drive(args: argparse.Namespace) -> int:
    variants: list[tuple[str, list[str]]] = [("ours as is", [])]
    for spec in args.variants:
        patches = [p for p in spec.split("+") if p]
        unknown = set(patches) - set(PATCHES)
        if unknown:
            raise SystemExit(f"unknown patch(es): {', '.join(sorted(unknown))}")
        variants.append(("ours + " + " + ".join(patches), patches))
    workdir = P.bench_var() / f"whatif-{time.strftime('%Y%m%d-%H%M%S')}"
    workdir.mkdir(parents=True)
    procs = P.Processes()
    # (label, bot kind, url, process roots)
    targets: list[tuple[str, str, str, list[Any]]] = []
    results: dict[str, dict[str, Any]] = {}
    load_before = [round(x, 2) for x in os.getloadavg()]
    try:
        stock = None
        if not args.no_stock:
            P.ensure_stock(procs)
            stock = P.start_stock(procs, workdir)
        for index, (_label, patches) in enumerate(variants):
            procs.stacks.append(start_variant(workdir / f"v{index}", patches))
        P.log(f"what-if: {len(variants)} copies of our assistant loading (1-2 minutes)")
        if stock is not None:
            P.wait_ready(stock)
            targets.append(("stock rasa init", "stock", stock.url, stock.roots))
        for stack, (label, _patches) in zip(procs.stacks, variants, strict=True):
            stack.wait_actions()
            stack.wait_rasa()
            targets.append((label, "ours", stack.rasa_url, list(stack.procs.values())))
        from bench.load import Driver

        for _label, bot, url, _roots in targets:
            asyncio.run(Driver(url, bot, seed=args.seed).warm_up(20))
        plan = {
            "single": {"users": 1, "conversations_per_user": 12, "max_turns": args.turns},
            "saturation": {
                "users": args.sat_users,
                "conversations_per_user": 2,
                "duration_s": args.sat_duration,
            },
        }
        for name, params in plan.items():
            for label, bot, url, roots in targets:
                results.setdefault(label, {})[name] = measure(
                    url, roots, bot, label, name, args.seed, **params
                )
    finally:
        procs.stop_all()
    load_after = [round(x, 2) for x in os.getloadavg()]
    base = results["ours as is"]
    ref = results.get("stock rasa init")
    lines = [
        f"# What-if: the profile's suggestions, measured — {time.strftime('%Y-%m-%d %H:%M')}",
        "",
        f"Command: `.venv/bin/python -m bench.whatif {' '.join(args.variants)}` "
        f"(single user: {args.turns} turns; saturation: {args.sat_users} users, "
        f"{args.sat_duration:.0f} s). Each variant is our assistant with the named patches "
        "applied in its own Rasa process (bench/whatif.py); nothing in the project changed. "
        "Ratios in brackets: against ours as is; the last two columns: against stock "
        "(targets: ≤ 1.25 and ≥ 0.8).",
        f"Load average before {load_before}, after {load_after}; {os.cpu_count()} cores shared "
        "by all copies (idle ones cost little), the load generator and other work.",
        "",
        "| variant | single p50 ms | single p95 ms | single CPU ms/turn | saturation turns/s "
        "| saturation p50 ms | saturation CPU ms/turn | errors | single p50 / stock "
        "| saturation turns/s / stock |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for label, figures in results.items():
        single, sat = figures["single"], figures["saturation"]
        rel = _relative if label.startswith("ours +") else _plain
        vs_stock = ["–", "–"]
        if ref and label != "stock rasa init":
            vs_stock = [
                f"{single['p50_ms'] / ref['single']['p50_ms']:.2f}",
                f"{sat['turns_per_s'] / ref['saturation']['turns_per_s']:.2f}",
            ]
        lines.append(
            f"| {label} | {rel(single['p50_ms'], base['single']['p50_ms'])} "
            f"| {single['p95_ms']} "
            f"| {rel(single['cpu_ms_per_turn'], base['single']['cpu_ms_per_turn'])} "
            f"| {rel(sat['turns_per_s'], base['saturation']['turns_per_s'])} "
            f"| {sat['p50_ms']} "
            f"| {rel(sat['cpu_ms_per_turn'], base['saturation']['cpu_ms_per_turn'])} "
            f"| {single['errors'] + sat['errors']} | {vs_stock[0]} | {vs_stock[1]} |"
        )
    lines.append("")
    text = "\n".join(lines)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text)
    print(text)
    return 0


def _relative(value: float | None, ref: float | None) -> str:
    if value is None or not ref:
        return f"{value}"
    return f"{value} ({value / ref:.2f}×)"


def _plain(value: float | None, ref: float | None) -> str:
    return f"{value}"


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--serve"]:
        patches = [p for p in argv[1].split(",") if p and p != "-"]
        rest = argv[3:] if argv[2:3] == ["--"] else argv[2:]
        serve(patches, rest)
        return 0
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "variants",
        nargs="*",
        default=["schema", "schema+events+selective_domain"],
        help="patch sets joined by '+', e.g. schema+events (default: two variants)",
    )
    parser.add_argument("--turns", type=int, default=150)
    parser.add_argument("--sat-users", type=int, default=40)
    parser.add_argument("--sat-duration", type=float, default=45.0)
    parser.add_argument("--no-stock", action="store_true", help="skip the stock assistant")
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
