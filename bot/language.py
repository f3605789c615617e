"""Which language a child writes in, and which one the reply must use.

Detection is offline: a lexicon of chat words checked first (statistical
detectors miss "jsp", "slt", "idk"), then lingua restricted to English and
French. A message with no clear signal ("ok", "lol", an emoji) gives ``None``
and the conversation keeps its previous language.
"""

from __future__ import annotations

import functools
import math
import re
import threading
from typing import Any

import yaml

from bot.normalise import normalise, words
from bot.paths import DATA_DIR
from bot.text import DEFAULT_LANGUAGE, LANGUAGES

_ACCENTED_FR = re.compile(r"[éèêëàâçùûîïôœ]")
# French "je" glued to the next word, as children type it: jveux, jsuis, jlui,
# jpeux, jai, jaime, jen, jetais... (English words starting with j + consonant
# are rare: "jk" is the one left out).
_FR_J_CONTRACTION = re.compile(
    r"^j(?!k$)([bcdfghlmnpqrstvwxz][a-z]*"
    r"|ai|aime|aimes|aimais|en|y|etais|avais|arrive|attends|ecoute|essaie|essaye"
    r"|habite|adore|oue|ouais|hesite|envoie|accepte|appelle|allais|irai|aurais|etait)$"
)
_lock = threading.Lock()

# How much one lexicon word weighs against lingua's log-odds.
LEXICON_WEIGHT = 1.5
# Below this absolute score a message says nothing clear about its language.
DECISION_MARGIN = 0.75
# Longest message (in words) read as a request to switch language.
SWITCH_MAX_WORDS = 7


@functools.lru_cache(maxsize=1)
def _lexicon() -> dict[str, frozenset[str]]:
    raw = yaml.safe_load((DATA_DIR / "language" / "lexicon.yml").read_text(encoding="utf-8"))
    for lang in LANGUAGES:
        bad = [w for w in raw[lang] if not isinstance(w, str)]
        if bad:
            raise ValueError(f"lexicon.yml: quote these {lang} words: {bad}")
    fr = frozenset(normalise(w) for w in raw["fr"])
    en = frozenset(normalise(w) for w in raw["en"])
    return {"fr": fr - en, "en": en - fr}


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


def score(text: str) -> float:
    """Positive for French, negative for English, near 0 when unclear."""
    norm = normalise(text)
    tokens = words(norm)
    if not tokens:
        return 0.0
    lex = _lexicon()
    total = 0.0
    for token in tokens:
        if token in lex["fr"] or _FR_J_CONTRACTION.match(token):
            total += LEXICON_WEIGHT
        elif token in lex["en"]:
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

    An explicit choice wins (request metadata, then a choice the child made);
    otherwise the language the child last wrote in; otherwise English.
    ``bot.domain_gen`` encodes the same order as response conditions so that
    domain responses agree with actions.
    """
    meta = valid((metadata or {}).get("language"))
    if meta:
        return meta
    if locked and valid(chosen):
        return str(chosen)
    return valid(detected) or valid(chosen) or DEFAULT_LANGUAGE
