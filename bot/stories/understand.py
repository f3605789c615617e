"""Free text inside a story: which choice, or which kind of reply, a child means.

Everything a child's words are matched against is data
(``data/roleplay/strategies.yml``, and optional ``keywords`` on a story's
choices). Matching runs on normalised text (:func:`bot.normalise.normalise`),
cut into clauses; a negation near a pattern turns it into another strategy
("I won't tell my mum" is keeping a secret, "jlui réponds pas" is ignoring).
When no pattern matches, a small character n-gram model trained on the
examples in the same file (scikit-learn, trained in memory on first use)
makes a cautious guess.

Nothing here keeps or logs the text it reads.
"""

from __future__ import annotations

import functools
import re
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bot import text as texts
from bot.normalise import normalise, words
from bot.paths import DATA_DIR

STRATEGIES_PATH = DATA_DIR / "roleplay" / "strategies.yml"
# Longest text read (a chat message is cut before it gets here anyway).
MAX_CHARS = 500
REHEARSAL_CATEGORIES = (
    "refuse",
    "set_boundary",
    "name_trick",
    "tell_adult",
    "block_report",
    "ignore",
    "risky",
)
SAFE_REHEARSAL = frozenset(REHEARSAL_CATEGORIES) - {"risky"}
# Words looked at around a match for a negation.
NEGATION_BEFORE = 3
NEGATION_AFTER_FR = 2
# A strategy scoring at least this is a clear move (one full pattern); a clear
# risky move makes a rehearsal reply risky whatever else it says.
STRONG = 1.0
# Share of a button label's words a text needs to count as that button.
LABEL_MATCH = 0.8
# The strategy a negated keyword of a risky choice counts for, and the key it
# is collected under (never a choice id: those match ID_PATTERN).
REFUSAL = "refuse"
_REFUSED = "-refused"

_SEGMENT = re.compile(r"[.,;:!?()\n\r\"«»“”…/]+")
_J_CONSONANT = re.compile(r"^j([bcdfghklmnpqrstvwxz][a-z]+)$")
_DIGIT = re.compile(r"^[1-9]$")


@dataclass(frozen=True)
class Pattern:
    regex: re.Pattern[str]
    lang: str
    weight: float = 1.0
    check_negation: bool = True
    negated: str | None = None  # overrides the strategy's ``negated``
    # Look for a negation inside the match too (strategy patterns: "je le dis pas
    # a ma mere"); a safe choice's keywords hold their own words ("pas aujourd'hui").
    inside: bool = True
    # A pattern of a safe move that holds its own negation ("say no", "stop"):
    # dropped when a negation stands before it ("she doesn't say no").
    drop_if_negated: bool = False
    # A negation after the match may be about it ("je lui envoie pas", "he pays
    # nothing"); not after an interjection ("ok nobody will know").
    after: bool = True


@dataclass(frozen=True)
class Strategy:
    id: str
    safe: bool
    rehearsal: str | None
    negated: str | None
    fallback: tuple[str, ...]
    patterns: tuple[Pattern, ...]
    examples: Mapping[str, tuple[str, ...]] = field(default_factory=dict)


@dataclass(frozen=True)
class Lexicon:
    strategies: Mapping[str, Strategy]
    priority: tuple[str, ...]
    replace: tuple[tuple[re.Pattern[str], str], ...]
    tokens: Mapping[str, tuple[str, ...]]
    split_j: bool
    clause_words: frozenset[str]
    negation: Mapping[str, frozenset[str]]
    shared_negation: frozenset[str]  # negation words that count for every language's patterns
    guard_negation: frozenset[str]  # negation words that make a text hold a negation
    negation_after: Mapping[str, frozenset[str]]  # non-French words that negate what precedes
    subjects: frozenset[str]  # a subject after a negation ends it ("dit pas non elle l'envoie")
    unsure: tuple[re.Pattern[str], ...]
    ordinals: Mapping[str, int]
    ordinal_fillers: frozenset[str]
    none_examples: tuple[str, ...]
    model_enabled: bool
    min_probability: float

    def rank(self, scores: Mapping[str, float]) -> list[str]:
        """Strategies with a positive score, best first (ties: ``priority``)."""
        order = {s: i for i, s in enumerate(self.priority)}
        found = [s for s, v in scores.items() if v > 0]
        return sorted(found, key=lambda s: (-scores[s], order.get(s, len(order))))


