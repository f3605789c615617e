"""Rules applied to every typed message inside the Rasa server, after the
intent classifier (see ``addons/nlu.py``). Plain Python so it is tested alone.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from typing import Any

import yaml

from bot import helplines
from bot.language import detect, reply_language, switch_request
from bot.language import valid as valid_language
from bot.normalise import normalise
from bot.paths import DATA_DIR

# Metadata key under which the REST channel passes the conversation's language
# slots to the NLU (the NLU cannot read the tracker itself).
STATE_KEY = "lumi_state"
STATE_SLOTS = ("language", "language_locked", "detected_language", "mode")
DISCLOSE = "disclose_problem"
MENTION = "mention_risk"
FALLBACK = "nlu_fallback"


@dataclass
class Annotation:
    intent: str | None = None
    entities: dict[str, str] = field(default_factory=dict)


@functools.lru_cache(maxsize=1)
def quick_exit_words() -> frozenset[str]:
    raw = yaml.safe_load((DATA_DIR / "quick_exit.yml").read_text(encoding="utf-8"))
    return frozenset(normalise(str(w)) for w in raw["words"])


def is_quick_exit(text: str) -> bool:
    return normalise(text).strip(" .!") in quick_exit_words()


def _classifier_says_disclosure(
    intent: str, confidence: float, ranking: list[tuple[str, float]], min_confidence: float
) -> bool:
    if intent == DISCLOSE:
        return True
    if intent == FALLBACK:
        ranked = [(name, conf) for name, conf in ranking if name != FALLBACK]
        return bool(ranked) and ranked[0][0] == DISCLOSE and ranked[0][1] >= min_confidence
    return False


def annotate(
    *,
    text: str,
    metadata: Any,
    intent: str,
    confidence: float,
    ranking: list[tuple[str, float]],
    min_confidence: float = 0.3,
) -> Annotation:
    """What to add to a typed message: entities, and an intent that overrides the classifier."""
    result = Annotation()
    if not text or text.lstrip().startswith("/"):
        return result  # payloads are parsed by Rasa's RegexMessageHandler
    metadata = metadata if isinstance(metadata, dict) else {}
    state = metadata.get(STATE_KEY)
    state = state if isinstance(state, dict) else {}
    # A pasted message (check mode) may be in another language than the child's:
    # it must not change the conversation's language.
    pasted = state.get("mode") == "check"
    lang = valid_language(metadata.get("language")) or (None if pasted else detect(text))
    if lang:
        result.entities["detected_language"] = lang
    # The reply language, decided here in the Rasa server with the same rule as
    # the actions, so that domain responses need no action server.
    result.entities["reply_language"] = reply_language(
        locked=bool(state.get("language_locked")),
        chosen=state.get("language"),
        detected=lang or state.get("detected_language"),
        metadata=metadata,
    )
    country = helplines.known_country(metadata.get("country"))
    if country:
        result.entities["metadata_country"] = country

    if is_quick_exit(text):
        result.intent = "exit"
        return result
    wanted = switch_request(text)
    if wanted:
        result.intent = "set_language"
        result.entities["language"] = wanted
        result.entities["reply_language"] = wanted
        return result

    from bot.safeguarding.screen import screen

    screening = screen(text)
    classifier = _classifier_says_disclosure(intent, confidence, ranking, min_confidence)
    if screening.flagged and (screening.personal or classifier):
        result.intent = DISCLOSE
        result.entities["safeguard_level"] = screening.level or "concern"
    elif screening.flagged:
        result.intent = MENTION
        result.entities["safeguard_level"] = screening.level or "concern"
    elif classifier:
        result.intent = DISCLOSE
        result.entities["safeguard_level"] = "concern"
    elif intent == MENTION:
        result.entities["safeguard_level"] = "concern"
    return result
