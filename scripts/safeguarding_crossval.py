"""Cross-validate the disclosure reader (bot/safeguarding/meaning.py) per language and level.

Usage (from the project root)::

    .venv/bin/python scripts/safeguarding_crossval.py                 # 5 folds, the bars in use
    .venv/bin/python scripts/safeguarding_crossval.py --markdown var/crossval.md
    .venv/bin/python scripts/safeguarding_crossval.py --dev            # + the development sets

The NLU examples (``data/nlu``) are split in stratified folds (both languages
together, as the reader is trained); each fold's reader reads the held-out
examples. Per language: recall on disclosures at the reader's bars (alone, and
with the trained intent's agreement outside and inside a story: the reader's
share of the decision, bot/nlu_rules.py), false alarms on everyday intents,
and per disclosure class how often it is read as a disclosure and at the right
level (the danger classes as danger). ``--dev`` also trains on all examples
and reads the labelled development sets
(``data/eval/safeguarding/{en,fr,blind,blind2}``; never the blind3 sets, which
are only measured, never tuned on).
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bot import nlu_data  # noqa: E402
from bot.nlu_rules import BARS  # noqa: E402
from bot.safeguarding import meaning  # noqa: E402

DEV_SETS = ("{lang}", "blind.{lang}", "blind2.{lang}")
EVAL_DIR = ROOT / "data" / "eval" / "safeguarding"


def _pct(num: int, den: int) -> str:
    return f"{100 * num / den:.1f} % ({num}/{den})" if den else "n/a"


def crossval(folds: int, seed: int) -> tuple[list[str], list[str]]:
    from sklearn.model_selection import StratifiedKFold

    examples = nlu_data.examples()
    texts = [e.text for e in examples]
    labels = [e.reader_label for e in examples]
    readings: list[meaning.Reading | None] = [None] * len(examples)
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    for train_idx, test_idx in splitter.split(texts, labels):
        reader = meaning.train([texts[i] for i in train_idx], [labels[i] for i in train_idx])
        for i, reading in zip(test_idx, reader.read([texts[i] for i in test_idx]), strict=True):
            readings[i] = reading
    lines = [f"Cross-validated disclosure reader, {folds} folds ({len(examples)} examples)", ""]
    lines += ["| | en | fr |", "|---|---|---|"]
    rows: dict[str, list[str]] = defaultdict(list)
    per_class: dict[str, dict[str, list[int]]] = defaultdict(lambda: defaultdict(lambda: [0, 0, 0]))
    for lang in ("en", "fr"):
        idx = [i for i, e in enumerate(examples) if e.lang == lang]
        disc = [i for i in idx if labels[i] in meaning.DISCLOSURE_CLASSES]
        none = [i for i in idx if labels[i] == meaning.NONE]
        for name, bar in (
            ("alone", BARS.reader_sure),
            ("with the intent's agreement", BARS.reader_with_intent),
            ("with the intent's agreement, in a story", BARS.reader_with_intent_in_play),
        ):
            caught = sum(readings[i].disclosure >= bar for i in disc)  # type: ignore[union-attr]
            alarms = sum(readings[i].disclosure >= bar for i in none)  # type: ignore[union-attr]
            rows[f"recall, {name} (bar {bar})"].append(_pct(caught, len(disc)))
            rows[f"false alarms, {name}"].append(_pct(alarms, len(none)))
        for i in disc:
            r = readings[i]
            assert r is not None
            counts = per_class[labels[i]][lang]
            counts[0] += 1
            counts[1] += r.disclosure >= BARS.reader_with_intent
            danger_read = r.danger >= BARS.danger_share * r.disclosure
            counts[2] += danger_read == (labels[i] in meaning.DANGER_CLASSES)
    for name, cells in rows.items():
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    lines += ["", "Per class (recall outside a story; level right):", ""]
    lines += ["| class | level | en recall | en level right | fr recall | fr level right |"]
    lines += ["|---|---|---|---|---|---|"]
    for cls in meaning.DISCLOSURE_CLASSES:
        level = "danger" if cls in meaning.DANGER_CLASSES else "concern"
        cells = []
        for lang in ("en", "fr"):
            n, caught, right = per_class[cls][lang]
            cells += [_pct(caught, n), _pct(right, n)]
        lines.append(f"| {cls} | {level} | " + " | ".join(cells) + " |")
    return lines, texts


def dev_sets() -> list[str]:
    examples = nlu_data.examples()
    reader = meaning.train(
        [e.text for e in examples],
        [e.reader_label for e in examples],
    )
    lines = ["", "Reader trained on all examples, on the development sets", ""]
    lines += ["| set | recall | false alarms | danger read as danger |", "|---|---|---|---|"]
    for lang in ("en", "fr"):
        for pattern in DEV_SETS:
            name = pattern.format(lang=lang)
            items = yaml.safe_load((EVAL_DIR / f"{name}.yml").read_text(encoding="utf-8"))["items"]
            items = [i for i in items if not i.get("ambiguous")]
            readings = reader.read([str(i["text"]) for i in items])
            tally: Counter = Counter()
            for item, r in zip(items, readings, strict=True):
                flagged = r.disclosure >= BARS.reader_with_intent
                if item["disclosure"]:
                    tally["disc"] += 1
                    tally["caught"] += flagged
                    if item.get("level") == "danger":
                        tally["danger"] += 1
                        tally["danger_right"] += flagged and (
                            r.danger >= BARS.danger_share * r.disclosure
                        )
                else:
                    tally["benign"] += 1
                    tally["alarms"] += flagged
            lines.append(
                f"| {name} | {_pct(tally['caught'], tally['disc'])} | "
                f"{_pct(tally['alarms'], tally['benign'])} | "
                f"{_pct(tally['danger_right'], tally['danger'])} |"
            )
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--dev", action="store_true", help="also read the development sets")
    parser.add_argument("--markdown", type=Path, help="also write the tables to this file")
    args = parser.parse_args(argv)
    started = time.monotonic()
    lines, _ = crossval(args.folds, args.seed)
    if args.dev:
        lines += dev_sets()
    lines += ["", f"({time.monotonic() - started:.0f} s; `{' '.join(['python', *sys.argv])}`)"]
    text = "\n".join(lines)
    print(text)
    if args.markdown:
        args.markdown.write_text(text + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
