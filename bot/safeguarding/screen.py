"""The safety net: the second, pattern-based layer that spots a child telling
of a real-life problem (the first layer is the trained ``disclose_problem``
intent). Recall must never rest on one classifier alone.

The patterns are data, reviewed by a child-protection person, in
``data/safeguarding/patterns.yml``. They are read and compiled on the first
call to :func:`screen` (never at import time), then shared by every thread.

How a message is screened (details in docs/safeguarding.md):

1. The text is put in normal form (``bot.normalise.normalise``), then
   apostrophes are dropped and hyphens become spaces, so "j'ai" and "jai",
   "he'll" and "hell", "envoie-moi" and "envoie moi" read the same.
2. ``ignore`` spans are blanked out: idioms ("this game is killing me"),
   lesson questions ("what is sextortion?"), advice the child quotes ("never
   send pics to strangers"), story choices ("i wont send him a photo").
3. Each category's rules run on what is left. A rule matches unless one of
   its ``unless`` patterns also matches the (blanked) text.
4. Level: ``danger`` when a matching rule or its category says so (self-harm,
   someone at the door, someone coming to pick the child up, threats of
   violence), or when an escalating category (meeting, threat, sextortion...)
   comes with an immediacy marker ("tonight", "in 1 hour", "ce soir");
   otherwise ``concern``.
5. Personal: always for self-harm; otherwise when the text speaks of the
   child's real life (first person, "my friend", "for real") and is not
   framed as the story.

Nothing here logs or keeps the text.
"""

from __future__ import annotations

import functools
import re
import sre_constants as sc
import sre_parse
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from bot.normalise import normalise
from bot.paths import DATA_DIR

CATEGORIES: tuple[str, ...] = (
    "bribe",
    "pressure",
    "photo_request",
    "secrecy",
    "app_switch",
    "threat",
    "sextortion",
    "meeting",
    "abuse",
    "self_harm",
    "personal_info",
    "intruder",
)
LEVELS: tuple[str, ...] = ("concern", "danger")
PATTERN_LANGUAGES: tuple[str, ...] = ("en", "fr")
PATTERNS_FILE: Path = DATA_DIR / "safeguarding" / "patterns.yml"

# Longer texts are screened in overlapping windows of this many characters,
# so a pathological message cannot make one regex search expensive.
MAX_CHARS = 4000
_OVERLAP = 300

_PLACEHOLDER = re.compile(r"<([a-z][a-z0-9_]*)>")
_NON_WORD = re.compile(r"\W")
_GRAM = 3
_GATE_LIMIT = 600
_BLANK = " ; "
_SPACES = re.compile(r"\s+")
_MAX_EXPANSION_DEPTH = 8


class PatternError(ValueError):
    """patterns.yml is malformed or holds a pattern that does not compile."""


@dataclass(frozen=True)
class Screening:
    """What the safety net found in one message."""

    level: str | None
    personal: bool
    categories: tuple[str, ...]

    @property
    def flagged(self) -> bool:
        """True when the message needs a safeguarding reply."""
        return self.level is not None


NOTHING = Screening(level=None, personal=False, categories=())


@dataclass(frozen=True)
class Text:
    """A prepared message with its character trigrams (non-word chars as spaces)."""

    value: str
    spaced: str
    grams: frozenset[str]

    @classmethod
    def of(cls, value: str) -> Text:
        spaced = _NON_WORD.sub(" ", value)
        grams = frozenset(spaced[i : i + _GRAM] for i in range(len(spaced) - _GRAM + 1))
        return cls(value, spaced, grams)


@dataclass(frozen=True)
class Gate:
    """A cheap necessary condition for a pattern: the text must contain one of
    the strings a match can start with (derived from the compiled pattern)."""

    grams: frozenset[str]
    short: tuple[str, ...]

    def open(self, text: Text) -> bool:
        return not self.grams.isdisjoint(text.grams) or any(s in text.spaced for s in self.short)


@dataclass(frozen=True)
class Rule:
    """One pattern, cancelled when any of its ``unless`` patterns matches."""

    match: re.Pattern[str]
    unless: tuple[re.Pattern[str], ...] = ()
    danger: bool = False
    gate: Gate | None = None

    def hits(self, text: Text) -> bool:
        if self.gate is not None and not self.gate.open(text):
            return False
        return self.match.search(text.value) is not None and not any(
            u.search(text.value) for u in self.unless
        )


