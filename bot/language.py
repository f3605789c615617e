"""Which language a child writes in, and which one the reply must use.

Detection is offline: a lexicon of chat words checked first (statistical
detectors miss "jsp", "slt", "idk"), then lingua restricted to English and
French. When those two leave a message undecided, a small classifier trained on
children's own messages (every example of ``data/nlu/en`` and ``data/nlu/fr``,
plus the lexicon) has the last word: character n-grams and the multilingual
sentence embedding (``bot.semantic``) side by side, so "ouep", "wé" or "bof"
read as French. Lexicon entries of several words ("ah bon", "ça joue") match
as phrases; a ``neutral`` word never counts for either language, and "c" before
a word ("c nul", "c long") is French "c'est" unless it is English "see" ("c u").
A message with no clear signal ("ok", "lol", an emoji, the
``neutral`` words of the lexicon) gives ``None``: the conversation keeps its
previous language, and with none yet the browser's language is used
(:func:`reply_language`).
"""

from __future__ import annotations

import functools
import hashlib
import logging
import math
import re
import threading
from pathlib import Path
from typing import Any

import yaml

from bot.normalise import normalise, words
from bot.paths import DATA_DIR, MODELS_DIR
from bot.text import DEFAULT_LANGUAGE, LANGUAGES

log = logging.getLogger(__name__)

_ACCENTED_FR = re.compile(r"[éèêëàâçùûîïôœ]")
# French "je" glued to the next word, as children type it: jveux, jsuis, jlui,
# jpeux, jai, jaime, jen, jetais... (English words starting with j + consonant
# are rare: "jk" is the one left out).
_FR_J_CONTRACTION = re.compile(
    r"^j(?!k$)([bcdfghlmnpqrstvwxz][a-z]*"
    r"|ai|aime|aimes|aimais|en|y|etais|avais|arrive|attends|ecoute|essaie|essaye"
    r"|habite|adore|oue|ouais|hesite|envoie|accepte|appelle|allais|irai|aurais|etait)$"
)
# French "c'est" typed as "c" before the next word: "c nul", "c long", "c bon".
# In English chat "c" is "see": "c u", "c ya", "c you later".
_EN_AFTER_C = frozenset({"u", "ya", "yah", "ye", "you", "ur", "yu", "yall"})
_lock = threading.Lock()

# How much one lexicon word weighs against lingua's log-odds.
LEXICON_WEIGHT = 1.5
# Below this absolute score a message says nothing clear about its language.
DECISION_MARGIN = 0.75
# Longest message (in words) read as a request to switch language.
SWITCH_MAX_WORDS = 7
# The classifier decides an undecided message only when this sure (P(fr) >= 0.8
# or <= 0.2); in between the message says nothing clear.
CLASSIFIER_CONFIDENCE = 0.8
# The classifier's files (trained by ``bot/build.py`` when its data changed).
MODEL_DIR = MODELS_DIR / "language"
MODEL_FILE = "model.joblib"
MODEL_VERSION = "1"
NLU_DIR = DATA_DIR / "nlu"


@functools.lru_cache(maxsize=1)
def _lexicon() -> dict[str, frozenset[Any]]:
    raw = yaml.safe_load((DATA_DIR / "language" / "lexicon.yml").read_text(encoding="utf-8"))
    for part in (*LANGUAGES, "neutral"):
        bad = [w for w in raw.get(part) or [] if not isinstance(w, str)]
        if bad:  # YAML reads yes, no, on, off, true, false as booleans
            raise ValueError(f"lexicon.yml: quote these {part} words: {bad}")
    fr, fr_phrases = _entries(raw["fr"])
    en, en_phrases = _entries(raw["en"])
    neutral = frozenset(normalise(w) for w in raw.get("neutral") or [])
    return {
        "fr": fr - en,
        "en": en - fr,
        "neutral": neutral,
        "fr_phrases": fr_phrases - en_phrases,
        "en_phrases": en_phrases - fr_phrases,
    }


def _entries(items: list[str]) -> tuple[frozenset[str], frozenset[tuple[str, ...]]]:
    """Single words and phrases of one language's lexicon. An entry of several
    words ("ah bon", "ça joue", "peut-être", "c'est parti") is a phrase, matched
    as consecutive words; an entry that is not made of whole words ("a+") is
    ignored."""
    single: set[str] = set()
    phrases: set[tuple[str, ...]] = set()
    for item in items:
        norm = normalise(item)
        tokens = tuple(words(norm))
        if len(tokens) > 1:
            phrases.add(tokens)
        elif tokens == (norm,):
            single.add(norm)
    return frozenset(single), frozenset(phrases)


