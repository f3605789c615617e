"""The safety net: the second, pattern-based layer that spots a child telling
of a real-life problem (the first layer is the trained ``disclose_problem``
intent), so that recall never rests on one classifier alone.

The patterns are data, reviewed by a child-protection person, in
``data/safeguarding/patterns.yml``. They are read and compiled on the first
call to :func:`screen` (never at import time), then shared by every thread.

How a message is screened (details in docs/safeguarding.md):

1. The text is put in normal form (``bot.normalise.normalise``), then
   apostrophes are dropped and hyphens become spaces, so "j'ai" and "jai",
   "he'll" and "hell", "envoie-moi" and "envoie moi" read the same.
2. ``ignore`` spans are blanked out: idioms ("this game is killing me"),
   lesson questions ("what is sextortion?"), advice the child repeats ("never
   send pics to strangers"), story choices ("i wont send him a photo"). When
   they leave at most a few words and nothing is flagged, the message is
   ``harmless`` (``bot.nlu_rules`` then sets the classifier's alarm aside).
3. Each category's rules run on what is left. A rule counts unless one of its
   ``unless`` patterns also matches the (blanked) text.
4. Level: ``danger`` when a matching rule or its category says so (self-harm,
   someone at the door, someone coming to pick the child up, threats of
   violence), or when an escalating category (meeting, threat, sextortion...)
   comes with an immediacy marker ("tonight", "in 1 hour", "ce soir");
   otherwise ``concern``.
5. Personal: always for self-harm; otherwise when the text speaks of the
   child's real life (first person, "my friend", "for real") and is not
   framed as the story.

Speed: every rule gets a *gate*, derived from its compiled regex: the
strings of up to three characters a match can start with. An index from
those strings to rules tells, in one pass over the message's trigrams, which
few rules can possibly match; only those are run. The gate is a necessary
condition, so it never changes a result (the unit tests check this).

Nothing here logs or keeps the text.
"""

from __future__ import annotations

import re
import sre_constants as sc
import sre_parse
import threading
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
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

# Longer texts are screened in overlapping windows of this many characters.
MAX_CHARS = 4000
_OVERLAP = 300

_PLACEHOLDER = re.compile(r"<([a-z][a-z0-9_]*)>")
_NON_WORD = re.compile(r"\W")
_WORD = re.compile(r"\w+")
# At most this many words outside the ignore spans for a message to count as
# harmless (e.g. "you should" left of "never send pics to strangers").
_HARMLESS_LEFTOVER_WORDS = 3
_DIGIT = re.compile(r"\d")
_SPACES = re.compile(r"\s+")
_BLANK = " ; "
_GRAM = 3
_GATE_LIMIT = 600
_MAX_EXPANSION_DEPTH = 8
_CATEGORY_KEYS = frozenset({"level", "escalate", "examples", *PATTERN_LANGUAGES})


class PatternError(ValueError):
    """patterns.yml is malformed or holds a pattern that does not compile."""


@dataclass(frozen=True)
class Screening:
    """What the safety net found in one message."""

    level: str | None
    personal: bool
    categories: tuple[str, ...]
    # Not flagged, and the ``ignore`` patterns account for (nearly) the whole
    # message: a lesson question, advice the child repeats, an idiom, an
    # answer inside a story. A positive sign the text is harmless, which
    # bot.nlu_rules weighs against the trained classifier. Not compared, so
    # ``screen(text) == NOTHING`` still means "nothing found".
    harmless: bool = field(default=False, compare=False)

    @property
    def flagged(self) -> bool:
        """True when the message needs a safeguarding reply."""
        return self.level is not None


NOTHING = Screening(level=None, personal=False, categories=())
HARMLESS = Screening(level=None, personal=False, categories=(), harmless=True)


# ------------------------------------------------------------------- matching


@dataclass(frozen=True)
class Text:
    """A prepared message, with the trigrams its gates are checked against."""

    value: str
    spaced: str  # non-word characters as spaces, digits as "0"
    grams: frozenset[str]

    @classmethod
    def of(cls, value: str) -> Text:
        spaced = _DIGIT.sub("0", _NON_WORD.sub(" ", value))
        grams = frozenset(spaced[i : i + _GRAM] for i in range(len(spaced) - _GRAM + 1))
        return cls(value, spaced, grams)


@dataclass(frozen=True)
class Gate:
    """Strings one of which a match must contain: full trigrams, and shorter
    ones (where the next character cannot be listed)."""

    grams: frozenset[str]
    short: tuple[str, ...]

    def open(self, text: Text) -> bool:
        return not self.grams.isdisjoint(text.grams) or any(s in text.spaced for s in self.short)


