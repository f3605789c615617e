"""Training texts that are too close to an evaluation text of the message checker.

    .venv/bin/python scripts/checker_leak_check.py [--limit 0.85] [FILE ...]

Compares every training text (default: every data/tactic_check/train.*.yml)
with every text of every evaluation set (held-out and blind sets, both
languages) by the cosine of their sentence embeddings (bot.semantic: a
translation lands close too) and by normalised equality. Prints each pair at or
above the limit and exits 1 if there is one. Used when new training data is
written, so that no evaluation text is learnt in other words or in the other
language (docs/checker.md).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot import semantic  # noqa: E402
from bot.checker.data import EVAL_SETS, read_examples, training_files  # noqa: E402
from bot.checker.model import training_text  # noqa: E402

LIMIT = 0.85


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--limit", type=float, default=LIMIT)
    parser.add_argument("files", nargs="*", type=Path)
    args = parser.parse_args(argv)
    train = [e for path in (args.files or training_files()) for e in read_examples(path)]
    evaluation = [
        (name, e)
        for name, folder in EVAL_SETS.items()
        for path in sorted(folder.glob("*.yml"))
        for e in read_examples(path)
    ]
    left = [training_text(e.text) for e in train]
    right = [training_text(e.text) for _, e in evaluation]
    similarity = semantic.embed(left) @ semantic.embed(right).T
    found = 0
    for i, row in enumerate(similarity):
        j = int(row.argmax())
        if row[j] >= args.limit or left[i] == right[j]:
            found += 1
            name, other = evaluation[j]
            print(f"{row[j]:.2f} [{name}/{other.lang}] {other.text!r}")
            print(f"     train: {train[i].text!r}")
    print(f"{found} of {len(train)} training texts at cosine >= {args.limit} to an evaluation text")
    return 1 if found else 0


if __name__ == "__main__":
    raise SystemExit(main())