def _phrases_in(tokens: list[str], phrases: frozenset[tuple[str, ...]]) -> int:
    """How many of ``phrases`` occur in ``tokens`` as consecutive words.

    The text's n-grams of the phrases' lengths, intersected with the phrases:
    one pass over the text per length, not one per phrase.
    """
    sizes = {len(phrase) for phrase in phrases}
    grams = {tuple(tokens[i : i + size]) for size in sizes for i in range(len(tokens) - size + 1)}
    return len(phrases & grams)


@functools.lru_cache(maxsize=1)
def _switch_patterns() -> dict[str, list[re.Pattern[str]]]:
    raw = yaml.safe_load((DATA_DIR / "language" / "switch.yml").read_text(encoding="utf-8"))
    return {lang: [re.compile(p) for p in raw[lang]] for lang in LANGUAGES}


_detector: Any = None


def _lingua() -> Any:
    """Lingua's detector for English and French, built on first use."""
    global _detector
    if _detector is None:
        with _lock:
            if _detector is None:
                from lingua import Language, LanguageDetectorBuilder

                _detector = LanguageDetectorBuilder.from_languages(
                    Language.ENGLISH, Language.FRENCH
                ).build()
    return _detector


def warm_up() -> None:
    """Load lexicon and models now (called at server start, not at import)."""
    _lexicon()
    _switch_patterns()
    _lingua().compute_language_confidence_values("bonjour hello")
    _classifier()


# --------------------------------------------------------------------------- classifier


def _nlu_texts(lang: str, nlu_dir: Path) -> list[str]:
    """The example texts of ``data/nlu/<lang>/*.yml`` (entity markup removed)."""
    texts: list[str] = []
    for path in sorted((nlu_dir / lang).glob("*.yml")):
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for item in raw.get("nlu") or []:
            for line in str(item.get("examples") or "").splitlines():
                text = _ENTITY.sub(r"\1", line.strip().removeprefix("- ").strip())
                if text and not text.startswith("/"):
                    texts.append(text)
    return texts


_ENTITY = re.compile(r"\[([^\]]*)\](?:\([^)]*\)|\{[^}]*\})")


def _classifier_inputs(nlu_dir: Path = NLU_DIR) -> list[Path]:
    return [*sorted(nlu_dir.glob("*/*.yml")), DATA_DIR / "language" / "lexicon.yml"]


def _fingerprint(nlu_dir: Path = NLU_DIR) -> str:
    digest = hashlib.sha256(f"language-v{MODEL_VERSION}".encode())
    for path in _classifier_inputs(nlu_dir):
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def _informative(norm: str) -> bool:
    """Whether a normalised message has a word that is not neutral ("ok", "lol")."""
    neutral = _lexicon()["neutral"]
    return any(token not in neutral and not token.isdigit() for token in words(norm))


def build_classifier(nlu_dir: Path = NLU_DIR) -> dict[str, Any]:
    """Train the undecided-message classifier: char n-grams and sentence
    embeddings of children's messages in each language, two logistic regressions."""
    import numpy as np
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    from bot import semantic

    lex = _lexicon()
    texts: list[str] = []
    labels: list[int] = []
    for label, lang in enumerate(("en", "fr")):
        phrases = sorted(" ".join(phrase) for phrase in lex[f"{lang}_phrases"])
        for text in [*_nlu_texts(lang, nlu_dir), *sorted(lex[lang]), *phrases]:
            norm = normalise(text)
            if _informative(norm):
                texts.append(norm)
                labels.append(label)
    y = np.array(labels)
    chars = TfidfVectorizer(analyzer="char_wb", ngram_range=(1, 4), sublinear_tf=True)
    by_chars = LogisticRegression(C=10.0, max_iter=2000).fit(chars.fit_transform(texts), y)
    by_meaning = LogisticRegression(C=10.0, max_iter=2000).fit(semantic.embed(texts), y)
    return {
        "fingerprint": _fingerprint(nlu_dir),
        "chars": chars,
        "by_chars": by_chars,
        "by_meaning": by_meaning,
        "examples": len(texts),
    }


def train_classifier(force: bool = False, model_dir: Path | None = None) -> Path:
    """Train into ``models/language/`` unless its fingerprint is current."""
    import joblib

    model_dir = model_dir or MODEL_DIR
    path = model_dir / MODEL_FILE
    if not force and _stored_fingerprint(path) == _fingerprint():
        return path
    model = build_classifier()
    model_dir.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    joblib.dump(model, tmp)
    tmp.replace(path)
    log.info("language classifier trained on %d messages", model["examples"])
    return path