@dataclass
class Analysis:
    """What a text says, as scores per strategy."""

    scores: dict[str, float]
    unsure: bool = False
    ordinal: int | None = None
    by_model: bool = False
    clauses: list[list[str]] = field(default_factory=list)
    negation: bool = False  # the text holds a negation (guesses then never land on a risky move)


@dataclass(frozen=True)
class ChoiceMatch:
    choice_id: str | None
    how: str  # label, number, words, model, unsure, which (ask which choice), none


# --- loading ----------------------------------------------------------------


def _fail(path: Path, message: str) -> Exception:
    from bot.stories.model import StoryError, display

    return StoryError([f"{display(path)}: {message}"])


def _compile(path: Path, where: str, pattern: str) -> re.Pattern[str]:
    try:
        return re.compile(pattern)
    except re.error as exc:
        raise _fail(path, f"{where}: bad pattern {pattern!r} ({exc})") from None


def _parse_pattern(
    path: Path, where: str, lang: str, raw: Any, known: set[str], safe: bool
) -> Pattern:
    if isinstance(raw, str):
        return Pattern(regex=_compile(path, where, raw), lang=lang)
    if not isinstance(raw, dict) or "re" not in raw:
        raise _fail(path, f"{where}: a pattern is a string or {{re, weight, neg, negated, after}}")
    extra = set(raw) - {"re", "weight", "neg", "negated", "after"}
    if extra:
        raise _fail(path, f"{where}: unknown pattern field(s) {sorted(extra)}")
    negated = raw.get("negated")
    if negated is not None and negated not in known:
        raise _fail(path, f"{where}: unknown strategy '{negated}' in 'negated'")
    check_negation = bool(raw.get("neg", True))
    return Pattern(
        regex=_compile(path, where, str(raw["re"])),
        lang=lang,
        weight=float(raw.get("weight", 1.0)),
        check_negation=check_negation,
        negated=negated,
        drop_if_negated=safe and not check_negation,
        after=bool(raw.get("after", True)),
    )


def _lang_lists(path: Path, where: str, raw: Any) -> dict[str, list[Any]]:
    if raw is None:
        return {}
    if not isinstance(raw, dict) or not set(raw) <= set(texts.LANGUAGES):
        raise _fail(path, f"{where}: expected lists under {', '.join(texts.LANGUAGES)}")
    for lang, items in raw.items():
        if not isinstance(items, list):
            raise _fail(path, f"{where}.{lang}: expected a list")
    return {str(k): list(v) for k, v in raw.items()}


