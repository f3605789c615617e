"""Single-user turn latency with each conversation store, same code, same run.

    .venv/bin/python -m bench.tracker_store            # about 3 minutes
    .venv/bin/python -m bench.tracker_store --turns 300 --repeat 2

Starts Rasa and the action server through the launcher's own commands
(``tests.servers.Stack``), once with the in-memory store (nothing survives a
restart) and once with the default, Rasa's SQL tracker store on SQLite in the
run's var directory; drives each with the benchmark's load generator
(``bench.load.Driver``: the single-user scenario of ``bench.run``, 12
conversations in turn, one request in flight) and writes
``bench/results/tracker-store.json``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results" / "tracker-store.json"


def measure(store: str, turns: int, seed: int) -> dict[str, Any]:
    from bench.load import Driver
    from tests.servers import Stack

    with tempfile.TemporaryDirectory(prefix=f"lumi-bench-{store}-") as workdir:
        stack = Stack.create(Path(workdir))
        assert stack.settings
        stack.settings.tracker_store = store
        try:
            stack.boot("actions", "rasa")
            asyncio.run(Driver(stack.rasa_url, "ours", seed=seed).warm_up(20))
            load = os.getloadavg()[0]
            result = asyncio.run(
                Driver(stack.rasa_url, "ours", seed=seed).run_scenario(
                    f"single-{store}", users=1, conversations_per_user=12, max_turns=turns
                )
            )
            summary = result.summary()
            summary["load_avg_1min_before"] = round(load, 2)
            summary["load_avg_1min_after"] = round(os.getloadavg()[0], 2)
            return summary
        finally:
            stack.stop_all()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--turns", type=int, default=300)
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    runs: list[dict[str, Any]] = []
    for _ in range(args.repeat):
        for store in ("memory", "sql"):
            summary = measure(store, args.turns, args.seed)
            summary["store"] = store
            runs.append(summary)
            print(
                f"{store:6}  turns {summary['ok_turns']}  errors {summary['errors']}  "
                f"p50 {summary['p50_ms']} ms  p95 {summary['p95_ms']} ms  "
                f"(load {summary['load_avg_1min_before']})",
                flush=True,
            )
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(
        json.dumps(
            {"written": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "turns": args.turns, "runs": runs},
            indent=2,
        )
        + "\n"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