def _stored_fingerprint(path: Path) -> str | None:
    import joblib

    try:
        stored = joblib.load(path)
    except Exception:  # missing, unreadable or from another version: retrain
        return None
    return stored.get("fingerprint") if isinstance(stored, dict) else None


_model: dict[str, Any] | None = None


def _classifier() -> dict[str, Any]:
    """The classifier, loaded (or trained, in memory if ``models/`` is read-only) once."""
    global _model
    if _model is None:
        with _lock:
            if _model is None:
                try:
                    import joblib

                    _model = joblib.load(train_classifier())
                except OSError:
                    log.warning("language model directory not writable; training in memory")
                    _model = build_classifier()
    return _model


def french_probability(text: str) -> float:
    """The classifier's probability that ``text`` is French (0.5 when it has no
    informative word)."""
    from bot import semantic

    norm = normalise(text)
    if not _informative(norm):
        return 0.5
    model = _classifier()
    by_chars = model["by_chars"].predict_proba(model["chars"].transform([norm]))[0, 1]
    by_meaning = model["by_meaning"].predict_proba(semantic.embed([norm]))[0, 1]
    return float(by_chars + by_meaning) / 2


def _french_word(word: str, following: str | None, french: frozenset[str]) -> bool:
    """A lexicon word, a "j" contraction ("jveux") or "c" for "c'est" ("c nul")."""
    if word == "c":
        return following is not None and following not in _EN_AFTER_C
    return word in french or bool(_FR_J_CONTRACTION.match(word))


def score(text: str) -> float:
    """Positive for French, negative for English, near 0 when unclear."""
    norm = normalise(text)
    tokens = words(norm)
    if not tokens:
        return 0.0
    lex = _lexicon()
    total = 0.0
    if len(tokens) > 1:
        total += LEXICON_WEIGHT * _phrases_in(tokens, lex["fr_phrases"])
        total -= LEXICON_WEIGHT * _phrases_in(tokens, lex["en_phrases"])
    if not total and not _informative(norm):  # "ok go", "lol ok": only neutral words
        return 0.0
    for i, word in enumerate(tokens):
        if word in lex["neutral"]:  # "ok", "super", "cool", "hello": said in both
            continue
        following = tokens[i + 1] if i + 1 < len(tokens) else None
        if _french_word(word, following, lex["fr"]):
            total += LEXICON_WEIGHT
        elif word in lex["en"]:
            total -= LEXICON_WEIGHT
    if _ACCENTED_FR.search(text.lower()):
        total += LEXICON_WEIGHT
    values = _lingua().compute_language_confidence_values(norm)
    fr = next((v.value for v in values if v.language.iso_code_639_1.name == "FR"), 0.5)
    fr = min(max(fr, 1e-4), 1 - 1e-4)
    # lingua is little help on one or two words: weigh it by length.
    weight = min(1.0, len(tokens) / 4)
    total += weight * math.log(fr / (1 - fr))
    return total


def detect(text: str) -> str | None:
    """``"en"``, ``"fr"`` or ``None`` when the text gives no clear signal."""
    if not text or text.lstrip().startswith("/"):
        return None
    value = score(text[:2000])
    if value >= DECISION_MARGIN:
        return "fr"
    if value <= -DECISION_MARGIN:
        return "en"
    french = french_probability(text[:2000])
    if french >= CLASSIFIER_CONFIDENCE:
        return "fr"
    if french <= 1 - CLASSIFIER_CONFIDENCE:
        return "en"
    return None


def switch_request(text: str) -> str | None:
    """The language a child asks for ("en français stp" -> ``"fr"``), if any."""
    norm = normalise(text)
    if not norm or len(words(norm)) > SWITCH_MAX_WORDS:
        return None
    for lang, patterns in _switch_patterns().items():
        if any(p.search(norm) for p in patterns):
            return lang
    return None


def valid(lang: Any) -> str | None:
    return lang if isinstance(lang, str) and lang in LANGUAGES else None


def reply_language(
    *, locked: bool, chosen: Any, detected: Any, metadata: dict[str, Any] | None = None
) -> str:
    """The language of the reply.

    An explicit choice wins (request metadata ``language``, then a choice the
    child made); otherwise the language the child last wrote in (this message,
    else the conversation so far); otherwise the browser's language (request
    metadata ``browser_language``, a hint that never overrides anything);
    otherwise English. ``bot.domain_gen`` encodes the same order as response
    conditions so that domain responses agree with actions.
    """
    meta = metadata or {}
    explicit = valid(meta.get("language"))
    if explicit:
        return explicit
    if locked and valid(chosen):
        return str(chosen)
    return (
        valid(detected) or valid(meta.get("browser_language")) or valid(chosen) or DEFAULT_LANGUAGE
    )
