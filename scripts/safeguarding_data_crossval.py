"""Cross-validate the disclosure reader per training file, to weigh a change of NLU data.

Usage (from the project root, or from a checkout of another commit to compare)::

    .venv/bin/python scripts/safeguarding_data_crossval.py [--folds 5] [--seed 0]

The same folds as ``scripts/safeguarding_crossval.py`` (stratified on the
reader's labels, both languages together). Two tables:

1. per language and bar of the reader's disclosure probability: recall on all
   disclosures and on the sentences of ``disclose_problem.yml`` alone, false
   alarms on the everyday intents that were there before the safeguarding
   data of issue 15 (share_everyday, choose_action, ask_help, out_of_scope)
   and on the look-alike files added with it, and the danger classes read as
   danger (the reader's ``announce`` pieces count in neither). The
   ``disclose_problem.yml`` and older-everyday rows are the same
   sentences in any commit, so they compare two versions of the data at equal
   false alarms;
2. per file, at the reader's bar (``bot.nlu_rules.READER_ALONE``): how many of
   its sentences the held-out reader reads as disclosures.

Reads only ``data/nlu``; about 7 minutes on 2 busy cores.
"""

from __future__ import annotations

import argparse
import sys
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bot import nlu_data  # noqa: E402
from bot.nlu_rules import READER_ALONE, READER_DANGER_SHARE  # noqa: E402
from bot.safeguarding import meaning  # noqa: E402

BARS = (0.5, 0.6, 0.7, 0.8, 0.9)
OLDER_EVERYDAY = ("share_everyday", "choose_action", "ask_help", "out_of_scope")
LOOKALIKES = (
    "share_everyday_lookalikes",
    "share_everyday_lookalikes2",
    "choose_action_lookalikes",
    "ask_help_safety_questions",
)


def _pct(num: int, den: int) -> str:
    return f"{100 * num / den:.1f} % ({num}/{den})" if den else "n/a"


def held_out_readings(folds: int, seed: int):
    from sklearn.model_selection import StratifiedKFold

    rows = []  # (lang, file stem, label)
    texts = []
    for lang in ("en", "fr"):
        for path in sorted((nlu_data.NLU_DIR / lang).glob("*.yml")):
            for example in nlu_data.read_file(path, lang):
                rows.append((lang, path.stem, example.reader_label))
                texts.append(example.text)
    labels = [row[2] for row in rows]
    readings: list = [None] * len(rows)
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    for train_idx, test_idx in splitter.split(texts, labels):
        reader = meaning.train([texts[i] for i in train_idx], [labels[i] for i in train_idx])
        for i, reading in zip(test_idx, reader.read([texts[i] for i in test_idx]), strict=True):
            readings[i] = reading
    return rows, readings


def tables(rows, readings) -> list[str]:
    lines = ["| bar | lang | recall, all | recall, disclose_problem.yml | false alarms, "
             "older everyday | false alarms, look-alikes | danger read as danger |"]  # fmt: skip
    lines.append("|---|---|---|---|---|---|---|")
    for bar in BARS:
        for lang in ("en", "fr"):
            tally: dict[str, list[int]] = defaultdict(lambda: [0, 0])
            for (row_lang, stem, label), reading in zip(rows, readings, strict=True):
                if row_lang != lang:
                    continue
                flagged = reading.disclosure >= bar
                if label in meaning.DISCLOSURE_CLASSES:
                    keys = ["all"] + (["old"] if stem == "disclose_problem" else [])
                    if label in meaning.DANGER_CLASSES:
                        as_danger = reading.danger >= READER_DANGER_SHARE * reading.disclosure
                        tally["danger"][0] += 1
                        tally["danger"][1] += flagged and as_danger
                elif label == meaning.NONE and stem in OLDER_EVERYDAY + LOOKALIKES:
                    keys = ["older" if stem in OLDER_EVERYDAY else "lookalikes"]
                else:
                    continue
                for key in keys:
                    tally[key][0] += 1
                    tally[key][1] += flagged
            cells = [_pct(tally[k][1], tally[k][0]) for k in ("all", "old", "older", "lookalikes")]
            cells.append(_pct(tally["danger"][1], tally["danger"][0]))
            lines.append(f"| {bar} | {lang} | " + " | ".join(cells) + " |")
    lines += ["", f"Per file, read as a disclosure at the reader's bar ({READER_ALONE}):", ""]
    lines += ["| file | en | fr |", "|---|---|---|"]
    per_file: dict[str, dict[str, list[int]]] = defaultdict(lambda: defaultdict(lambda: [0, 0]))
    for (lang, stem, label), reading in zip(rows, readings, strict=True):
        if label != meaning.MENTION:
            per_file[stem][lang][0] += 1
            per_file[stem][lang][1] += reading.disclosure >= READER_ALONE
    for stem in sorted(per_file):
        cells = [_pct(per_file[stem][lang][1], per_file[stem][lang][0]) for lang in ("en", "fr")]
        lines.append(f"| {stem} | " + " | ".join(cells) + " |")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    rows, readings = held_out_readings(args.folds, args.seed)
    print("\n".join(tables(rows, readings)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
