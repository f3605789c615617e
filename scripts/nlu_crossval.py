"""Cross-validated intent F1 per language for the ONE bilingual model.

Both languages are trained together, as in production; each fold holds out a
stratified fifth of every intent, and the held-out English and French examples
are scored separately. Writes docs/nlu-crossval.md.

    .venv/bin/python scripts/nlu_crossval.py [--folds 5]

About 1.5 minutes per fold on 2 cores.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("RASA_TELEMETRY_ENABLED", "false")


def load_examples() -> list[tuple[str, str, str]]:
    """(text, intent, lang) for every training example."""
    items = []
    for lang in ("en", "fr"):
        for path in sorted((ROOT / "data" / "nlu" / lang).glob("*.yml")):
            data = yaml.safe_load(path.read_text(encoding="utf-8"))
            for block in data.get("nlu", []):
                if "intent" not in block:
                    continue
                for line in block["examples"].splitlines():
                    line = line.strip()
                    if line.startswith("- "):
                        items.append((line[2:].strip(), block["intent"], lang))
    return items


def folds(items, k: int, seed: int = 7):
    by_key = defaultdict(list)
    for item in items:
        by_key[(item[1], item[2])].append(item)
    assignment = defaultdict(list)
    rng = random.Random(seed)
    for group in by_key.values():
        rng.shuffle(group)
        for i, item in enumerate(group):
            assignment[i % k].append(item)
    return [assignment[i] for i in range(k)]


def write_nlu(items, path: Path) -> None:
    by_intent = defaultdict(list)
    for text, intent, _ in items:
        by_intent[intent].append(text)
    blocks = [
        {"intent": intent, "examples": "".join(f"- {t}\n" for t in texts)}
        for intent, texts in sorted(by_intent.items())
    ]
    path.write_text(
        yaml.safe_dump({"version": "3.1", "nlu": blocks}, allow_unicode=True), encoding="utf-8"
    )


def macro_f1(pairs: list[tuple[str, str]]) -> tuple[float, float]:
    labels = sorted({t for t, _ in pairs})
    scores = []
    for label in labels:
        tp = sum(1 for t, p in pairs if t == label and p == label)
        fp = sum(1 for t, p in pairs if t != label and p == label)
        fn = sum(1 for t, p in pairs if t == label and p != label)
        precision = tp / (tp + fp) if tp + fp else 0.0
        recall = tp / (tp + fn) if tp + fn else 0.0
        scores.append(2 * precision * recall / (precision + recall) if precision + recall else 0.0)
    accuracy = sum(1 for t, p in pairs if t == p) / len(pairs)
    return sum(scores) / len(scores), accuracy


async def predict(model_path: str, items):
    from rasa.core.agent import Agent

    agent = Agent.load(model_path)
    out = []
    for text, intent, lang in items:
        parsed = await agent.parse_message(text)
        out.append((intent, parsed["intent"]["name"], lang))
    return out


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "nlu-crossval.md")
    parser.add_argument("--config", default="config.yml")
    parser.add_argument("--only-folds", type=int, default=None, help="stop after N folds")
    args = parser.parse_args()
    from rasa.model_training import train_nlu

    os.chdir(ROOT)
    items = load_examples()
    parts = folds(items, args.folds)
    results = []
    started = time.monotonic()
    for i, test in enumerate(parts):
        if args.only_folds is not None and i >= args.only_folds:
            break
        train = [item for j, part in enumerate(parts) if j != i for item in part]
        with tempfile.TemporaryDirectory() as tmp:
            data = Path(tmp) / "nlu.yml"
            write_nlu(train, data)
            model = train_nlu(args.config, str(data), tmp, fixed_model_name=f"fold{i}")
            assert model, "training failed"
            results += asyncio.run(predict(model, test))
        print(f"fold {i + 1}/{args.folds} done ({time.monotonic() - started:.0f} s)", flush=True)

    lines = [
        "# Cross-validated intent F1, per language",
        "",
        f"One model for both languages; {args.folds}-fold cross-validation stratified by intent "
        f"and language over the {len(items)} training examples of `data/nlu/`; held-out "
        "examples scored per language. The predicted intent is the pipeline's final one "
        "(including the fallback classifier and Lumi's annotator: safe words, language "
        "requests and the safety net).",
        "",
        "Command: `.venv/bin/python scripts/nlu_crossval.py --folds "
        f"{args.folds}` ({time.monotonic() - started:.0f} s on 2 cores).",
        "",
        "| language | examples | macro-F1 | accuracy |",
        "|---|---|---|---|",
    ]
    for lang in ("en", "fr"):
        pairs = [(t, p) for t, p, lg in results if lg == lang]
        f1, acc = macro_f1(pairs)
        lines.append(f"| {lang} | {len(pairs)} | {f1:.3f} | {acc:.3f} |")
    lines += ["", "Per intent (F1):", "", "| intent | en | fr |", "|---|---|---|"]
    for intent in sorted({t for t, _, _ in results}):
        row = [intent]
        for lang in ("en", "fr"):
            pairs = [(t, p) for t, p, lg in results if lg == lang]
            tp = sum(1 for t, p in pairs if t == intent and p == intent)
            fp = sum(1 for t, p in pairs if t != intent and p == intent)
            fn = sum(1 for t, p in pairs if t == intent and p != intent)
            f1 = 2 * tp / (2 * tp + fp + fn) if tp + fp + fn else 0.0
            row.append(f"{f1:.2f}")
        lines.append("| " + " | ".join(row) + " |")
    confusions = defaultdict(int)
    for t, p, lg in results:
        if t != p:
            confusions[(lg, t, p)] += 1
    lines += ["", "Most frequent confusions:", "", "| lang | true | predicted | count |"]
    lines.append("|---|---|---|---|")
    for (lg, t, p), n in sorted(confusions.items(), key=lambda kv: -kv[1])[:15]:
        lines.append(f"| {lg} | {t} | {p} | {n} |")
    args.out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
