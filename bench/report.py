"""Targets, the Markdown table and the JSON file of a benchmark run."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

SCENARIOS = ("single", "class", "saturation")
SCENARIO_TITLES = {
    "single": "single user",
    "class": "class (30, think 2-8 s)",
    "saturation": "saturation (no think)",
}
RSS_LIMIT_BYTES = 1.6e9  # "1.6 GB": decimal gigabytes, the stricter reading (1526 MiB)


def _ratio(ours: float | None, stock: float | None) -> float | None:
    if ours is None or stock in (None, 0):
        return None
    return round(ours / stock, 2)


def _fmt(value: Any, unit: str = "") -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        value = f"{value:.1f}" if abs(value) < 1000 else f"{value:.0f}"
    return f"{value}{unit}"


def targets(results: dict[str, Any]) -> list[dict[str, Any]]:
    """Every target as a ratio (or limit) from this run's own figures."""
    s = results["scenarios"]

    def get(scenario: str, bot: str, key: str) -> float | None:
        return s.get(scenario, {}).get(bot, {}).get(key)

    rows = []

    single_stock, single_ours = get("single", "stock", "p50_ms"), get("single", "ours", "p50_ms")
    ratio = _ratio(single_ours, single_stock)
    rows.append(
        {
            "id": "single_p50",
            "target": "single-user p50: ours ≤ 1.25 × stock",
            "value": f"{_fmt(single_ours)} ms vs {_fmt(single_stock)} ms = {_fmt(ratio)}×",
            "ratio": ratio,
            "pass": ratio is not None and ratio <= 1.25,
        }
    )

    sat_stock = get("saturation", "stock", "turns_per_s")
    sat_ours = get("saturation", "ours", "turns_per_s")
    ratio = _ratio(sat_ours, sat_stock)
    rows.append(
        {
            "id": "saturation_throughput",
            "target": "saturation throughput: ours ≥ 0.8 × stock",
            "value": f"{_fmt(sat_ours)} vs {_fmt(sat_stock)} turns/s = {_fmt(ratio)}×",
            "ratio": ratio,
            "pass": ratio is not None and ratio >= 0.8,
        }
    )

    class_p95, single_p95 = get("class", "ours", "p95_ms"), get("single", "ours", "p95_ms")
    ratio = _ratio(class_p95, single_p95)
    rows.append(
        {
            "id": "class_p95",
            "target": "class load p95: ours ≤ 1.5 × our single-user p95",
            "value": f"{_fmt(class_p95)} ms vs {_fmt(single_p95)} ms = {_fmt(ratio)}×",
            "ratio": ratio,
            "pass": ratio is not None and ratio <= 1.5,
        }
    )

    peak = results["memory"]["ours"].get("rss_peak_bytes")
    rows.append(
        {
            "id": "ours_rss",
            "target": "all our processes together ≤ 1.6 GB RSS (peak, whole run)",
            "value": "–" if peak is None else f"{peak / 1e9:.2f} GB ({peak / 2**20:.0f} MiB)",
            "ratio": None if peak is None else round(peak / RSS_LIMIT_BYTES, 2),
            "pass": peak is not None and peak <= RSS_LIMIT_BYTES,
        }
    )

    train = results["training"]
    measured = train.get("ours_rasa_train_s")
    if measured is not None:
        value = f"{measured:.0f} s ({train.get('ours_source')})"
    else:
        value = "not measured: run with --train-time"
    rows.append(
        {
            "id": "training_time",
            "target": "training time reported",
            "value": value,
            "ratio": None,
            "pass": measured is not None,
        }
    )
    return rows


