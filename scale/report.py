"""Figures, targets and the Markdown report of a scale run (bench/results/scale.*)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


def _total(rounds: list[dict[str, Any]]) -> dict[str, Any]:
    ok = sum(r["ok_turns"] for r in rounds)
    wall = sum(r["wall_s"] for r in rounds)
    turns = sum(r["turns"] for r in rounds)
    errors = sum(r["errors"] for r in rounds)
    components: dict[str, dict[str, float]] = {}
    for r in rounds:
        for name, c in r["components"].items():
            slot = components.setdefault(name, {"cpu_s": 0.0, "elapsed_s": 0.0})
            slot["cpu_s"] += c["cpu_s"]
            slot["elapsed_s"] += r["elapsed_s"]
    per_component = {
        name: {
            "cpu_ms_per_turn": round(c["cpu_s"] * 1000 / ok, 1) if ok else None,
            "cores": round(c["cpu_s"] / c["elapsed_s"], 2) if c["elapsed_s"] else None,
        }
        for name, c in components.items()
    }
    mean = lambda key: round(sum(r[key] for r in rounds) / len(rounds), 2)  # noqa: E731
    return {
        "rounds": len(rounds),
        "turns": turns,
        "ok_turns": ok,
        "errors": errors,
        "turns_per_s": round(ok / wall, 2) if wall else None,
        "turns_per_s_by_round": [r["turns_per_s"] for r in rounds],
        "p50_ms_mean": mean("p50_ms"),
        "p95_ms_mean": mean("p95_ms"),
        "components": per_component,
        "topology_cpu_ms_per_turn": round(
            sum(
                c["cpu_ms_per_turn"] or 0 for n, c in per_component.items() if n != "load_generator"
            ),
            1,
        ),
        "all_cpu_ms_per_turn": round(
            sum(c["cpu_ms_per_turn"] or 0 for c in per_component.values()), 1
        ),
        "other_work_cores_mean": mean("other_work_cores"),
        "machine_busy_cores_mean": mean("machine_busy_cores"),
        "load_average_1min": [r["load_average_before"][0] for r in rounds]
        + [rounds[-1]["load_average_after"][0]],
    }


def saturation_summary(rounds: list[dict[str, Any]], args: Any) -> dict[str, Any]:
    one = _total([r for r in rounds if r["replicas"] == 1])
    many = _total([r for r in rounds if r["replicas"] > 1])
    ratio = (
        round(many["turns_per_s"] / one["turns_per_s"], 2)
        if one["turns_per_s"] and many["turns_per_s"]
        else None
    )
    cores = rounds[0]["cpu_count"] or 2
    rasa_one = one["components"].get("rasa-1", {})
    rasa_ms = rasa_one.get("cpu_ms_per_turn")
    all_ms = many["all_cpu_ms_per_turn"]
    analysis: dict[str, Any] = {"cpu_count": cores}
    if rasa_ms and all_ms:
        single_core_ceiling = 1000 / rasa_ms  # a replica is one Sanic event loop: ~1 core
        machine_ceiling = cores * 1000 / all_ms
        free_cores = max(0.1, cores - many["other_work_cores_mean"])
        analysis.update(
            {
                "rasa_cpu_ms_per_turn_one_replica": rasa_ms,
                "rasa_cores_used_one_replica": rasa_one.get("cores"),
                "all_cpu_ms_per_turn_n_replicas": all_ms,
                "one_replica_ceiling_turns_per_s": round(single_core_ceiling, 1),
                "machine_ceiling_turns_per_s_if_idle": round(machine_ceiling, 1),
                "machine_ceiling_turns_per_s_with_other_work": round(free_cores * 1000 / all_ms, 1),
                "best_ratio_possible_here_if_idle": round(
                    min(args.replicas * single_core_ceiling, machine_ceiling) / single_core_ceiling,
                    2,
                ),
                # cores for target_ratio x the measured one-replica throughput
                "cores_needed_for_target": round(
                    args.target_ratio * (one["turns_per_s"] or 0) * all_ms / 1000, 2
                ),
            }
        )
    return {
        "one_replica": one,
        "n_replicas": many,
        "replicas": args.replicas,
        "ratio": ratio,
        "target_ratio": args.target_ratio,
        "analysis": analysis,
    }


def failover_counts(failover: dict[str, Any]) -> dict[str, Any]:
    summary = failover["summary"]
    probe_requests = sum(len(p["after_kill"]) for p in failover["probes"])
    probe_requests += len(failover["midturn"])
    probe_errors = sum(1 for p in failover["probes"] for e in p["after_kill"] if e["error"])
    probe_errors += sum(1 for e in failover["midturn"] if e["error"])
    requests = summary["turns"] + probe_requests
    failed = summary["errors"] + probe_errors
    return {
        "requests": requests,
        "failed": failed,
        "failed_share": round(failed / requests, 4) if requests else None,
        "errors_by_kind": summary["errors_by_kind"],
    }


def failover_line(failover: dict[str, Any]) -> str:
    counts = failover_counts(failover)
    cont = failover["continuity"]
    probes = sum(1 for p in failover["probes"] if p["continued"])
    return (
        f"failover: {counts['requests']} requests, {counts['failed']} failed "
        f"({100 * (counts['failed_share'] or 0):.2f} %); after the kill "
        f"{cont['moved_on']}/{cont['answered']} story presses moved the story on; "
        f"probes continued on the other replica: {probes}/{len(failover['probes'])}"
    )


def targets(results: dict[str, Any], args: Any) -> list[dict[str, Any]]:
    sat = results["saturation"]
    fo = results["failover"]
    counts = failover_counts(fo)
    cont = fo["continuity"]
    probes_ok = sum(1 for p in fo["probes"] if p["continued"])
    one, many = sat["one_replica"]["turns_per_s"], sat["n_replicas"]["turns_per_s"]
    return [
        {
            "target": f"saturation throughput: {args.replicas} replicas >= "
            f"{args.target_ratio} x one replica",
            "value": f"{many} vs {one} turns/s = {sat['ratio']}x",
            "pass": bool(sat["ratio"] and sat["ratio"] >= args.target_ratio),
        },
        {
            "target": f"failover: failed requests < {100 * args.max_failed:g} %",
            "value": f"{counts['failed']} of {counts['requests']} = "
            f"{100 * (counts['failed_share'] or 0):.2f} %",
            "pass": counts["failed_share"] is not None and counts["failed_share"] < args.max_failed,
        },
        {
            "target": "failover: stories continue on the other replica",
            "value": f"probes {probes_ok}/{len(fo['probes'])}; class: "
            f"{cont['moved_on']}/{cont['answered']} presses after the kill moved on",
            "pass": probes_ok == len(fo["probes"])
            and cont["not_moved_on"] == 0
            and cont["answered"] > 0,
        },
    ]


def write(results: dict[str, Any], out: Path) -> tuple[Path, Path]:
    out.mkdir(parents=True, exist_ok=True)
    json_path, md_path = out / "scale.json", out / "scale.md"
    json_path.write_text(json.dumps(results, indent=1) + "\n")
    md_path.write_text(markdown(results) + "\n")
    return json_path, md_path


def _f(value: Any, suffix: str = "") -> str:
    return "–" if value is None else f"{value}{suffix}"


def markdown(r: dict[str, Any]) -> str:
    sat, fo, redis = r["saturation"], r["failover"], r["redis_outage"]
    one, many, an = sat["one_replica"], sat["n_replicas"], sat["analysis"]
    m = r["machine"]
    n = sat["replicas"]
    lines = [
        "# Scale-out test: Rasa replicas behind nginx, shared Redis stores",
        "",
        f"`python -m scale.run` at {r['date']} (commit {m['git_commit']}"
        + (" + uncommitted changes" if m["git_dirty"] else "")
        + f"), run time {r['run_time_s']:.0f} s. Machine: {m['cpu_count']} cores, "
        f"{m['memory_gb']} GB RAM, Rasa {m['versions']['rasa']}. Load average (1/5/15 min) "
        f"before {' / '.join(map(str, r['load_average']['before']))}, after "
        f"{' / '.join(map(str, r['load_average']['after']))}.",
        "",
        f"Topology: {n} Rasa replicas (same model, Redis tracker store db 0 with expiry, Redis "
        f"lock store db 1, TICKET_LOCK_LIFETIME={r['topology']['ticket_lock_lifetime_s']} s), "
        f"{len(r['topology']['action_servers'])} action servers (PostgreSQL for our data), nginx "
        "in front of both (generated from scale/nginx.conf.template). Everything, the load "
        "generator included, shares this machine's cores.",
        "",
        "## Saturation: one replica vs " + str(n),
        "",
        f"bench/load.py, {r['parameters']['sat_users']} users, no think time, "
        f"{r['parameters']['sat_duration']:.0f} s per round, rounds in the order "
        f"{', '.join(sat['order'])} (drift cancels), same nginx and action servers.",
        "",
        "| round | replicas | turns | turns/s | p50 ms | p95 ms | errors | Rasa cores | "
        "other work cores | load avg (1 min) |",
        "|---|---:|---:|---:|---:|---:|---:|---|---:|---:|",
    ]
    for i, row in enumerate(sat["rounds"]):
        rasa = " + ".join(
            f"{c['cores']}" for name, c in row["components"].items() if name.startswith("rasa")
        )
        lines.append(
            f"| {i + 1} | {row['replicas']} | {row['turns']} | {row['turns_per_s']} | "
            f"{row['p50_ms']} | {row['p95_ms']} | {row['errors']} | {rasa} | "
            f"{row['other_work_cores']} | {row['load_average_before'][0]} → "
            f"{row['load_average_after'][0]} |"
        )
    lines += [
        "",
        f"**{n} replicas: {many['turns_per_s']} turns/s; one replica: {one['turns_per_s']} "
        f"turns/s; ratio {sat['ratio']}× (target ≥ {sat['target_ratio']}×).**",
        "",
        "CPU per turn by component (ms, all rounds of each kind together):",
        "",
        "| component | one replica: ms/turn | cores | " + f"{n} replicas: ms/turn | cores |",
        "|---|---:|---:|---:|---:|",
    ]
    names = list(dict.fromkeys([*one["components"], *many["components"]]))
    for name in names:
        a, b = one["components"].get(name, {}), many["components"].get(name, {})
        lines.append(
            f"| {name} | {_f(a.get('cpu_ms_per_turn'))} | {_f(a.get('cores'))} | "
            f"{_f(b.get('cpu_ms_per_turn'))} | {_f(b.get('cores'))} |"
        )
    lines += [
        f"| **all of it** | {one['all_cpu_ms_per_turn']} | | {many['all_cpu_ms_per_turn']} | |",
        f"| other work on the machine (cores) | | {one['other_work_cores_mean']} | | "
        f"{many['other_work_cores_mean']} |",
        "",
    ]
    if an.get("rasa_cpu_ms_per_turn_one_replica"):
        lines += [
            "Where the ceiling is: a Rasa replica is one Sanic event loop, so one replica "
            f"tops out near 1000 / {an['rasa_cpu_ms_per_turn_one_replica']} ms = "
            f"{an['one_replica_ceiling_turns_per_s']} turns/s (it used "
            f"{an['rasa_cores_used_one_replica']} cores). With {n} replicas every turn costs "
            f"{an['all_cpu_ms_per_turn_n_replicas']} ms of CPU across all processes (Rasa, "
            "actions, nginx, Redis, PostgreSQL, the load generator), so "
            f"{an['cpu_count']} idle cores cap the whole at "
            f"{an['machine_ceiling_turns_per_s_if_idle']} turns/s, and at "
            f"{an['machine_ceiling_turns_per_s_with_other_work']} turns/s with the other work "
            "measured during the rounds. Best ratio this machine allows even when idle: "
            f"{an['best_ratio_possible_here_if_idle']}×; reaching "
            f"{sat['target_ratio']}× needs about {an['cores_needed_for_target']} free cores.",
            "",
        ]
    lines += [
        "Memory per process at the end of the saturation rounds (MiB):",
        "",
        "| process | RSS | PSS |",
        "|---|---:|---:|",
        *[f"| {k} | {v['rss_mb']} | {v['pss_mb']} |" for k, v in r["memory_mb"].items()],
        "",
    ]
    counts = failover_counts(fo)
    cont = fo["continuity"]
    lines += [
        "## Failover: one replica killed during a class",
        "",
        f"{r['parameters']['class_users']} children (think time "
        f"{r['parameters']['think'][0]:g}-{r['parameters']['think'][1]:g} s) through nginx for "
        f"{r['parameters']['failover_duration']:.0f} s; {fo['victim']} got SIGKILL (its whole "
        f"process group) {fo['kill_after_s']} s in. Load average "
        f"{fo['load_average_before'][0]} → {fo['load_average_after'][0]}.",
        "",
        "| window | turns | errors | p50 ms | p95 ms | max ms |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for key, label in (
        ("before_kill", "before the kill"),
        ("first_10_s_after_kill", "first 10 s after"),
        ("after_kill", "after the kill (all)"),
    ):
        w = fo[key]
        errors = f"{w['errors']}" + (f" {w['errors_by_kind']}" if w["errors_by_kind"] else "")
        lines.append(
            f"| {label} | {w['turns']} | {errors} | {_f(w['p50_ms'])} | {_f(w['p95_ms'])} | "
            f"{_f(w['max_ms'])} |"
        )
    nginx = fo["nginx"]
    lines += [
        "",
        f"- **Requests {counts['requests']}, failed {counts['failed']} "
        f"({100 * (counts['failed_share'] or 0):.2f} %)** (class turns plus the probes' presses "
        "after the kill).",
        f"- nginx passed {nginx['after_kill']['passed_to_another_replica']} requests after the "
        f"kill to the other replica (first try: {nginx['after_kill']['first_try_status']}); "
        f"statuses it returned after the kill: {nginx['after_kill']['statuses']}.",
        f"- Story continuity (class): {cont['moved_on']} of {cont['answered']} story button "
        f"presses answered after the kill moved the story on ({cont['not_moved_on']} did not); "
        f"{cont['children_first_press_moved_on']} of {cont['children_pressing_after_kill']} "
        "children's first press after the kill moved their story on "
        f"({cont['children_first_press_failed']} first presses failed).",
        *_midturn_lines(fo),
        "- Probe children (story played on the replica that died, next presses through nginx):",
        "",
        "| probe | before the kill | after the kill: served by | story moved on | continued |",
        "|---|---|---|---|---|",
    ]
    for p in fo["probes"]:
        before = ", ".join(f"{e['message'].split('{')[0]} {e['status']}" for e in p["before_kill"])
        lines.append(
            f"| …{p['sender_suffix']} | {p['before_kill_on']}: {before} | "
            f"{', '.join(str(u) for u in p['served_after_kill_by'])} | "
            f"{p['story_moved_on']} | {'yes' if p['continued'] else 'NO'} |"
        )
    lines += [
        "",
        "## Redis down",
        "",
        f"{redis['children']} children each in a story; each row: every child presses its next "
        "button at once (or /start when it has none).",
        "",
        "| phase | statuses | story presses that moved on | slowest ms | "
        "first reply text (a child's) |",
        "|---|---|---:|---:|---|",
    ]
    for row in redis["rounds"]:
        text = (row["rows"][0]["first_text"] if row["rows"] else "").replace("|", "/")
        lines.append(
            f"| {row['phase']} | {row['statuses']} | "
            + (
                f"{row['story_moved_on']}/{row['story_presses']}"
                if row.get("story_presses")
                else "– (menu)"
            )
            + " | "
            f"{row['max_latency_ms']} | {text} |"
        )
    lines += [
        "",
        f"Redis was started again in {redis['redis_restart_s']} s, empty (no persistence in "
        "this test): conversations restart from the menu.",
        "",
    ]
    foot = r.get("redis_footprint")
    if foot:
        lines += [
            f"Redis after the failover run: {foot['tracker_keys']} conversations (tracker keys, "
            f"TTL {foot['tracker_ttl_s_sample']} s left on a sample), mean "
            f"{foot['tracker_bytes_mean']} bytes each (max {foot['tracker_bytes_max']}), "
            f"{foot['state_keys']} language-state keys, {foot['lock_keys']} lock keys left; "
            f"used memory {foot['used_memory_bytes'] / 2**20:.1f} MiB.",
            "",
        ]
    lines += [
        "## Targets",
        "",
        "| target | this run | result |",
        "|---|---|---|",
        *[
            f"| {t['target']} | {t['value']} | {'PASS' if t['pass'] else 'FAIL'} |"
            for t in r["targets"]
        ],
    ]
    return "\n".join(lines)


def _midturn_lines(fo: dict[str, Any]) -> list[str]:
    rows = fo["midturn"]
    if not rows:
        return []
    ok = [e for e in rows if not e["error"]]
    retried = [e for e in rows if "," in str(e.get("upstream"))]
    slowest = max((e["latency_ms"] for e in rows), default=0)
    return [
        f"- Turns in flight at the kill: {len(rows)} children pressed a button "
        f"{fo['midturn_delay_s']} s before the SIGKILL (about half land on the replica that "
        f"dies); {len(ok)} answered 200 ({len(retried)} of them after nginx passed a refused "
        f"connection on to the other replica), {len(rows) - len(ok)} failed "
        f"({_kinds(rows)}); slowest {slowest:.0f} ms; story moved on: "
        f"{sum(1 for e in rows if e['story_moved_on'])}/{len(rows)}.",
    ]


def _kinds(rows: list[dict[str, Any]]) -> str:
    kinds: dict[str, int] = {}
    for e in rows:
        if e["error"]:
            kinds[e["error"]] = kinds.get(e["error"], 0) + 1
    return ", ".join(f"{k} {v}" for k, v in kinds.items()) or "none"


def summary(r: dict[str, Any]) -> str:
    sat = r["saturation"]
    an = sat["analysis"]
    lines = [
        f"scale run {r['date']}, {r['machine']['cpu_count']} cores, load average "
        f"{r['load_average']['before']} -> {r['load_average']['after']}",
        f"saturation: 1 replica {sat['one_replica']['turns_per_s']} turns/s "
        f"(rounds {sat['one_replica']['turns_per_s_by_round']}), {sat['replicas']} replicas "
        f"{sat['n_replicas']['turns_per_s']} turns/s "
        f"(rounds {sat['n_replicas']['turns_per_s_by_round']}), ratio {sat['ratio']}x",
    ]
    if an.get("rasa_cpu_ms_per_turn_one_replica"):
        lines.append(
            f"  CPU per turn: Rasa {an['rasa_cpu_ms_per_turn_one_replica']} ms (one replica), "
            f"everything {an['all_cpu_ms_per_turn_n_replicas']} ms; other work "
            f"{sat['n_replicas']['other_work_cores_mean']} cores; best ratio possible on "
            f"{an['cpu_count']} idle cores {an['best_ratio_possible_here_if_idle']}x"
        )
    lines.append(failover_line(r["failover"]))
    for t in r["targets"]:
        lines.append(f"{'PASS' if t['pass'] else 'FAIL'}  {t['target']}: {t['value']}")
    return "\n".join(lines)
