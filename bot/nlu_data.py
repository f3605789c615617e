"""The NLU training examples, read without Rasa (``data/nlu/<lang>/*.yml``).

For measurement scripts and models of our own that learn from the same data
as Rasa's classifier (the disclosure reader, cross-validation). Rasa reads the
same files itself when it trains.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from bot.paths import DATA_DIR

NLU_DIR = DATA_DIR / "nlu"
# ``[words](entity)`` / ``[words]{"entity": ...}`` annotations inside an example.
_ANNOTATION = re.compile(r"\[([^\]]*)\](?:\([^)]*\)|\{[^}]*\})")


@dataclass(frozen=True)
class NluExample:
    text: str
    intent: str
    lang: str
    # the intent block's ``metadata`` (e.g. ``{"category": "sextortion"}``)
    metadata: tuple[tuple[str, str], ...] = ()

    def meta(self, key: str) -> str | None:
        return dict(self.metadata).get(key)

    @property
    def reader_label(self) -> str:
        """The disclosure reader's class for this example."""
        from bot.safeguarding.meaning import label

        return label(
            self.intent,
            self.meta("category"),
            self.text,
            announce=str(self.meta("announce")).lower() == "true",
        )


def plain_text(example: str) -> str:
    return _ANNOTATION.sub(r"\1", example).strip()


def _examples(block: dict[str, Any]) -> list[str]:
    raw = block.get("examples")
    if isinstance(raw, str):
        lines = [line.strip() for line in raw.splitlines()]
        return [plain_text(line[2:]) for line in lines if line.startswith("- ")]
    if isinstance(raw, list):  # examples with their own metadata: [{text: ...}]
        return [plain_text(str(item.get("text", ""))) for item in raw if isinstance(item, dict)]
    return []


def read_file(path: Path, lang: str) -> list[NluExample]:
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    out = []
    for block in data.get("nlu") or []:
        if not isinstance(block, dict) or "intent" not in block:
            continue
        meta = block.get("metadata") or {}
        metadata = tuple(sorted((str(k), str(v)) for k, v in meta.items()))
        for text in _examples(block):
            if text:
                out.append(NluExample(text, str(block["intent"]), lang, metadata))
    return out


def examples(
    nlu_dir: Path = NLU_DIR, languages: tuple[str, ...] = ("en", "fr")
) -> list[NluExample]:
    """Every example of every language, in a stable order."""
    out: list[NluExample] = []
    for lang in languages:
        for path in sorted((nlu_dir / lang).glob("*.yml")):
            out += read_file(path, lang)
    return out