@dataclass(frozen=True)
class Category:
    name: str
    danger: bool
    escalate: bool
    rules: tuple[Rule, ...]


@dataclass(frozen=True)
class Net:
    """The compiled safety net (see module docstring for the steps)."""

    ignore: tuple[Rule, ...]
    categories: tuple[Category, ...]
    immediacy: re.Pattern[str]
    real_life: re.Pattern[str]
    story: re.Pattern[str]
    quotes: tuple[Rule, ...]
    personal: re.Pattern[str]

    def screen(self, text: str) -> Screening:
        if len(text) > MAX_CHARS:
            return _merge(self.screen(chunk) for chunk in _windows(text))
        # Blanking only removes text, so the gates of the original text stay
        # valid (a superset) for the blanked one.
        grams = Text.of(text).grams
        masked = _blank(self.ignore, Text.of(text))
        masked_text = Text(masked, _NON_WORD.sub(" ", masked), grams)
        found: list[str] = []
        danger = False
        escalating = False
        for cat in self.categories:
            hit = False
            for rule in cat.rules:
                if hit and (danger or not rule.danger):
                    continue
                if rule.hits(masked_text):
                    hit = True
                    danger = danger or rule.danger or cat.danger
            if hit:
                found.append(cat.name)
                escalating = escalating or cat.escalate
        if not found:
            return NOTHING
        if not danger and escalating and self.immediacy.search(masked):
            danger = True
        return Screening(
            level="danger" if danger else "concern",
            personal=self._personal(masked, found),
            categories=tuple(found),
        )

    def _personal(self, text: str, found: list[str]) -> bool:
        if "self_harm" in found or self.real_life.search(text):
            return True
        text = _blank(self.quotes, Text.of(text))
        if self.story.search(text):
            return False
        return self.personal.search(text) is not None


def prepare(text: str) -> str:
    """The form the patterns read: normal form, no apostrophes, no hyphens."""
    text = normalise(text).replace("'", "").replace("-", " ")
    return _SPACES.sub(" ", text).strip()


def screen(text: str) -> Screening:
    """Screen one free-text message for a real-life disclosure."""
    if not text or not text.strip():
        return NOTHING
    prepared = prepare(text)
    if not prepared:
        return NOTHING
    return _net().screen(prepared)


def _blank(rules: Iterable[Rule], text: Text) -> str:
    value = text.value
    for rule in rules:
        if rule.gate is not None and not rule.gate.open(text):
            continue
        if rule.unless and any(u.search(value) for u in rule.unless):
            continue
        value = rule.match.sub(_BLANK, value)
    return value


def _windows(text: str) -> Iterable[str]:
    step = MAX_CHARS - _OVERLAP
    for start in range(0, len(text), step):
        yield text[start : start + MAX_CHARS]
        if start + MAX_CHARS >= len(text):
            break


def _merge(results: Iterable[Screening]) -> Screening:
    level: str | None = None
    personal = False
    cats: set[str] = set()
    for r in results:
        if r.level == "danger" or (r.level == "concern" and level is None):
            level = r.level
        personal = personal or r.personal
        cats.update(r.categories)
    if level is None:
        return NOTHING
    return Screening(level, personal, tuple(c for c in CATEGORIES if c in cats))


# --------------------------------------------------------------------- loading

_lock = threading.Lock()


@functools.lru_cache(maxsize=1)
def _net() -> Net:
    with _lock:
        return load_net(PATTERNS_FILE)


def load_net(path: Path = PATTERNS_FILE) -> Net:
    """Read and compile a patterns file; raise PatternError if anything is off."""
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise PatternError(f"{path}: {exc}") from exc
    if not isinstance(raw, Mapping):
        raise PatternError(f"{path}: expected a mapping at the top")
    return _Compiler(raw, str(path)).net()