def markdown(results: dict[str, Any]) -> str:
    machine = results["machine"]
    dirty = " (+ uncommitted changes)" if machine["git_dirty"] else ""
    lines = [
        f"# Lumi vs stock `rasa init` — {results['date']}",
        "",
        f"Machine: {machine['cpu_count']} cores, {machine['memory_gb']} GB RAM, "
        f"Rasa {machine['versions'].get('rasa')}, Python {machine['python']}; "
        f"commit {machine['git_commit']}{dirty}.",
        f"Load average (1/5/15 min) before: {_load(results['load_average']['before'])}; "
        f"after: {_load(results['load_average']['after'])}. Both assistants and the load "
        "generator share these cores; other work on the machine adds to the load.",
        "",
        "| scenario | bot | turns | p50 ms | p95 ms | p99 ms | turns/s | errors "
        "| RSS peak / mean MiB | CPU ms/turn | load avg (1 min) |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for name in SCENARIOS:
        scenario = results["scenarios"].get(name)
        if not scenario:
            continue
        for bot in ("stock", "ours"):
            r = scenario.get(bot)
            if not r:
                continue
            load = r.get("load_average_before", [None])[0]
            lines.append(
                f"| {SCENARIO_TITLES[name]} | {bot} | {r['turns']} | {_fmt(r['p50_ms'])} "
                f"| {_fmt(r['p95_ms'])} | {_fmt(r['p99_ms'])} | {_fmt(r['turns_per_s'])} "
                f"| {r['errors']} | {_fmt(r['rss_peak_mb'])} / {_fmt(r['rss_mean_mb'])} "
                f"| {_fmt(r.get('cpu_ms_per_turn'))} | {_fmt(load)} |"
            )
        stock, ours = scenario.get("stock", {}), scenario.get("ours", {})
        cells = [
            _fmt(_ratio(ours.get(k), stock.get(k)), "×")
            for k in ("p50_ms", "p95_ms", "p99_ms", "turns_per_s")
        ]
        errors = f"{ours.get('errors', '–')} vs {stock.get('errors', '–')}"
        mem = _fmt(_ratio(ours.get("rss_peak_mb"), stock.get("rss_peak_mb")), "×")
        cpu = _fmt(_ratio(ours.get("cpu_ms_per_turn"), stock.get("cpu_ms_per_turn")), "×")
        lines.append(
            f"| {SCENARIO_TITLES[name]} | **ours/stock** | | {' | '.join(cells)} "
            f"| {errors} | {mem} | {cpu} | |"
        )
    lines += ["", "| target | this run | result |", "|---|---|---|"]
    for row in results["targets"]:
        lines.append(f"| {row['target']} | {row['value']} | {'PASS' if row['pass'] else 'FAIL'} |")
    train = results["training"]
    lines += ["", "Training and start-up:", ""]
    if train.get("ours_rasa_train_s") is not None:
        lines.append(
            f"- ours: `rasa train` {train['ours_rasa_train_s']:.0f} s ({train['ours_source']})"
        )
    lines.append(
        f"- ours: `bot.build` this run {_fmt(train['ours_build']['build_wall_s'])} s "
        f"({'trained' if train['ours_build']['trained'] else 'model up to date, no training'})"
    )
    if train.get("stock_init_and_train_s") is not None:
        lines.append(
            f"- stock: `rasa init` (creates and trains) {train['stock_init_and_train_s']:.0f} s"
            + (" (cached project, measured when it was created)" if train["stock_cached"] else "")
        )
    for bot in ("stock", "ours"):
        startup = results["startup"].get(bot, {})
        first = startup.get("first_text_turn_ms")
        lines.append(
            f"- {bot}: ready (model loaded, webhook answers) after {_fmt(startup.get('ready_s'))} s"
            + (f'; its first typed message ("hi") took {_fmt(first)} ms' if first else "")
        )
    cold = results.get("cold_turns", {})
    if cold:
        lines.append(
            "- first turns after start-up (warm-up, not counted), ms: "
            + "; ".join(f"{bot} {', '.join(_fmt(x) for x in v[:8])}" for bot, v in cold.items())
        )
    processes = results.get("processes", {})
    if processes:
        lines += [
            "",
            "Memory per process at the end of the run (RSS / PSS MiB; PSS shares libraries):",
            "",
        ]
        for bot, rows in processes.items():
            cells = [
                f"{row['cmd'].split('/')[-1][:40]} {row['rss_mb']:.0f} / {row['pss_mb']:.0f}"
                for row in rows
                if row["rss_mb"] > 20
            ]
            lines.append(f"- {bot}: " + "; ".join(cells))
    lines.append("")
    return "\n".join(lines)


def _load(values: list[float] | None) -> str:
    return "–" if not values else " / ".join(f"{v:.2f}" for v in values)


def write(results: dict[str, Any], out_dir: Path) -> tuple[Path, Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    json_path, md_path = out_dir / "latest.json", out_dir / "latest.md"
    json_path.write_text(json.dumps(results, indent=1, ensure_ascii=False) + "\n")
    md_path.write_text(markdown(results))
    return json_path, md_path
