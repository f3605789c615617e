"""Measure the message checker on the held-out evaluation set.

    .venv/bin/python scripts/eval_checker.py                # held-out set, per language
    .venv/bin/python scripts/eval_checker.py --set blind5   # or blind, blind2 ... blind4 (issue 18)
    .venv/bin/python scripts/eval_checker.py --errors       # and every wrong answer
    .venv/bin/python scripts/eval_checker.py --file tests/data/checker_dev4.en.yml \
        --file tests/data/checker_dev4.fr.yml               # a development set of one's own

Trains the model first if it is missing or stale. Exits 1 when a language
misses its targets (held-out: macro-F1 >= 0.90; blind: macro-F1 >= 0.92 and
every tactic's F1 >= 0.85; both: harmless messages flagged <= 5%).
The evaluation set must never be used to train or to choose thresholds.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.checker.data import EVAL_SETS, read_examples  # noqa: E402
from bot.checker.evaluate import (  # noqa: E402
    evaluate,
    evaluate_all,
    format_report,
    targets,
)
from bot.checker.model import MODEL_DIR, read_meta, train  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--errors", action="store_true", help="list every wrong answer")
    parser.add_argument("--set", choices=sorted(EVAL_SETS), default="held-out", dest="name")
    parser.add_argument(
        "--file",
        action="append",
        type=Path,
        default=[],
        help="measure these example files instead (a development set; blind targets)",
    )
    args = parser.parse_args(argv)
    train()
    meta = read_meta(MODEL_DIR)
    print(
        f"model: {meta.get('examples')} training examples, trained in {meta.get('seconds')}s, "
        f"cross-validated macro-F1 {meta.get('cv_macro_f1')} (training data only)"
    )
    if args.file:
        goal = targets("blind")  # a development set is held to the blind targets
        reports = {}
        for path in args.file:
            examples = read_examples(path)
            lang = examples[0].lang
            reports[lang] = evaluate(examples, lang)
    else:
        goal = targets(args.name)
        reports = evaluate_all(EVAL_SETS[args.name])
    for report in reports.values():
        print(format_report(report, show_errors=args.errors, goal=goal))
    return 0 if all(goal.met(r) for r in reports.values()) else 1


if __name__ == "__main__":
    raise SystemExit(main())
