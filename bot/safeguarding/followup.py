"""Reading what a child says after a disclosure, and their safety questions.

Two small readers over reviewed patterns (data, like the safety net):

- :func:`kinds`: what a message in the conversation after a disclosure says
  ("I'm scared", "what if he finds out", "I don't want to tell", "it's my
  fault"...), from ``data/support/followups.yml``, so that the support
  handler answers it with the right reassurance;
- :func:`faq_topic`: which question of the small FAQ a message asks ("c'est
  quoi le grooming ?", "how do i block someone"), from ``data/support/faq.yml``.

Both read the normal form of the text (``bot.normalise``) with apostrophes
dropped and hyphens as spaces, and both languages' patterns run on every
message. Patterns are compiled on first use (never at import time); nothing
here logs or keeps the text.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import yaml

from bot.normalise import normalise
from bot.paths import DATA_DIR

FOLLOWUPS_FILE = DATA_DIR / "support" / "followups.yml"
FAQ_FILE = DATA_DIR / "support" / "faq.yml"
LANGUAGES = ("en", "fr")


def prepare(text: str) -> str:
    """Normal form, apostrophes dropped, hyphens as spaces ("qu'il" -> "quil")."""
    return normalise(text).replace("'", "").replace("-", " ")


@dataclass(frozen=True)
class Kind:
    name: str
    patterns: re.Pattern[str]
    unless: re.Pattern[str] | None


def _alternation(entries: list[str], where: str) -> re.Pattern[str]:
    for entry in entries:
        try:
            re.compile(entry)
        except re.error as error:
            raise ValueError(f"{where}: bad pattern {entry!r}: {error}") from None
    return re.compile("|".join(f"(?:{e})" for e in entries))


def _by_language(spec: Mapping[str, Any], where: str) -> list[str]:
    entries: list[str] = []
    for lang in LANGUAGES:
        values = spec.get(lang)
        if not isinstance(values, list) or not values:
            raise ValueError(f"{where}: no '{lang}' patterns")
        entries.extend(str(v) for v in values)
    return entries


@functools.lru_cache(maxsize=1)
def _kinds() -> tuple[Kind, ...]:
    raw = yaml.safe_load(FOLLOWUPS_FILE.read_text(encoding="utf-8"))
    out = []
    for name, spec in raw["kinds"].items():
        unless = spec.get("unless")
        out.append(
            Kind(
                name=name,
                patterns=_alternation(_by_language(spec, name), name),
                unless=_alternation([str(u) for u in unless], f"{name}.unless") if unless else None,
            )
        )
    return tuple(out)


@functools.lru_cache(maxsize=1)
def _faq() -> tuple[re.Pattern[str], tuple[tuple[str, re.Pattern[str]], ...]]:
    raw = yaml.safe_load(FAQ_FILE.read_text(encoding="utf-8"))
    question = _alternation(_by_language(raw["question"], "question"), "question")
    topics = tuple(
        (name, _alternation(_by_language(spec, name), name)) for name, spec in raw["topics"].items()
    )
    return question, topics


def kind_names() -> tuple[str, ...]:
    return tuple(kind.name for kind in _kinds())


def faq_topics() -> tuple[str, ...]:
    return tuple(name for name, _ in _faq()[1])


def kinds(text: str) -> tuple[str, ...]:
    """What the message says, in the order the reassurances are given."""
    prepared = prepare(text)
    found = []
    for kind in _kinds():
        if kind.patterns.search(prepared) and not (kind.unless and kind.unless.search(prepared)):
            found.append(kind.name)
    return tuple(found)


def is_question(text: str) -> bool:
    question, _ = _faq()
    return "?" in text or bool(question.search(prepare(text)))


def faq_topic(text: str, *, asked: bool = False) -> str | None:
    """The FAQ topic the message asks about, if it is a question (or ``asked``:
    the trained intent says it is one)."""
    if not (asked or is_question(text)):
        return None
    prepared = prepare(text)
    for name, pattern in _faq()[1]:
        if pattern.search(prepared):
            return name
    return None


def warm_up() -> None:
    _kinds()
    _faq()