def parse_lexicon(path: Path, raw: Any) -> Lexicon:
    """Build and check a :class:`Lexicon` from parsed YAML (errors name the file)."""
    if not isinstance(raw, dict) or not isinstance(raw.get("strategies"), dict):
        raise _fail(path, "needs a 'strategies' mapping")
    raw_strategies: dict[str, Any] = raw["strategies"]
    known = set(raw_strategies)
    strategies: dict[str, Strategy] = {}
    for sid, body in raw_strategies.items():
        where = f"strategy '{sid}'"
        if not isinstance(body, dict) or not isinstance(body.get("safe"), bool):
            raise _fail(path, f"{where}: needs 'safe: true|false'")
        rehearsal = body.get("rehearsal")
        if rehearsal is not None and rehearsal not in REHEARSAL_CATEGORIES:
            raise _fail(path, f"{where}: rehearsal must be one of {REHEARSAL_CATEGORIES} or null")
        negated = body.get("negated")
        if negated is not None and negated not in known:
            raise _fail(path, f"{where}: unknown strategy '{negated}' in 'negated'")
        fallback = body.get("fallback") or []
        unknown = [f for f in fallback if f not in known]
        if unknown:
            raise _fail(path, f"{where}: unknown fallback strategies {unknown}")
        patterns = [
            _parse_pattern(path, f"{where}.patterns.{lang}", lang, item, known, body["safe"])
            for lang, items in _lang_lists(path, f"{where}.patterns", body.get("patterns")).items()
            for item in items
        ]
        examples = _lang_lists(path, f"{where}.examples", body.get("examples"))
        strategies[sid] = Strategy(
            id=sid,
            safe=body["safe"],
            rehearsal=rehearsal,
            negated=negated,
            fallback=tuple(fallback),
            patterns=tuple(patterns),
            examples={k: tuple(str(e) for e in v) for k, v in examples.items()},
        )
    priority = tuple(raw.get("priority") or ())
    if set(priority) != known or len(priority) != len(known):
        raise _fail(path, "'priority' must list every strategy exactly once")
    replace = tuple(
        (_compile(path, "replace", str(a)), str(b)) for a, b in (raw.get("replace") or [])
    )
    tokens: dict[str, tuple[str, ...]] = {}
    for lang, table in (raw.get("tokens") or {}).items():
        if lang not in texts.LANGUAGES or not isinstance(table, dict):
            raise _fail(path, "'tokens' maps en/fr to {word: replacement}")
        for word, full in table.items():
            tokens[str(word)] = tuple(str(full).split())
    negation = {
        lang: frozenset(str(w) for w in items)
        for lang, items in _lang_lists(path, "negation", raw.get("negation")).items()
    }
    not_shared = {str(w) for w in raw.get("negation_not_shared") or []}
    every_negation = frozenset(w for words in negation.values() for w in words)
    shared_negation = every_negation - not_shared
    guard_ignores = {str(w) for w in raw.get("negation_guard_ignores") or []}
    subjects = frozenset(
        str(w)
        for items in _lang_lists(path, "subjects", raw.get("subjects")).values()
        for w in items
    )
    unsure = tuple(
        _compile(path, "unsure", str(p))
        for items in _lang_lists(path, "unsure", raw.get("unsure")).values()
        for p in items
    )
    ordinals: dict[str, int] = {}
    for number, names in (raw.get("ordinals") or {}).items():
        for name in names:
            ordinals[str(name)] = int(number)
    model = raw.get("model") or {}
    none_examples = tuple(
        str(e)
        for items in _lang_lists(path, "none_examples", raw.get("none_examples")).values()
        for e in items
    )
    return Lexicon(
        strategies=strategies,
        priority=priority,
        replace=replace,
        tokens=tokens,
        split_j=bool(raw.get("split_j_before_consonant", False)),
        clause_words=frozenset(str(w) for w in raw.get("clause_words") or []),
        negation=negation,
        shared_negation=shared_negation,
        guard_negation=every_negation - guard_ignores,
        negation_after={
            lang: frozenset(str(w) for w in items)
            for lang, items in _lang_lists(
                path, "negation_after", raw.get("negation_after")
            ).items()
        },
        subjects=subjects,
        unsure=unsure,
        ordinals=ordinals,
        ordinal_fillers=frozenset(str(w) for w in raw.get("ordinal_fillers") or []),
        none_examples=none_examples,
        model_enabled=bool(model.get("enabled", False)),
        min_probability=float(model.get("min_probability", 0.5)),
    )


@functools.lru_cache(maxsize=4)
def _load(path_str: str) -> Lexicon:
    from bot.stories.model import read_yaml

    path = Path(path_str)
    return parse_lexicon(path, read_yaml(path))


def load_lexicon(path: Path | None = None) -> Lexicon:
    """The understanding data (cached); ``path`` defaults to ``strategies.yml``."""
    return _load(str(path or STRATEGIES_PATH))


# --- preparing text ---------------------------------------------------------


def prepare(text: str, lexicon: Lexicon | None = None) -> list[list[str]]:
    """Clauses of full-form words: "Non, jlui réponds pa" -> [["non"], ["j", "lui", ...]]."""
    lexicon = lexicon or load_lexicon()
    norm = normalise(text[:MAX_CHARS])
    for regex, replacement in lexicon.replace:
        norm = regex.sub(replacement, norm)
    clauses: list[list[str]] = []
    for segment in _SEGMENT.split(norm):
        current: list[str] = []
        for token in _expand(words(segment), lexicon):
            if token in lexicon.clause_words:
                if current:
                    clauses.append(current)
                current = []
            else:
                current.append(token)
        if current:
            clauses.append(current)
    return clauses


