"""Which trick a child names in a typed answer ("les belle parole", "not the secret one").

Used by the quiz (``bot.quiz``). The names come from ``locales/tactics.<lang>.yml``
(both languages, always: children mix them) plus the extra words a caller gives
(the quiz's ``answer_words``). Matching is forgiving in the ways children
write: no articles ("the", "les", "du"…), plurals ("paroles", "traps"),
doubled or missing letters ("flaterie", "parolles", "trapp"), French sounds
("cado" for "cadeau"), one or two typos in a long word ("detectif"), words
run together ("sweettalk", "meetup").

A negation ("not", "don't", "pas", "jamais", "ni") takes the next trick named
after it out of the answer: "not the secret one, the gift" names the gift
trap; "c'est pas le secret" names nothing, and the caller asks which one was
meant. Two tricks named ("the gift or the scare one") are two candidates: the
caller asks too. Nothing here keeps or logs the text it reads.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from bot import text as texts
from bot.tactics import TACTICS

# Words that carry no meaning in a trick's name or in an answer.
STOPWORDS = frozenset(
    {
        "the",
        "a",
        "an",
        "one",
        "ones",
        "its",
        "it",
        "s",
        "is",
        "this",
        "that",
        "thing",
        "i",
        "think",
        "trick",
        "le",
        "la",
        "les",
        "l",
        "un",
        "une",
        "des",
        "du",
        "de",
        "d",
        "c",
        "ce",
        "cest",
        "est",
        "ca",
        "sa",
        "celui",
        "celle",
        "truc",
        "je",
        "pense",
        "que",
        "qui",
    }
)
# Negations: the next trick named after one is not the answer. No bare "no"
# ("no, it's the gift") and no French "ne"/"n" (kids drop "ne"; "n" is "and").
NEGATIONS = frozenset({"not", "never", "nor", "pas", "jamais", "ni", "aucun", "aucune"})
_DOUBLE = re.compile(r"(.)\1+")


def fold(token: str) -> str:
    """A spelling-tolerant key: no final plural s/x, French sounds, no doubled letters."""
    if len(token) > 3 and token[-1] in "sx" and not token.endswith("ss"):
        token = token[:-1]
    token = token.replace("eau", "o").replace("au", "o").replace("ph", "f")
    return _DOUBLE.sub(r"\1", token)


def _distance(a: str, b: str, limit: int) -> int:
    """Damerau-Levenshtein distance (adjacent swaps count 1), stopping above ``limit``."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    previous2: list[int] = []
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        row = [i] + [0] * len(b)
        for j, cb in enumerate(b, 1):
            cost = 0 if ca == cb else 1
            row[j] = min(previous[j] + 1, row[j - 1] + 1, previous[j - 1] + cost)
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                row[j] = min(row[j], previous2[j - 2] + 1)
        if min(row) > limit:
            return limit + 1
        previous2, previous = previous, row
    return previous[-1]


def _close(typed: str, wanted: str) -> bool:
    if typed == wanted:
        return True
    shortest = min(len(typed), len(wanted))
    if shortest < 5:
        return False
    limit = 2 if shortest >= 8 else 1
    return _distance(typed, wanted, limit) <= limit


def same_word(typed: str, wanted: str) -> bool:
    """``typed`` is ``wanted``, as written or folded, allowing for typos in longer words."""
    return _close(fold(typed), fold(wanted)) or _close(typed, wanted)


@dataclass(frozen=True)
class Vocabulary:
    """Per tactic, its phrases as tuples of content words."""

    phrases: Mapping[str, tuple[tuple[str, ...], ...]]


def content_words(text: str) -> list[str]:
    """Words of ``text`` without the STOPWORDS (for names and extra words)."""
    from bot.normalise import normalise, words

    return [w for w in words(normalise(text)) if w not in STOPWORDS]


def build_vocabulary(extra: Mapping[str, Iterable[str]] | None = None) -> Vocabulary:
    """Each tactic's name in every language, plus ``extra`` words or phrases per tactic."""
    extra = extra or {}
    phrases: dict[str, tuple[tuple[str, ...], ...]] = {}
    for tactic in TACTICS:
        found: list[tuple[str, ...]] = []
        sources = [texts.t(f"tactics.{tactic}.name", lang) for lang in texts.LANGUAGES]
        sources += list(extra.get(tactic, ()))
        for source in sources:
            phrase = tuple(content_words(source))
            if phrase and phrase not in found:
                found.append(phrase)
        phrases[tactic] = tuple(found)
    return Vocabulary(phrases)


@functools.lru_cache(maxsize=4)
def _cached(extra: tuple[tuple[str, tuple[str, ...]], ...]) -> Vocabulary:
    return build_vocabulary(dict(extra))


def vocabulary(extra: Mapping[str, Iterable[str]] | None = None) -> Vocabulary:
    """The (cached) vocabulary for these extra words."""
    key = tuple(sorted((t, tuple(words)) for t, words in (extra or {}).items()))
    return _cached(key)


@dataclass(frozen=True)
class NameReading:
    named: tuple[str, ...]  # tricks the text names, in the order they come
    negated: tuple[str, ...]  # tricks named only under a negation ("not the secret one")
    position: int | None  # "2", "the first one", "le deuxième"

    @property
    def unsure(self) -> bool:
        """Several tricks named, or only a negation: ask which one was meant."""
        return len(self.named) > 1 or (not self.named and bool(self.negated))


def _matches(tokens: list[str], start: int, phrase: tuple[str, ...]) -> int:
    """How many text tokens from ``start`` spell ``phrase`` (0: no match).

    A phrase of two words may also be typed as one ("sweettalk", "meetup").
    """
    if start + len(phrase) <= len(tokens) and all(
        same_word(tokens[start + k], word) for k, word in enumerate(phrase)
    ):
        return len(phrase)
    if len(phrase) == 2 and same_word(tokens[start], phrase[0] + phrase[1]):
        return 1
    return 0


def _clause_mentions(tokens: list[str], vocab: Vocabulary) -> list[tuple[str, bool]]:
    """(tactic, negated) for each trick named in one clause, in order."""
    found: list[tuple[str, bool]] = []
    pending_negation = False
    index = 0
    while index < len(tokens):
        if tokens[index] in NEGATIONS:
            pending_negation = True
            index += 1
            continue
        best: tuple[int, str] | None = None
        for tactic, phrases in vocab.phrases.items():
            for phrase in phrases:
                size = _matches(tokens, index, phrase)
                if size and (best is None or size > best[0]):
                    best = (size, tactic)
        if best is None:
            index += 1
            continue
        found.append((best[1], pending_negation))
        pending_negation = False
        index += best[0]
    return found


def read(text: str, extra: Mapping[str, Iterable[str]] | None = None) -> NameReading:
    """The tricks ``text`` names (and those it names under a negation)."""
    from bot.stories import understand

    vocab = vocabulary(extra)
    text = text if isinstance(text, str) else ""
    # a place on its own ("2", "number 2", "le deuxième") is a button, whatever its words
    position = understand.position(text)
    if position is not None:
        return NameReading((), (), position)
    clauses = understand.prepare(text)
    named: list[str] = []
    negated: list[str] = []
    for clause in clauses:
        tokens = [t for t in clause if t not in STOPWORDS]
        for tactic, is_negated in _clause_mentions(tokens, vocab):
            target = negated if is_negated else named
            if tactic not in target:
                target.append(tactic)
    negated = [t for t in negated if t not in named]
    return NameReading(tuple(named), tuple(negated), None)