@dataclass(frozen=True)
class Rule:
    """One pattern, cancelled when any of its ``unless`` patterns matches."""

    key: int
    match: re.Pattern[str]
    unless: tuple[re.Pattern[str], ...] = ()
    danger: bool = False
    gates: tuple[Gate, ...] = ()  # the first is indexed, the others checked after

    @property
    def gate(self) -> Gate | None:
        return self.gates[0] if self.gates else None

    def hits(self, text: Text) -> bool:
        if not all(g.open(text) for g in self.gates[1:]):
            return False
        value = text.value
        return self.match.search(value) is not None and not any(
            u.search(value) for u in self.unless
        )


@dataclass(frozen=True)
class Category:
    name: str
    danger: bool
    escalate: bool
    rules: tuple[Rule, ...]


@dataclass
class _Index:
    """From a trigram (or a shorter start) to the rules it may open."""

    by_gram: dict[str, list[int]] = field(default_factory=dict)
    shorts: dict[str, list[int]] = field(default_factory=dict)
    always: set[int] = field(default_factory=set)

    def add(self, rule: Rule) -> None:
        if rule.gate is None:
            self.always.add(rule.key)
            return
        for g in rule.gate.grams:
            self.by_gram.setdefault(g, []).append(rule.key)
        for short in rule.gate.short:
            self.shorts.setdefault(short, []).append(rule.key)

    def open(self, text: Text) -> set[int]:
        keys = set(self.always)
        get = self.by_gram.get
        for g in text.grams:
            found = get(g)
            if found:
                keys.update(found)
        for s, found in self.shorts.items():
            if s in text.spaced:
                keys.update(found)
        return keys


@dataclass(frozen=True)
class Net:
    """The compiled safety net (see the module docstring for the steps)."""

    ignore: tuple[Rule, ...]
    categories: tuple[Category, ...]
    quotes: tuple[Rule, ...]
    immediacy: re.Pattern[str]
    real_life: re.Pattern[str]
    story: re.Pattern[str]
    personal: re.Pattern[str]
    index: _Index
    gated: bool = True

    def screen(self, prepared: str) -> Screening:
        """Screen a message already passed through :func:`prepare`."""
        if len(prepared) > MAX_CHARS:
            return _merge(self.screen(chunk) for chunk in _windows(prepared))
        text = self._blank(self.ignore, Text.of(prepared))
        keys = self._open(text)
        found: list[str] = []
        danger = False
        escalating = False
        for cat in self.categories:
            hit = False
            for rule in cat.rules:
                if hit and (danger or not rule.danger):
                    continue
                if rule.key in keys and rule.hits(text):
                    hit = True
                    danger = danger or rule.danger or cat.danger
            if hit:
                found.append(cat.name)
                escalating = escalating or cat.escalate
        if not found:
            return HARMLESS if _mostly_blanked(prepared, text.value) else NOTHING
        if not danger and escalating and self.immediacy.search(text.value):
            danger = True
        return Screening(
            level="danger" if danger else "concern",
            personal=self._personal(text, found),
            categories=tuple(found),
        )

    def _open(self, text: Text) -> set[int]:
        if not self.gated:
            return {r.key for r in self.all_rules()}
        return self.index.open(text)

    def _blank(self, rules: Sequence[Rule], text: Text) -> Text:
        """Blank out the spans of ``rules``, in order."""
        keys = self._open(text)
        for rule in rules:
            if rule.key not in keys or not all(g.open(text) for g in rule.gates[1:]):
                continue
            if rule.unless and any(u.search(text.value) for u in rule.unless):
                continue
            blanked = rule.match.sub(_BLANK, text.value)
            if blanked != text.value:
                text = Text.of(blanked)
                keys = self._open(text)
        return text

    def _personal(self, text: Text, found: list[str]) -> bool:
        if "self_harm" in found or self.real_life.search(text.value):
            return True
        value = self._blank(self.quotes, text).value
        if self.story.search(value):
            return False
        return self.personal.search(value) is not None

    def all_rules(self) -> Iterable[Rule]:
        yield from self.ignore
        for cat in self.categories:
            yield from cat.rules
        yield from self.quotes


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


def _windows(text: str) -> Iterable[str]:
    step = MAX_CHARS - _OVERLAP
    for start in range(0, len(text), step):
        yield text[start : start + MAX_CHARS]
        if start + MAX_CHARS >= len(text):
            break


def _mostly_blanked(before: str, after: str) -> bool:
    """The ignore spans left at most a few words of the message (and blanked
    something): what remains cannot tell much on its own."""
    if after == before:
        return False
    return len(_WORD.findall(after)) <= _HARMLESS_LEFTOVER_WORDS