def _expand(tokens: Iterable[str], lexicon: Lexicon) -> list[str]:
    out: list[str] = []
    for token in tokens:
        full = lexicon.tokens.get(token)
        if full is not None:
            out.extend(full)
            continue
        match = _J_CONSONANT.match(token) if lexicon.split_j else None
        if match:
            rest = match.group(1)
            out.append("j")
            out.extend(lexicon.tokens.get(rest, (rest,)))
            continue
        out.append(token)
    return out


def _token_span(clause: str, start: int, end: int) -> tuple[int, int]:
    first = len(clause[:start].split())
    last = len(clause[:end].split())
    return first, max(last, first + 1)


def _before(lexicon: Lexicon, tokens: list[str], start: int) -> list[str]:
    """The words before a match that a negation may come from: at most
    NEGATION_BEFORE, and none before a subject that follows them ("elle dit pas
    non, elle l'envoie": the second "elle" starts a new statement)."""
    if start < len(tokens) and tokens[start] in lexicon.subjects:
        return []  # the match starts a statement of its own ("... elle l'envoie")
    near = tokens[max(0, start - NEGATION_BEFORE) : start]
    for index in range(len(near) - 1, -1, -1):
        if near[index] in lexicon.subjects:
            return near[index + 1 :]
    return near


def _after(lexicon: Lexicon, tokens: list[str], end: int) -> list[str]:
    near = tokens[end : end + NEGATION_AFTER_FR]
    for index, word in enumerate(near):
        if word in lexicon.subjects:
            return near[:index]
    return near


def _negations(lexicon: Lexicon, lang: str) -> frozenset[str]:
    """A pattern's negation words: its language's, and the other languages' that
    may be shared (children mix languages: "he does not block him")."""
    return lexicon.negation.get(lang, frozenset()) | lexicon.shared_negation


def _spelled(pattern: Pattern, word: str) -> bool:
    """Does the pattern write this word itself ("says nothing", "chang\\w* rien")?"""
    source = pattern.regex.pattern.replace("\\b", " ")
    return re.search(rf"\b{re.escape(word)}\b", source) is not None


def _negated(lexicon: Lexicon, tokens: list[str], pattern: Pattern, span: tuple[int, int]) -> bool:
    if not pattern.check_negation:
        return False
    near = _before(lexicon, tokens, span[0])
    if pattern.inside:
        # a negation word the pattern spells is its own, not one said about it
        near = near + [w for w in tokens[span[0] : span[1]] if not _spelled(pattern, w)]
    after = _after(lexicon, tokens, span[1]) if pattern.after else []
    if pattern.lang == "fr":
        near = near + after
    else:  # "he pays nothing", "she sends him nothing"
        near = near + [w for w in after if w in lexicon.negation_after.get(pattern.lang, ())]
    negations = _negations(lexicon, pattern.lang)
    return any(w in negations for w in near)


def _double_negative(
    lexicon: Lexicon, tokens: list[str], pattern: Pattern, span: tuple[int, int]
) -> bool:
    """A safe move's own negation under another one ("she doesn't say no",
    "elle dit pas non", "he won't stop"): it does not say that move any more."""
    if not pattern.drop_if_negated:
        return False
    negations = _negations(lexicon, pattern.lang)
    return any(w in negations for w in _before(lexicon, tokens, span[0]))


def has_negation(lexicon: Lexicon, clauses: list[list[str]]) -> bool:
    """Does the text hold a negation word (of any language, but French "n")?"""
    return any(w in lexicon.guard_negation for clause in clauses for w in clause)


