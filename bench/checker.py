"""Speed of "check a message" on a long paste (issue 18: a 4,000-character
paste checked in under 300 ms on this machine).

    .venv/bin/python -m bench.checker            # writes bench/results/checker.json and .md

The paste is a whole exchange of 4,000 characters (about 90 lines, English and
French, a few tactics among everyday lines). The model and the sentence encoder
are loaded first (as the action server does at start); the encoder's cache is
cleared before every run, so each run encodes the whole paste. The machine's
load average is written beside the figures.
"""

from __future__ import annotations

import json
import os
import platform
import statistics
import time
from pathlib import Path
from typing import Any

from bot import semantic
from bot.checker import MAX_CHARS, check, preload

RESULTS = Path(__file__).resolve().parent / "results"
RUNS = 15
TARGET_MS = 300.0

_LINES = (
    "[18:0{m}] sam_k: lol did u see the new map, its so big",
    "[18:0{m}] me: yeah we should play later",
    "[18:0{m}] sam_k: ur honestly the best player on the server, way better than ur friends",
    "[18:0{m}] sam_k: t'as fini les devoirs de maths ? moi pas du tout",
    "[18:0{m}] sam_k: my mum says dinner is at 7 so i can play after",
    "[18:0{m}] sam_k: ill give u 2000 robux if u add me on snap",
    "[18:0{m}] sam_k: on se fait une partie ce soir avec les autres ?",
    "[18:0{m}] sam_k: dont tell ur parents we talk ok, they wouldnt get it",
    "[18:0{m}] sam_k: which school do u go to btw",
    "[18:0{m}] sam_k: gg that last round was crazy, we nearly won",
)


def paste(chars: int = MAX_CHARS) -> str:
    lines: list[str] = []
    i = 0
    while sum(len(line) + 1 for line in lines) < chars:
        lines.append(_LINES[i % len(_LINES)].format(m=i % 10))
        i += 1
    return "\n".join(lines)[:chars]


def main() -> int:
    text = paste()
    started = time.perf_counter()
    preload()
    semantic.warm_up()
    load_s = time.perf_counter() - started
    times = []
    result = None
    for _ in range(RUNS):
        semantic.clear_cache()
        t0 = time.perf_counter()
        result = check(text)
        times.append((time.perf_counter() - t0) * 1000)
    load = os.getloadavg()
    figures: dict[str, Any] = {
        "paste_chars": len(text),
        "paste_lines": text.count("\n") + 1,
        "runs": RUNS,
        "median_ms": round(statistics.median(times), 1),
        "max_ms": round(max(times), 1),
        "min_ms": round(min(times), 1),
        "target_ms": TARGET_MS,
        "passes": statistics.median(times) < TARGET_MS,
        "tactics_found": list(result.tactics) if result else [],
        "model_and_encoder_load_s": round(load_s, 2),
        "load_average_1_5_15": [round(x, 2) for x in load],
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "measured_at": time.strftime("%Y-%m-%d %H:%M", time.localtime()),
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "checker.json").write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")
    verdict = "PASS" if figures["passes"] else "FAIL"
    (RESULTS / "checker.md").write_text(
        "# Check a message: a 4,000-character paste\n\n"
        f"`python -m bench.checker`, {figures['measured_at']}, {figures['cpus']} CPUs, "
        f"load average {figures['load_average_1_5_15']} (1/5/15 min).\n\n"
        "| paste | runs | median | min | max | target |\n|---|---|---|---|---|---|\n"
        f"| {figures['paste_chars']} chars, {figures['paste_lines']} lines | {RUNS} | "
        f"{figures['median_ms']} ms | {figures['min_ms']} ms | {figures['max_ms']} ms | "
        f"< {TARGET_MS:.0f} ms: {verdict} |\n\n"
        f"Tactics found: {', '.join(figures['tactics_found'])}. Loading the model and the "
        f"encoder first took {figures['model_and_encoder_load_s']} s (once per process).\n",
        encoding="utf-8",
    )
    print(json.dumps(figures, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
