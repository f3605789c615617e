"""Accuracy of free-text understanding inside stories, per set and per language.

Reads every labelled set in data/eval/stories/ (found by globbing, so a new
story's sets are picked up without touching this script):

- ``free_text_choices*.<lang>.yml``: how often a typed answer picks the
  expected choice (or, for items labelled null, is not guessed at);
- ``rehearsal*.<lang>.yml``: how often a practice reply gets the expected kind;
- ``quiz_answers*.<lang>.yml``: how often an answer typed in the quiz is read
  as the expected trick (``ask``: Lumi asks which one was meant; null: not an
  answer) and, when the item says ``right``, judged right or wrong as labelled.

The shared sets come first (``free_text_choices``, ``rehearsal``, then their
``_holdout``, ``_fresh``… variants), then the per-story sets
(``free_text_choices_<story id>``, ``rehearsal_<story id>``). For each
language it prints one row per set and the overall figures (choices,
rehearsal, all).

Usage:
    .venv/bin/python scripts/eval_stories.py [-v] [--no-model] [--min 0.9]
        [--only fresh2] [--stories recorded_call,group_chat] [--markdown]

--min: exit status 1 when any set (in any language) is under this accuracy.
--only: evaluate only the sets whose name contains this text.
--stories: only the items about these stories (comma-separated ids; an item
    says its story in ``story``, which rehearsal items may leave out: those
    are then left out too). Sets with no such item are not shown.
--markdown: also print a set | en | fr table for docs/stories.md.
The labelled sentences are our own test data, not children's messages.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, NamedTuple

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import yaml  # noqa: E402

from bot import quiz  # noqa: E402
from bot import text as texts  # noqa: E402
from bot.paths import DATA_DIR  # noqa: E402
from bot.stories import model, understand  # noqa: E402

EVAL_DIR = DATA_DIR / "eval" / "stories"
KINDS = ("free_text_choices", "rehearsal", "quiz_answers")
# Shared (not per-story) variants, in the order they were written.
SHARED_ORDER = ("", "_holdout", "_fresh", "_fresh2", "_fresh3", "_fresh4", "_fresh5")


class Result(NamedTuple):
    name: str
    lang: str
    right: int
    total: int

    @property
    def accuracy(self) -> float:
        return self.right / self.total if self.total else 0.0


def _items(name: str, lang: str, stories: frozenset[str] | None = None) -> list[dict[str, Any]]:
    path = EVAL_DIR / f"{name}.{lang}.yml"
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    if not isinstance(raw, dict) or not isinstance(raw.get("items"), list):
        raise SystemExit(f"{path}: expected a mapping with an 'items' list")
    if raw.get("lang", lang) != lang:
        raise SystemExit(f"{path}: says lang {raw.get('lang')!r}, file name says {lang!r}")
    items = list(raw["items"])
    if stories is not None:
        items = [i for i in items if isinstance(i, dict) and i.get("story") in stories]
    return items


def _expected(value: Any) -> set[str | None]:
    if isinstance(value, list):
        return set(value)
    return {value}


def kind_of(name: str) -> str:
    """``free_text_choices`` or ``rehearsal`` for a set name."""
    for kind in KINDS:
        if name == kind or name.startswith(kind + "_"):
            return kind
    raise ValueError(f"not a labelled set name: {name}")


def set_names(only: str | None = None) -> list[str]:
    """Every labelled set (without the language), shared sets first, then per story."""
    found: set[str] = set()
    for lang in texts.LANGUAGES:
        for kind in KINDS:
            for path in EVAL_DIR.glob(f"{kind}*.{lang}.yml"):
                name = path.name[: -len(f".{lang}.yml")]
                if name == kind or name.startswith(kind + "_"):
                    found.add(name)
    story_ids = set(model.stories())

    def order(name: str) -> tuple[int, str, int]:
        kind = kind_of(name)
        suffix = name[len(kind) :]
        if suffix in SHARED_ORDER:
            return (0, f"{SHARED_ORDER.index(suffix):03d}", KINDS.index(kind))
        if suffix[1:] in story_ids:
            return (2, suffix, KINDS.index(kind))
        return (1, suffix, KINDS.index(kind))

    names = sorted(found, key=order)
    if only:
        names = [n for n in names if only in n]
    return names


def labels_for(story: model.Story, step: model.Step) -> dict[str, list[str]]:
    return {
        c.id: [
            texts.t(story.key("steps", step.id, "choices", c.id, "label"), lang)
            for lang in texts.LANGUAGES
        ]
        for c in step.choices
    }


def eval_choices(
    name: str, lang: str, use_model: bool, verbose: bool, only: frozenset[str] | None = None
) -> tuple[int, int]:
    stories = model.stories()
    right = 0
    items = _items(name, lang, only)
    for item in items:
        story = stories.get(item["story"])
        step = story.steps.get(item["step"]) if story is not None else None
        if story is None or step is None:
            raise SystemExit(f"{name}.{lang}: unknown story/step {item['story']}/{item['step']}")
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


def eval_rehearsal(
    name: str, lang: str, use_model: bool, verbose: bool, only: frozenset[str] | None = None
) -> tuple[int, int]:
    right = 0
    items = _items(name, lang, only)
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


def _read_quiz_answer(text: str, options: list[str]) -> str | None:
    reading = quiz.read_answer(text, options)
    return "ask" if reading.ask else reading.tactic


def eval_quiz(
    name: str, lang: str, use_model: bool, verbose: bool, only: frozenset[str] | None = None
) -> tuple[int, int]:
    """Quiz answers (``only``, a set of story ids, does not apply to the quiz)."""
    right = 0
    items = _items(name, lang)
    for item in items:
        found = _read_quiz_answer(str(item["text"]), list(item["options"]))
        ok = found in _expected(item["expected"])
        judged = None
        if ok and "right" in item and found not in (None, "ask"):
            judged = quiz.is_right(str(item["item"]), str(found))
            ok = judged == item["right"]
        right += ok
        if verbose and not ok:
            print(
                f"  MISS {name}.{lang} {item['item']} {item['options']}: {item['text']!r} -> "
                f"{found} (judged right: {judged}), expected {item['expected']}"
                + (f" right={item['right']}" if "right" in item else "")
            )
    return right, len(items)


RUNNERS: dict[str, Callable[[str, str, bool, bool, frozenset[str] | None], tuple[int, int]]] = {
    "free_text_choices": eval_choices,
    "rehearsal": eval_rehearsal,
    "quiz_answers": eval_quiz,
}


def evaluate(
    names: list[str],
    use_model: bool = True,
    verbose: bool = False,
    stories: frozenset[str] | None = None,
) -> dict[str, list[Result]]:
    """Results per language, one per set that exists in that language (and,
    with ``stories``, has items about them)."""
    results: dict[str, list[Result]] = {}
    for lang in texts.LANGUAGES:
        results[lang] = []
        for name in names:
            if not (EVAL_DIR / f"{name}.{lang}.yml").exists():
                continue
            right, total = RUNNERS[kind_of(name)](name, lang, use_model, verbose, stories)
            if stories is None or total:
                results[lang].append(Result(name, lang, right, total))
    return results


def _row(label: str, right: int, total: int, width: int) -> str:
    accuracy = right / total if total else 0.0
    return f"{label:<{width}}{right:>7}{total:>7}{accuracy:>10.1%}"


def print_tables(results: dict[str, list[Result]]) -> None:
    width = max([len(r.name) for rs in results.values() for r in rs] + [24]) + 2
    for lang, rows in results.items():
        if not rows:
            continue
        print(f"\n[{lang}] per set")
        print(f"{'set':<{width}}{'right':>7}{'total':>7}{'accuracy':>10}")
        for r in rows:
            print(_row(r.name, r.right, r.total, width))
        print(f"[{lang}] overall")
        for kind in KINDS:
            part = [r for r in rows if kind_of(r.name) == kind]
            if part:
                right, total = sum(r.right for r in part), sum(r.total for r in part)
                print(_row(f"all {kind}", right, total, width))
        right, total = sum(r.right for r in rows), sum(r.total for r in rows)
        print(_row("all sets", right, total, width))


def _cell(result: Result | None) -> str:
    if result is None:
        return ""
    return f"{result.accuracy:.1%} ({result.right}/{result.total})".replace("%", " %")


def print_markdown(results: dict[str, list[Result]]) -> None:
    langs = [lang for lang in texts.LANGUAGES if results.get(lang)]
    names: list[str] = []
    for lang in langs:
        names += [r.name for r in results[lang] if r.name not in names]
    by_key = {(r.name, r.lang): r for lang in langs for r in results[lang]}
    print()
    print("| set | " + " | ".join(langs) + " |")
    print("|---|" + "---|" * len(langs))
    for name in names:
        print(
            f"| `{name}` | " + " | ".join(_cell(by_key.get((name, lang))) for lang in langs) + " |"
        )
    for label, kinds in (
        ("all choices", ("free_text_choices",)),
        ("all rehearsal", ("rehearsal",)),
        ("all quiz answers", ("quiz_answers",)),
        ("all sets", KINDS),
    ):
        cells = []
        for lang in langs:
            part = [r for r in results[lang] if kind_of(r.name) in kinds]
            total = Result(label, lang, sum(r.right for r in part), sum(r.total for r in part))
            cells.append(_cell(total))
        print(f"| **{label}** | " + " | ".join(cells) + " |")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--verbose", "-v", action="store_true", help="list the misses")
    parser.add_argument("--no-model", action="store_true", help="patterns only")
    parser.add_argument("--min", type=float, default=0.0, help="fail when a set is under this")
    parser.add_argument("--only", help="only the sets whose name contains this text")
    parser.add_argument("--stories", help="only the items about these story ids (comma-separated)")
    parser.add_argument("--markdown", action="store_true", help="also print a markdown table")
    args = parser.parse_args(argv)
    only_stories = None
    if args.stories:
        only_stories = frozenset(s.strip() for s in args.stories.split(",") if s.strip())
        unknown = sorted(only_stories - set(model.stories()))
        if unknown:
            print(f"unknown story id(s): {', '.join(unknown)}")
            return 1
    names = set_names(args.only)
    if not names:
        print("no labelled set found")
        return 1
    results = evaluate(
        names, use_model=not args.no_model, verbose=args.verbose, stories=only_stories
    )
    print_tables(results)
    if args.markdown:
        print_markdown(results)
    under = [r for rows in results.values() for r in rows if r.accuracy < args.min]
    if under:
        listed = ", ".join(f"{r.name}.{r.lang} {r.accuracy:.1%}" for r in under)
        print(f"\nbelow the target of {args.min:.0%}: {listed}")
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