def _match_patterns(
    lexicon: Lexicon,
    clauses: list[list[str]],
    patterns: Iterable[tuple[str, Pattern, str | None]],
) -> dict[str, float]:
    """Scores per target; each (target, pattern) counts once per text.

    The same words matched for the same target by several patterns (typically
    the English and the French list both holding "parents", "no", "ok" or
    "secret") count once, with the highest weight: a bare word is worth its
    weight, not twice it.
    """
    hits: dict[tuple[str, int, tuple[int, int]], float] = {}
    joined = [" ".join(c) for c in clauses]
    for target, pattern, negated_target in patterns:
        for index, (tokens, clause) in enumerate(zip(clauses, joined, strict=True)):
            found = pattern.regex.search(clause)
            if not found:
                continue
            span = _token_span(clause, found.start(), found.end())
            goes_to: str | None = target
            if _double_negative(lexicon, tokens, pattern, span):
                goes_to = None
            elif _negated(lexicon, tokens, pattern, span):
                goes_to = pattern.negated or negated_target
            if goes_to:
                key = (goes_to, index, span)
                hits[key] = max(hits.get(key, 0.0), pattern.weight)
            break
    scores: dict[str, float] = {}
    for (goes_to, _, _), weight in hits.items():
        scores[goes_to] = scores.get(goes_to, 0.0) + weight
    return scores


def _strip_unsure(lexicon: Lexicon, clauses: list[list[str]]) -> tuple[list[list[str]], bool]:
    unsure = False
    kept: list[list[str]] = []
    for tokens in clauses:
        clause = " ".join(tokens)
        for regex in lexicon.unsure:
            if regex.search(clause):
                unsure = True
                clause = regex.sub(" ", clause)
        rest = clause.split()
        if rest:
            kept.append(rest)
    return kept, unsure


def _ordinal(lexicon: Lexicon, clauses: list[list[str]]) -> int | None:
    tokens = [t for c in clauses for t in c]
    meaningful = [t for t in tokens if t not in lexicon.ordinal_fillers]
    if len(meaningful) != 1 and not (len(tokens) == 1 and tokens[0] in lexicon.ordinals):
        return None
    word = meaningful[0] if meaningful else tokens[0]
    if _DIGIT.match(word):
        return int(word)
    return lexicon.ordinals.get(word)


def position(text: str, lexicon: Lexicon | None = None) -> int | None:
    """A button given by its place: "2", "the first one", "le deuxième" -> 1-based number."""
    lexicon = lexicon or load_lexicon()
    return _ordinal(lexicon, prepare(text, lexicon))


def analyse(text: str, lexicon: Lexicon | None = None, *, use_model: bool = True) -> Analysis:
    """Scores per strategy for ``text`` (patterns first, then the model)."""
    lexicon = lexicon or load_lexicon()
    clauses = prepare(text, lexicon)
    ordinal = _ordinal(lexicon, clauses)
    clauses, unsure = _strip_unsure(lexicon, clauses)
    patterns = ((s.id, p, s.negated) for s in lexicon.strategies.values() for p in s.patterns)
    scores = _match_patterns(lexicon, clauses, patterns)
    analysis = Analysis(
        scores=scores,
        unsure=unsure,
        ordinal=ordinal,
        clauses=clauses,
        negation=has_negation(lexicon, clauses),
    )
    if not scores and not unsure and ordinal is None and use_model and lexicon.model_enabled:
        guess = model_guess(" ".join(" ".join(c) for c in clauses), lexicon)
        if guess is not None:
            analysis.scores = {guess: 1.0}
            analysis.by_model = True
    return analysis


# --- the fallback model -----------------------------------------------------

_model_lock = threading.Lock()
_models: dict[int, Any] = {}
NONE_LABEL = "_none"


def _train(lexicon: Lexicon) -> Any:
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    samples: list[str] = []
    labels: list[str] = []
    for strategy in lexicon.strategies.values():
        for examples in strategy.examples.values():
            for example in examples:
                samples.append(" ".join(" ".join(c) for c in prepare(example, lexicon)))
                labels.append(strategy.id)
    for example in lexicon.none_examples:
        samples.append(" ".join(" ".join(c) for c in prepare(example, lexicon)))
        labels.append(NONE_LABEL)
    pipeline = make_pipeline(
        TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 4), sublinear_tf=True),
        LogisticRegression(C=10.0, max_iter=2000),
    )
    pipeline.fit(samples, labels)
    return pipeline


def _model(lexicon: Lexicon) -> Any:
    key = id(lexicon)
    with _model_lock:
        if key not in _models:
            _models[key] = _train(lexicon)
        return _models[key]