class _Compiler:
    """Turns the YAML structure into a :class:`Net`, expanding ``<name>``."""

    def __init__(self, raw: Mapping[str, Any], where: str) -> None:
        self.raw = raw
        self.where = where
        vocab = raw.get("vocabulary", {})
        if not isinstance(vocab, Mapping):
            raise self.error("vocabulary must be a mapping")
        self.vocab: dict[str, str] = {}
        for name, value in vocab.items():
            if not isinstance(name, str) or not _PLACEHOLDER.fullmatch(f"<{name}>"):
                raise self.error(f"bad vocabulary name {name!r}")
            if isinstance(value, str):
                self.vocab[name] = f"(?:{value})"
            elif isinstance(value, list) and value and all(isinstance(v, str) for v in value):
                self.vocab[name] = r"\b(?:" + "|".join(value) + r")\b"
            else:
                raise self.error(f"vocabulary {name}: a string or a list of strings")

    def error(self, message: str) -> PatternError:
        return PatternError(f"{self.where}: {message}")

    def expand(self, pattern: str) -> str:
        for _ in range(_MAX_EXPANSION_DEPTH):
            names = _PLACEHOLDER.findall(pattern)
            if not names:
                return pattern
            for name in names:
                if name not in self.vocab:
                    raise self.error(f"unknown <{name}> in {pattern!r}")
            pattern = _PLACEHOLDER.sub(lambda m: self.vocab[m.group(1)], pattern)
        raise self.error(f"<name> nested too deep in {pattern!r}")

    def compile(self, pattern: Any, context: str) -> re.Pattern[str]:
        if not isinstance(pattern, str) or not pattern.strip():
            raise self.error(f"{context}: a pattern must be a non-empty string")
        try:
            return re.compile(self.expand(pattern))
        except re.error as exc:
            raise self.error(f"{context}: {pattern!r} does not compile: {exc}") from exc

    def rules(self, entries: Any, context: str) -> tuple[Rule, ...]:
        if not isinstance(entries, list) or not entries:
            raise self.error(f"{context}: expected a non-empty list of rules")
        out: list[Rule] = []
        for i, entry in enumerate(entries):
            where = f"{context}[{i}]"
            if isinstance(entry, str):
                compiled = self.compile(entry, where)
                out.append(Rule(compiled, gate=gate_for(compiled)))
                continue
            if not isinstance(entry, Mapping) or "match" not in entry:
                raise self.error(f"{where}: a string or a mapping with 'match'")
            extra = set(entry) - {"match", "unless", "level"}
            if extra:
                raise self.error(f"{where}: unknown keys {sorted(extra)}")
            unless = entry.get("unless", [])
            if isinstance(unless, str):
                unless = [unless]
            level = entry.get("level", "concern")
            if level not in LEVELS:
                raise self.error(f"{where}: level must be one of {LEVELS}")
            compiled = self.compile(entry["match"], where)
            out.append(
                Rule(
                    compiled,
                    tuple(self.compile(u, f"{where}.unless") for u in unless),
                    danger=level == "danger",
                    gate=gate_for(compiled),
                )
            )
        return tuple(out)

    def by_language(self, section: Any, context: str) -> list[Any]:
        if not isinstance(section, Mapping):
            raise self.error(f"{context}: expected a mapping of languages")
        missing = [lang for lang in PATTERN_LANGUAGES if lang not in section]
        if missing:
            raise self.error(f"{context}: missing languages {missing}")
        entries: list[Any] = []
        for lang in PATTERN_LANGUAGES:
            entries.extend(section[lang] or [])
        return entries

    def alternation(self, name: str) -> re.Pattern[str]:
        entries = self.by_language(self.raw.get(name), name)
        if not entries:
            raise self.error(f"{name}: no patterns")
        for i, e in enumerate(entries):
            self.compile(e, f"{name}[{i}]")
        return self.compile("|".join(f"(?:{e})" for e in entries), name)

    def net(self) -> Net:
        cats_raw = self.raw.get("categories")
        if not isinstance(cats_raw, Mapping):
            raise self.error("categories must be a mapping")
        if set(cats_raw) != set(CATEGORIES):
            raise self.error(
                f"categories must be exactly {sorted(CATEGORIES)}, got {sorted(cats_raw)}"
            )
        categories: list[Category] = []
        for name in CATEGORIES:
            spec = cats_raw[name]
            if not isinstance(spec, Mapping):
                raise self.error(f"category {name}: expected a mapping")
            level = spec.get("level")
            if level not in LEVELS:
                raise self.error(f"category {name}: level must be one of {LEVELS}")
            rules: list[Rule] = []
            for lang in PATTERN_LANGUAGES:
                if lang not in spec:
                    raise self.error(f"category {name}: no '{lang}' rules")
                rules.extend(self.rules(spec[lang], f"{name}.{lang}"))
            categories.append(
                Category(name, level == "danger", bool(spec.get("escalate", False)), tuple(rules))
            )
        return Net(
            ignore=self.rules(self.by_language(self.raw.get("ignore"), "ignore"), "ignore"),
            categories=tuple(categories),
            immediacy=self.alternation("immediacy"),
            real_life=self.alternation("real_life"),
            story=self.alternation("story"),
            quotes=self.rules(self.by_language(self.raw.get("quotes"), "quotes"), "quotes"),
            personal=self.alternation("personal"),
        )


