"""Labelled examples for the message checker and the fingerprint of its inputs.

Training files: ``data/tactic_check/train.*<lang>.yml``; evaluation files
(never trained on): ``data/eval/tactic_check/<lang>.yml`` (held out) and
``data/eval/tactic_check_blind/<lang>.yml`` (the blind set of issue 18). All
hold groups of texts that share one exact set of tactics (``[]`` for harmless messages)::

    lang: en
    groups:
      - tactics: [bribe, secrecy]
        texts:
          - "free skins for you but shh"
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import yaml

from bot.paths import DATA_DIR
from bot.tactics import TACTICS, is_tactic

TRAIN_DIR = DATA_DIR / "tactic_check"
EVAL_DIR = DATA_DIR / "eval" / "tactic_check"
# The blind set of issue 18, written before the semantic layer and measured
# before and after; never trained or tuned on (docs/checker.md).
BLIND_DIR = DATA_DIR / "eval" / "tactic_check_blind"
# A second blind set, written after the first was measured, before a second round.
BLIND2_DIR = DATA_DIR / "eval" / "tactic_check_blind2"
# A third, written by another engineer after the first two were measured, before round 3.
BLIND3_DIR = DATA_DIR / "eval" / "tactic_check_blind3"
# A fourth, written by another engineer after the third was measured, before round 4.
BLIND4_DIR = DATA_DIR / "eval" / "tactic_check_blind4"
# A fifth, written by another engineer after the fourth was measured, before round 5.
BLIND5_DIR = DATA_DIR / "eval" / "tactic_check_blind5"
# A sixth, written by another engineer after the fifth was measured, before round 6.
BLIND6_DIR = DATA_DIR / "eval" / "tactic_check_blind6"
EVAL_SETS = {
    "held-out": EVAL_DIR,
    "blind": BLIND_DIR,
    "blind2": BLIND2_DIR,
    "blind3": BLIND3_DIR,
    "blind4": BLIND4_DIR,
    "blind5": BLIND5_DIR,
    "blind6": BLIND6_DIR,
}
CUES_FILE = "cues.yml"
SPELLING_FILE = "spelling.yml"


@dataclass(frozen=True)
class Example:
    text: str
    tactics: tuple[str, ...]
    lang: str


def read_examples(path: Path) -> list[Example]:
    """The examples of one file, with tactics in ``TACTICS`` order."""
    raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    lang = raw.get("lang")
    if not isinstance(lang, str):
        raise ValueError(f"{path}: needs a 'lang'")
    examples: list[Example] = []
    for number, group in enumerate(raw.get("groups") or [], start=1):
        tactics = group.get("tactics")
        if not isinstance(tactics, list) or not all(is_tactic(t) for t in tactics):
            raise ValueError(f"{path}: group {number} has unknown tactics {tactics!r}")
        ordered = tuple(t for t in TACTICS if t in tactics)
        for text in group.get("texts") or []:
            if not isinstance(text, str) or not text.strip():
                raise ValueError(f"{path}: group {number} has an empty or non-text entry")
            examples.append(Example(text.strip("\n"), ordered, lang))
    return examples


def training_files(data_dir: Path = TRAIN_DIR) -> list[Path]:
    return sorted(data_dir.glob("train.*.yml"))


def training_examples(data_dir: Path = TRAIN_DIR) -> list[Example]:
    examples: list[Example] = []
    for path in training_files(data_dir):
        examples.extend(read_examples(path))
    if not examples:
        raise FileNotFoundError(f"no training data in {data_dir}")
    return examples


def eval_examples(eval_dir: Path = EVAL_DIR) -> dict[str, list[Example]]:
    """``{lang: examples}`` of the held-out evaluation set."""
    table: dict[str, list[Example]] = {}
    for path in sorted(eval_dir.glob("*.yml")):
        examples = read_examples(path)
        table.setdefault(examples[0].lang if examples else path.stem, []).extend(examples)
    return table


def fingerprint(data_dir: Path = TRAIN_DIR, *, extra: str = "") -> str:
    """SHA-256 over every file of the training data directory (examples, cues,
    spelling variants) and ``extra`` (code version)."""
    digest = hashlib.sha256(extra.encode("utf-8"))
    for path in sorted(data_dir.glob("*.yml")):
        if path.exists():
            digest.update(path.name.encode("utf-8") + b"\0")
            digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()