def _merge(results: Iterable[Screening]) -> Screening:
    level: str | None = None
    personal = False
    cats: set[str] = set()
    results = list(results)
    if all(r.harmless for r in results):
        return HARMLESS
    for r in results:
        if r.level == "danger" or (r.level == "concern" and level is None):
            level = r.level
        personal = personal or r.personal
        cats.update(r.categories)
    if level is None:
        return NOTHING
    return Screening(level, personal, tuple(c for c in CATEGORIES if c in cats))


# ----------------------------------------------------------------------- gates


def gates_for(pattern: re.Pattern[str]) -> tuple[Gate, ...]:
    """Necessary conditions for ``pattern`` to match, most selective first.

    Every top-level element of a pattern must match somewhere, so a match
    contains, where that element starts, one of the strings (up to three
    characters, non-word characters as spaces, digits as "0") that can start
    the rest of the pattern from there. The two most selective elements are
    kept (fewest strings, word trigrams preferred over ones with spaces).
    Empty when no element gives a usable list.
    """
    try:
        ops = list(sre_parse.parse(pattern.pattern, pattern.flags).data)
    except re.error:
        return ()
    ranked = sorted(_candidates(ops), key=lambda c: _cost(c[1]))
    chosen: list[tuple[int, set[str]]] = []
    for index, starts in ranked:
        if all(index != i for i, _ in chosen):
            chosen.append((index, starts))
        if len(chosen) == 2:
            break
    return tuple(
        Gate(
            frozenset(g for g in starts if len(g) == _GRAM),
            tuple(sorted(g for g in starts if len(g) < _GRAM)),
        )
        for _, starts in chosen
    )


def _cost(starts: set[str]) -> int:
    """How often a set of starts is expected to be found in a message:
    letters-only trigrams are rare, trigrams with a space common, shorter
    starts very common."""
    weights = {(_GRAM, False): 1, (_GRAM, True): 25, (2, False): 400, (2, True): 2000}
    return sum(weights.get((len(g), " " in g), 100_000) for g in starts)


def _candidates(ops: list[Any]) -> list[tuple[int, set[str]]]:
    """Necessary starts for the sequence ``ops``, with the element they come
    from: from each element on, or from inside a required group, repeat or
    alternation (the union over its branches)."""
    out: list[tuple[int, set[str]]] = []
    for i, (op, av) in enumerate(ops):
        found: set[str] = set()
        if _walk([(ops, i)], "", found) and found and "" not in found:
            out.append((i, found))
        inner: set[str] | None = None
        if op is sc.SUBPATTERN:
            inner = _best_starts(list(av[-1].data))
        elif op in (sc.MAX_REPEAT, sc.MIN_REPEAT) and av[0] >= 1:
            inner = _best_starts(list(av[2].data))
        elif op is sc.BRANCH:
            inner = set()
            for alt in av[1]:
                part = _best_starts(list(alt.data))
                if part is None:
                    inner = None
                    break
                inner |= part
        if inner:
            out.append((i, inner))
    return out


def _best_starts(ops: list[Any]) -> set[str] | None:
    # The same word lists come back in many rules: remember what they give.
    key = repr(ops)
    if key not in _STARTS_MEMO:
        candidates = _candidates(ops)
        _STARTS_MEMO[key] = min((c[1] for c in candidates), key=_cost) if candidates else None
    return _STARTS_MEMO[key]


_STARTS_MEMO: dict[str, set[str] | None] = {}


_Frame = tuple[list[Any], int]


def _walk(stack: list[_Frame], cur: str, out: set[str]) -> bool:
    """Add to ``out`` every start a match can have; False when too many."""
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
    out.add(cur)  # anything else: the start so far is all that is known
    return True


def _gram_char(c: str) -> str:
    if _NON_WORD.match(c):
        return " "
    return "0" if _DIGIT.match(c) else c


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
            chars.add("0")
        else:
            return None
    return chars


# --------------------------------------------------------------------- loading

_lock = threading.Lock()
_NET: Net | None = None


def _net() -> Net:
    """The shared net, compiled on first use (thread-safe, once)."""
    global _NET
    if _NET is None:
        with _lock:
            if _NET is None:
                _NET = load_net(PATTERNS_FILE)
    return _NET


def warm_up() -> None:
    """Read and compile the patterns now (call at server start: it takes
    about a second, which the first child's message should not wait for)."""
    _net()


def reload() -> None:
    """Forget the compiled net; the next screen() reads patterns.yml again."""
    global _NET
    with _lock:
        _NET = None