def gate_for(pattern: re.Pattern[str]) -> Gate | None:
    """The strings (up to 3 characters) a match of ``pattern`` can start with,
    non-word characters written as spaces; None when they cannot be listed
    (the pattern may start anywhere, or there are too many)."""
    found: set[str] = set()
    try:
        parsed = sre_parse.parse(pattern.pattern, pattern.flags)
    except re.error:
        return None
    if not _walk([(list(parsed.data), 0)], "", found) or not found or "" in found:
        return None
    grams = frozenset(g for g in found if len(g) == _GRAM)
    return Gate(grams, tuple(sorted(g for g in found if len(g) < _GRAM)))


_Frame = tuple[list[Any], int]


def _walk(stack: list[_Frame], cur: str, out: set[str]) -> bool:
    """Collect in ``out`` every start of a match; False when there are too many."""
    if len(out) > _GATE_LIMIT:
        return False
    if len(cur) >= _GRAM:
        out.add(cur[:_GRAM])
        return True
    while stack and stack[-1][1] >= len(stack[-1][0]):
        stack = stack[:-1]
    if not stack:
        out.add(cur)
        return True
    ops, i = stack[-1]
    rest = [*stack[:-1], (ops, i + 1)]
    op, av = ops[i]
    if op is sc.LITERAL:
        return _walk(rest, cur + _gram_char(chr(av)), out)
    if op in (sc.AT, sc.ASSERT, sc.ASSERT_NOT):
        return _walk(rest, cur, out)
    if op is sc.IN:
        chars = _charset(av)
        if chars is None:
            out.add(cur)
            return True
        return all(_walk(rest, cur + c, out) for c in chars)
    if op is sc.SUBPATTERN:
        return _walk([*rest, (list(av[-1].data), 0)], cur, out)
    if op is sc.BRANCH:
        return all(_walk([*rest, (list(alt.data), 0)], cur, out) for alt in av[1])
    if op in (sc.MAX_REPEAT, sc.MIN_REPEAT):
        low, high, item = av
        return all(
            _walk(rest + [(list(item.data), 0)] * k, cur, out)
            for k in range(low, min(high, low + _GRAM) + 1)
        )
    out.add(cur)
    return True


def _gram_char(c: str) -> str:
    return " " if _NON_WORD.match(c) else c


def _charset(items: list[Any]) -> set[str] | None:
    chars: set[str] = set()
    for op, av in items:
        if op is sc.LITERAL:
            chars.add(_gram_char(chr(av)))
        elif op is sc.RANGE and av[1] - av[0] < 12:
            chars.update(_gram_char(chr(c)) for c in range(av[0], av[1] + 1))
        elif op is sc.CATEGORY and av in (sc.CATEGORY_NOT_WORD, sc.CATEGORY_SPACE):
            chars.add(" ")
        elif op is sc.CATEGORY and av is sc.CATEGORY_DIGIT:
            chars.update("0123456789")
        else:
            return None
    return chars


def examples(path: Path = PATTERNS_FILE) -> dict[str, dict[str, list[str]]]:
    """The reviewer examples of patterns.yml: ``{category: {lang: [text]}}``."""
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    out: dict[str, dict[str, list[str]]] = {}
    for name, spec in raw["categories"].items():
        out[name] = {lang: list(v) for lang, v in (spec.get("examples") or {}).items()}
    return out