def model_guess(prepared: str, lexicon: Lexicon | None = None) -> str | None:
    """The model's strategy for already prepared text, if it is confident enough."""
    lexicon = lexicon or load_lexicon()
    if not prepared.strip():
        return None
    model = _model(lexicon)
    probabilities = model.predict_proba([prepared])[0]
    best = int(probabilities.argmax())
    label = str(model.classes_[best])
    if label == NONE_LABEL or probabilities[best] < lexicon.min_probability:
        return None
    return label


def warm_up() -> None:
    """Load the data and train the model now (server start), not on a child's turn."""
    lexicon = load_lexicon()
    if lexicon.model_enabled:
        _model(lexicon)


# --- choices and rehearsal replies -------------------------------------------


def _label_tokens(label: str, lexicon: Lexicon) -> list[str]:
    return [t for c in prepare(label, lexicon) for t in c]


def choice_for(
    step: Any,
    text: str,
    labels: Mapping[str, Iterable[str]] | None = None,
    lexicon: Lexicon | None = None,
    *,
    use_model: bool = True,
) -> ChoiceMatch:
    """The choice of ``step`` (a :class:`bot.stories.model.Step`) that ``text`` means.

    ``labels`` maps each choice id to its button labels (all languages), so a
    child typing a button's words picks that button.
    """
    lexicon = lexicon or load_lexicon()
    choices = list(step.choices)
    if not choices:
        return ChoiceMatch(None, "none")
    text_tokens = [t for c in prepare(text, lexicon) for t in c]
    if labels and text_tokens:
        for choice in choices:
            for label in labels.get(choice.id, ()):
                wanted = _label_tokens(label, lexicon)
                if wanted and _overlap(text_tokens, wanted) >= LABEL_MATCH:
                    return ChoiceMatch(choice.id, "label")
    analysis = analyse(text, lexicon, use_model=False)
    if analysis.ordinal is not None and 1 <= analysis.ordinal <= len(choices):
        return ChoiceMatch(choices[analysis.ordinal - 1].id, "number")
    # A risky choice's keywords are negated even inside their match ("il dit
    # pas quelle ecole" is not giving the school), and a negated risky keyword
    # ("she doesn't click it", « il paie pas ») is a refusal of that move.
    keyword_patterns = (
        (
            choice.id,
            Pattern(regex=re.compile(p), lang=lang, inside=not choice.safe),
            None if choice.safe else _REFUSED,
        )
        for choice in choices
        for lang, items in choice.keywords.items()
        for p in items
    )
    keyword_scores = _match_patterns(lexicon, analysis.clauses, keyword_patterns)
    scores = analysis.scores
    refused = keyword_scores.pop(_REFUSED, 0.0)
    if refused and REFUSAL in lexicon.strategies:
        scores = {**scores, REFUSAL: max(scores.get(REFUSAL, 0.0), STRONG)}
    negation = analysis.negation
    found = _pick(choices, scores, keyword_scores, lexicon, negation=negation)
    if found is not None:
        return ChoiceMatch(found, "words")
    if not scores and not analysis.unsure and use_model and lexicon.model_enabled:
        guess = model_guess(" ".join(" ".join(c) for c in analysis.clauses), lexicon)
        if guess is not None:
            found = _pick(choices, {guess: 1.0}, {}, lexicon, negation=negation, guess=True)
            if found is not None:
                return ChoiceMatch(found, "model")
    if analysis.unsure:
        return ChoiceMatch(None, "unsure")
    if negation and (analysis.scores or keyword_scores):
        return ChoiceMatch(None, "which")  # words were there, but a negation: never guess
    return ChoiceMatch(None, "none")


def _overlap(text_tokens: list[str], label_tokens: list[str]) -> float:
    text_set = set(text_tokens)
    share_of_label = sum(1 for t in label_tokens if t in text_set) / len(label_tokens)
    share_of_text = sum(1 for t in text_tokens if t in set(label_tokens)) / len(text_tokens)
    return min(share_of_label, share_of_text)


