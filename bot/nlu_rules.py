"""Rules applied to every typed message inside the Rasa server, after the
intent classifier (see ``addons/nlu.py``). Plain Python so it is tested alone.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import yaml

from bot import helplines
from bot.language import detect, reply_language, switch_request
from bot.language import valid as valid_language
from bot.normalise import normalise
from bot.paths import DATA_DIR

if TYPE_CHECKING:
    from bot.safeguarding.screen import Screening

# Metadata key under which the REST channel passes the conversation's language
# slots to the NLU (the NLU cannot read the tracker itself).
STATE_KEY = "lumi_state"
STATE_SLOTS = (
    "language",
    "language_locked",
    "detected_language",
    "mode",
    "safeguard_level",
    "safeguard_topic",
)
DISCLOSE = "disclose_problem"
MENTION = "mention_risk"
FALLBACK = "nlu_fallback"
# When the safety net finds nothing, the trained classifier's disclose_problem
# or mention_risk counts only at this confidence (docs/safeguarding.md).
CLASSIFIER_ONLY_CONFIDENCE = 0.9
# Activities where what the child types is play: an answer inside a story,
# the sentence practised for a trusted adult.
PLAYING_MODES = frozenset({"story", "rehearsal"})
# The conversation after a disclosure: what the child says next is part of it.
SUPPORT_MODE = "support"
SELF_HARM_TOPICS = frozenset({"self_harm", "self_harm_sextortion"})


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
    classifier_only_confidence: float = CLASSIFIER_ONLY_CONFIDENCE,
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

    # Inside a story or a rehearsal the child is playing: the trained classifier
    # cannot tell an answer ("i'd tell my mum", "he downloads telegram") from
    # real life, so there the net decides alone (it reads story framing).
    mode = state.get("mode")
    screening = screen(text)
    result.intent, level = combine(
        screening,
        intent,
        confidence,
        ranking,
        min_confidence,
        classifier_only_confidence,
        mode=mode if isinstance(mode, str) else None,
    )
    if level:
        from bot.safeguarding.topics import topic_of

        topic = topic_of(screening.categories)
        result.entities["safeguard_level"] = level
        result.entities["safeguard_topic"] = topic
        if (
            mode == SUPPORT_MODE
            and result.intent in (DISCLOSE, MENTION, None)
            and not rises(state, level, topic)
        ):
            # Already in the conversation after a disclosure: the support
            # handler answers this in context (the entities say it was flagged).
            result.intent = FALLBACK
    return result


def rises(state: dict[str, Any], level: str, topic: str) -> bool:
    """A new disclosure that needs the full reply again although the child is
    already in support: the level rises to danger, or self-harm comes up."""
    if level == "danger" and state.get("safeguard_level") != "danger":
        return True
    return topic in SELF_HARM_TOPICS and state.get("safeguard_topic") not in SELF_HARM_TOPICS


def combine(
    screening: Screening,
    intent: str,
    confidence: float,
    ranking: list[tuple[str, float]],
    min_confidence: float = 0.3,
    classifier_only_confidence: float = CLASSIFIER_ONLY_CONFIDENCE,
    *,
    mode: str | None = None,
) -> tuple[str | None, str | None]:
    """The two detection layers together: the intent that overrides the
    classifier's (None: keep it) and the safeguarding level (None: no concern).

    1. The net flags the text: a disclosure when it reads it as the child's
       own life, else a mention (in a story: "is this happening to you?";
       elsewhere the same safeguarding reply). The net decides "personal":
       the classifier cannot tell a story character from the child. In the
       trusted-adult rehearsal (``mode`` "rehearsal", right after a
       safeguarding reply) the child practises the very sentence that tells
       the problem: only danger interrupts it again.
    2. The net finds nothing and reads the text as harmless (a lesson
       question, advice, an idiom, a story answer): the classifier's
       disclose_problem / mention_risk is set aside.
    3. The net finds nothing: the classifier alone counts when it is sure
       (``classifier_only_confidence``): it still over-reads first-person
       sentences. Never inside a story or a rehearsal (``PLAYING_MODES``),
       where it cannot tell the child's answers from real life.
    A classifier risk intent that is set aside becomes, in an activity,
    ``nlu_fallback`` (the activity reads the text), elsewhere the best other
    intent it ranked (or ``nlu_fallback``).

    Pure, so that scripts/eval_safeguarding.py can measure each layer alone
    (``combine(NOTHING, ...)`` is the trained classifier alone)."""
    playing = mode in PLAYING_MODES
    if screening.flagged:
        if mode == "rehearsal" and screening.level != "danger":
            return FALLBACK, None
        return (DISCLOSE if screening.personal else MENTION), screening.level or "concern"
    risky = _classifier_risk(intent, confidence, ranking, min_confidence)
    if risky is None:
        return None, None
    name, sure = risky
    if screening.harmless or playing or sure < classifier_only_confidence:
        return (FALLBACK if playing else _best_other(ranking, min_confidence)), None
    if name == DISCLOSE:
        return (None if intent == DISCLOSE else DISCLOSE), "concern"
    return None, "concern"


def _classifier_risk(
    intent: str, confidence: float, ranking: list[tuple[str, float]], min_confidence: float
) -> tuple[str, float] | None:
    """The risk intent the classifier chose (also under the fallback
    threshold, for disclose_problem) and its confidence, or None."""
    if intent in (DISCLOSE, MENTION):
        return intent, confidence
    if _classifier_says_disclosure(intent, confidence, ranking, min_confidence):
        ranked = [(name, conf) for name, conf in ranking if name != FALLBACK]
        return DISCLOSE, ranked[0][1]
    return None


def _best_other(ranking: list[tuple[str, float]], min_confidence: float) -> str:
    """The classifier's best intent that is not a risk intent, if it is sure enough."""
    for name, conf in ranking:
        if name not in (DISCLOSE, MENTION, FALLBACK):
            return name if conf >= min_confidence else FALLBACK
    return FALLBACK