def load_net(path: Path = PATTERNS_FILE, *, gated: bool = True) -> Net:
    """Read and compile a patterns file; raise PatternError if anything is off.

    ``gated=False`` runs every rule on every message (for tests: the gates
    must never change a result)."""
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise PatternError(f"{path}: {exc}") from exc
    if not isinstance(raw, Mapping):
        raise PatternError(f"{path}: expected a mapping at the top")
    try:
        return _Compiler(raw, str(path)).net(gated=gated)
    finally:
        _STARTS_MEMO.clear()


class _Compiler:
    """Turns the YAML structure into a :class:`Net`, expanding ``<name>``."""

    def __init__(self, raw: Mapping[str, Any], where: str) -> None:
        self.raw = raw
        self.where = where
        self.next_key = 0
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

    def rule(self, entry: Any, where: str) -> Rule:
        if isinstance(entry, str):
            entry = {"match": entry}
        if not isinstance(entry, Mapping) or "match" not in entry:
            raise self.error(f"{where}: a pattern, or a mapping with 'match'")
        extra = set(entry) - {"match", "unless", "level"}
        if extra:
            raise self.error(f"{where}: unknown keys {sorted(extra)}")
        unless = entry.get("unless", [])
        if isinstance(unless, str):
            unless = [unless]
        if not isinstance(unless, list):
            raise self.error(f"{where}: unless must be a pattern or a list of patterns")
        level = entry.get("level", "concern")
        if level not in LEVELS:
            raise self.error(f"{where}: level must be one of {LEVELS}")
        compiled = self.compile(entry["match"], where)
        self.next_key += 1
        return Rule(
            key=self.next_key,
            match=compiled,
            unless=tuple(self.compile(u, f"{where}.unless") for u in unless),
            danger=level == "danger",
            gates=gates_for(compiled),
        )

    def rules(self, entries: Any, context: str) -> tuple[Rule, ...]:
        if not isinstance(entries, list) or not entries:
            raise self.error(f"{context}: expected a non-empty list of rules")
        return tuple(self.rule(e, f"{context}[{i}]") for i, e in enumerate(entries))

    def by_language(self, name: str) -> list[Any]:
        section = self.raw.get(name)
        if not isinstance(section, Mapping):
            raise self.error(f"{name}: expected a mapping of languages")
        missing = [lang for lang in PATTERN_LANGUAGES if not section.get(lang)]
        if missing:
            raise self.error(f"{name}: no patterns for {missing}")
        entries: list[Any] = []
        for lang in PATTERN_LANGUAGES:
            if not isinstance(section[lang], list):
                raise self.error(f"{name}.{lang}: expected a list")
            entries.extend(section[lang])
        return entries

    def alternation(self, name: str) -> re.Pattern[str]:
        entries = self.by_language(name)
        for i, e in enumerate(entries):
            self.compile(e, f"{name}[{i}]")
        return self.compile("|".join(f"(?:{e})" for e in entries), name)

    def category(self, name: str, spec: Any) -> Category:
        if not isinstance(spec, Mapping):
            raise self.error(f"category {name}: expected a mapping")
        extra = set(spec) - _CATEGORY_KEYS
        if extra:
            raise self.error(f"category {name}: unknown keys {sorted(extra)}")
        level = spec.get("level")
        if level not in LEVELS:
            raise self.error(f"category {name}: level must be one of {LEVELS}")
        rules: list[Rule] = []
        for lang in PATTERN_LANGUAGES:
            if lang not in spec:
                raise self.error(f"category {name}: no '{lang}' rules")
            rules.extend(self.rules(spec[lang], f"{name}.{lang}"))
        return Category(name, level == "danger", bool(spec.get("escalate", False)), tuple(rules))

    def net(self, *, gated: bool = True) -> Net:
        cats_raw = self.raw.get("categories")
        if not isinstance(cats_raw, Mapping):
            raise self.error("categories must be a mapping")
        if set(cats_raw) != set(CATEGORIES):
            raise self.error(f"categories must be exactly {sorted(CATEGORIES)}")
        net = Net(
            ignore=self.rules(self.by_language("ignore"), "ignore"),
            categories=tuple(self.category(n, cats_raw[n]) for n in CATEGORIES),
            quotes=self.rules(self.by_language("quotes"), "quotes"),
            immediacy=self.alternation("immediacy"),
            real_life=self.alternation("real_life"),
            story=self.alternation("story"),
            personal=self.alternation("personal"),
            index=_Index(),
            gated=gated,
        )
        for rule in net.all_rules():
            net.index.add(rule)
        return net


def examples(path: Path = PATTERNS_FILE) -> dict[str, dict[str, list[str]]]:
    """The reviewer examples of patterns.yml: ``{category: {lang: [text]}}``."""
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    out: dict[str, dict[str, list[str]]] = {}
    for name, spec in raw["categories"].items():
        out[name] = {lang: list(v) for lang, v in (spec.get("examples") or {}).items()}
    return out