def _risky_allowed(scores: Mapping[str, float], ranked: list[str], lexicon: Lexicon) -> bool:
    """May a guess (a vague word, a fallback) land on a risky choice?

    Not when the text tells someone (a strategy judged like telling a grown-up:
    tell_adult, ask_friend), nor when it holds a clear safe move (a strategy
    judged refuse, set_boundary, block_report or ignore; not chat or check,
    whose safety depends on the story) and no clear risky one. "talk to her
    mum" also scores "talk" as chat, whose fallback is agree/go_along: on a
    step with no grown-up choice that would call a child's safest answer
    risky. Better to ask again.
    """
    if any(lexicon.strategies[s].rehearsal == "tell_adult" for s in ranked):
        return False
    safe_moves = [s for s in ranked if lexicon.strategies[s].rehearsal in SAFE_REHEARSAL]
    risky = [s for s in ranked if not lexicon.strategies[s].safe]
    safe_best = max((scores[s] for s in safe_moves), default=0.0)
    risky_best = max((scores[s] for s in risky), default=0.0)
    return not (safe_best >= STRONG and risky_best < STRONG)


def _pick(
    choices: list[Any],
    scores: Mapping[str, float],
    keyword_scores: Mapping[str, float],
    lexicon: Lexicon,
    *,
    negation: bool = False,
    guess: bool = False,
) -> str | None:
    """The choice the scores point to, or ``None`` (ask again).

    With a negation in the text, only a clear move (a full pattern or a
    keyword, not a vague word, a fallback or a guess) may pick a risky choice:
    a negation never flips a choice ("she doesn't tell" on a step whose risky
    choice is answering every question). A model's ``guess`` then never does.
    """
    if guess and negation:
        choices = [c for c in choices if c.safe]
        if not choices:
            return None
    order = {s: i for i, s in enumerate(lexicon.priority)}
    ranked = lexicon.rank(scores)
    risky_allowed = not negation and _risky_allowed(scores, ranked, lexicon)
    direct = {c.id: scores.get(c.strategy, 0.0) + keyword_scores.get(c.id, 0.0) for c in choices}
    best = max(direct.values())
    if best > 0:
        tied = [c for c in choices if direct[c.id] == best]
        tied.sort(key=lambda c: order.get(c.strategy, len(order)))
        if tied[0].safe or best >= STRONG or risky_allowed:
            return str(tied[0].id)
        # only a vague risky word ("ok she tells her mum" on a step with no
        # grown-up choice): not enough to call the answer risky
    by_strategy = {c.strategy: c for c in choices}
    for sid in ranked:
        for other in lexicon.strategies[sid].fallback:
            choice = by_strategy.get(other)
            if choice is not None and (choice.safe or risky_allowed):
                return str(choice.id)
    for sid in ranked:
        side = lexicon.strategies[sid].safe
        same_side = [c for c in choices if c.safe == side]
        if len(same_side) == 1 and (side or risky_allowed):
            return str(same_side[0].id)
    return None


@dataclass(frozen=True)
class RehearsalReading:
    category: str | None  # one of REHEARSAL_CATEGORIES, or None when unclear
    unsure: bool
    strategies: tuple[str, ...]


def read_rehearsal(
    text: str, lexicon: Lexicon | None = None, *, use_model: bool = True
) -> RehearsalReading:
    """How a child's practice reply to the manipulator works (see strategies.yml)."""
    lexicon = lexicon or load_lexicon()
    analysis = analyse(text, lexicon, use_model=use_model)
    scores = analysis.scores
    ranked = lexicon.rank(scores)
    rated = [s for s in ranked if lexicon.strategies[s].rehearsal is not None]
    risky = [s for s in rated if lexicon.strategies[s].rehearsal == "risky"]
    if risky and scores[risky[0]] >= STRONG:
        return RehearsalReading("risky", analysis.unsure, tuple(ranked))
    if analysis.negation:
        # a vague risky word under a negation ("i won't keep it a secret") is
        # not a risky reply: judge the rest, or ask again
        rated = [s for s in rated if s not in risky]
    # Several clear moves ("no, I'm telling my mum and blocking you"): the
    # strongest one by ``priority``; otherwise the best score.
    order = {s: i for i, s in enumerate(lexicon.priority)}
    strong = sorted((s for s in rated if scores[s] >= STRONG), key=lambda s: order[s])
    best = strong[0] if strong else (rated[0] if rated else None)
    category = lexicon.strategies[best].rehearsal if best else None
    return RehearsalReading(category, analysis.unsure, tuple(ranked))
