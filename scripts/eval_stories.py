"""Accuracy of free-text understanding inside stories, per language.

Reads the labelled sets in data/eval/stories/ and prints, per language:
- free_text_choices: how often a typed answer picks the expected choice
  (or, for items labelled null, is not guessed at);
- rehearsal: how often a practice reply gets the expected strategy.

Usage:
    .venv/bin/python scripts/eval_stories.py [--verbose] [--no-model] [--min 0.9]

Exit status 1 when a figure is under --min (default: report only).
The labelled sentences are our own test data, not children's messages.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import yaml  # noqa: E402

from bot import text as texts  # noqa: E402
from bot.paths import DATA_DIR  # noqa: E402
from bot.stories import model, understand  # noqa: E402

EVAL_DIR = DATA_DIR / "eval" / "stories"


def _items(name: str, lang: str) -> list[dict[str, Any]]:
    path = EVAL_DIR / f"{name}.{lang}.yml"
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    return list(raw["items"])


def _expected(value: Any) -> set[str | None]:
    if isinstance(value, list):
        return set(value)
    return {value}


def labels_for(story: model.Story, step: model.Step) -> dict[str, list[str]]:
    return {
        c.id: [
            texts.t(story.key("steps", step.id, "choices", c.id, "label"), lang)
            for lang in texts.LANGUAGES
        ]
        for c in step.choices
    }


def eval_choices(name: str, lang: str, use_model: bool, verbose: bool) -> tuple[int, int]:
    stories = model.stories()
    right = 0
    items = _items(name, lang)
    for item in items:
        story = stories[item["story"]]
        step = story.steps[item["step"]]
        found = understand.choice_for(
            step, str(item["text"]), labels_for(story, step), use_model=use_model
        )
        ok = found.choice_id in _expected(item["expected"])
        right += ok
        if verbose and not ok:
            print(
                f"  MISS {name}.{lang} {item['story']}/{item['step']}: {item['text']!r} -> "
                f"{found.choice_id} ({found.how}), expected {item['expected']}"
            )
    return right, len(items)


def eval_rehearsal(name: str, lang: str, use_model: bool, verbose: bool) -> tuple[int, int]:
    right = 0
    items = _items(name, lang)
    for item in items:
        reading = understand.read_rehearsal(str(item["text"]), use_model=use_model)
        ok = reading.category in _expected(item["expected"])
        right += ok
        if verbose and not ok:
            print(
                f"  MISS {name}.{lang}: {item['text']!r} -> {reading.category} "
                f"{list(reading.strategies)}, expected {item['expected']}"
            )
    return right, len(items)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--verbose", "-v", action="store_true", help="list the misses")
    parser.add_argument("--no-model", action="store_true", help="patterns only")
    parser.add_argument("--min", type=float, default=0.0, help="fail under this accuracy")
    args = parser.parse_args(argv)
    use_model = not args.no_model
    worst = 1.0
    print(f"{'set':<28}{'lang':<6}{'right':>7}{'total':>7}{'accuracy':>10}")
    runs = (
        ("free_text_choices", eval_choices),
        ("rehearsal", eval_rehearsal),
        ("free_text_choices_holdout", eval_choices),
        ("rehearsal_holdout", eval_rehearsal),
        ("free_text_choices_fresh", eval_choices),
        ("rehearsal_fresh", eval_rehearsal),
    )
    for name, run in runs:
        for lang in texts.LANGUAGES:
            if not (EVAL_DIR / f"{name}.{lang}.yml").exists():
                continue
            right, total = run(name, lang, use_model, args.verbose)
            accuracy = right / total if total else 0.0
            if name in ("free_text_choices", "rehearsal"):
                worst = min(worst, accuracy)
            print(f"{name:<28}{lang:<6}{right:>7}{total:>7}{accuracy:>10.1%}")
    if worst < args.min:
        print(f"below the target of {args.min:.0%}")
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
