"""Cross-validated figures of the message checker, per language, on the training data only.

    .venv/bin/python scripts/checker_crossval.py [--cost 4] [--save F.npz] [--load F.npz]
    .venv/bin/python scripts/checker_crossval.py --set SEMANTIC_WEIGHT=1.5 --set C=5

Runs the same 5-fold cross-validation as training (``bot.checker.model.build``:
folds keep translations and near-duplicates together, spelling variants from the
training folds only, lines, gate and cues), chooses the thresholds as training
does (optionally with another ``HARMLESS_COST``) and prints, per language,
F1 per tactic, macro-F1 and the share of harmless training messages flagged.
Thresholds are chosen and measured on the same out-of-fold scores, as in
``model.json``. No evaluation set is read.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np  # noqa: E402

from bot.checker import model as m  # noqa: E402
from bot.checker.cues import load_cues  # noqa: E402
from bot.checker.data import CUES_FILE, TRAIN_DIR, training_examples  # noqa: E402
from bot.tactics import TACTICS  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--cost", type=float, action="append", default=[])
    parser.add_argument("--save", type=Path)
    parser.add_argument("--load", type=Path)
    parser.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="override a numeric setting of bot.checker.model for this run",
    )
    args = parser.parse_args(argv)
    for item in args.set:
        name, value = item.split("=", 1)
        if not hasattr(m, name):
            parser.error(f"bot.checker.model has no setting {name}")
        setattr(m, name, type(getattr(m, name))(value))
        print(f"{name} = {getattr(m, name)}")
    examples = training_examples(TRAIN_DIR)
    truth = m._labels(examples).astype(bool)
    langs = np.array([e.lang for e in examples])
    if args.load:
        saved = np.load(args.load)
        scores, cue_hits = saved["scores"], saved["cue_hits"]
    else:
        cues = load_cues(TRAIN_DIR / CUES_FILE)
        variants = m.spelling_variants(TRAIN_DIR)
        embed = m.CachedEmbedder()
        embed.add([m.training_text(e.text) for e in m.augment(examples, variants)])
        embed.add([u for e in examples for _, u in m.units(e.text)])
        scores, cue_hits = m.cross_validate(examples, cues, variants, embed)
        if args.save:
            np.savez(args.save, scores=scores, cue_hits=cue_hits)
    for cost in args.cost or [m.HARMLESS_COST]:
        m.HARMLESS_COST = cost
        thresholds, _ = m.choose_thresholds(truth, scores, cue_hits)
        limits = np.array([thresholds[t] for t in TACTICS])
        predicted = (scores >= limits) | cue_hits
        print(f"HARMLESS_COST {cost}: thresholds {thresholds}")
        for lang in sorted(set(langs)):
            rows = langs == lang
            t, p = truth[rows], predicted[rows]
            f1 = {k: m._f1(t[:, i], p[:, i]) for i, k in enumerate(TACTICS)}
            harmless = ~t.any(axis=1)
            flagged = p[harmless].any(axis=1)
            print(
                f"  [{lang}] {rows.sum()} examples  macro-F1 {np.mean(list(f1.values())):.3f}  "
                f"harmless flagged {flagged.sum()}/{harmless.sum()} = {flagged.mean():.1%}"
            )
            print("    " + "  ".join(f"{k} {v:.3f}" for k, v in f1.items()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
