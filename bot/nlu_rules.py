"""Rules applied to every typed message inside the Rasa server, after the
intent classifier (see ``addons/nlu.py``). Plain Python so it is tested alone.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import yaml

from bot import helplines
from bot.language import detect, reply_language, switch_request
from bot.language import valid as valid_language
from bot.normalise import normalise
from bot.paths import DATA_DIR

if TYPE_CHECKING:
    from bot.safeguarding.meaning import Reading
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
    "safeguard_memory",
)
DISCLOSE = "disclose_problem"
# The trained intents that say "a disclosure" (one per kind, so the classifier
# learns coherent classes; bot/safeguarding/meaning.py): every message of one
# of them is routed as ``disclose_problem`` or set aside.
DISCLOSE_INTENTS = frozenset(
    {
        DISCLOSE,
        "disclose_online",
        "disclose_sextortion",
        "disclose_self_harm",
        "disclose_meeting",
        "disclose_violence",
        "disclose_abuse",
        "disclose_worry",
    }
)
ANNOUNCE = "announce_problem"
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


@dataclass(frozen=True)
class Bars:
    """Where the layers' figures count (probabilities of the disclosure reader,
    bot/safeguarding/meaning.py; confidences of the trained intent). Chosen on
    the development sets and cross-validation, never on the blind sets
    (scripts/tune_safeguarding.py, docs/safeguarding.md)."""

    # the reader alone flags a message
    reader_sure: float = 0.95
    # the reader flags when the trained intent agrees (a risk intent ranked first)
    reader_with_intent: float = 0.5
    # the same inside a story or the rehearsal, where answers name the tricks
    reader_with_intent_in_play: float = 0.6
    # the trained intent agrees at this confidence
    intent_agrees: float = 0.5
    # a piece that completes a disclosure told over several messages: this
    # message at least ``reader_piece``, with the earlier ones at least ``context``
    reader_piece: float = 0.25
    context: float = 0.7
    # danger when this share of what the reader reads as a disclosure is danger
    danger_share: float = 0.5
    # the reader overrides the net's "harmless" (a lesson question, an idiom...)
    over_harmless: float = 0.9
    # below this the trained intent alone does not count
    reader_doubts_intent: float = 0.5


BARS = Bars()


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
    if intent in DISCLOSE_INTENTS:
        return True
    if intent == FALLBACK:
        ranked = [(name, conf) for name, conf in ranking if name != FALLBACK]
        return bool(ranked) and ranked[0][0] in DISCLOSE_INTENTS and ranked[0][1] >= min_confidence
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
    reading: Any = None,
) -> Annotation:
    """What to add to a typed message: entities, and an intent that overrides the classifier.

    ``reading`` is what the disclosure reader left on the message
    (``addons/semantic.py``), or None when it did not run."""
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

    from bot.safeguarding import memory
    from bot.safeguarding.meaning import NOTHING as READ_NOTHING
    from bot.safeguarding.meaning import Reading
    from bot.safeguarding.screen import screen
    from bot.safeguarding.topics import topic_of

    mode = state.get("mode")
    mode = mode if isinstance(mode, str) else None
    screening = screen(text)
    earlier = memory.decode(state.get("safeguard_memory"))
    read = Reading.from_dict(reading)
    decision = decide(
        screening,
        intent,
        confidence,
        ranking,
        min_confidence,
        classifier_only_confidence,
        mode=mode,
        reading=read,
        earlier=[e.evidence for e in memory.unflagged(earlier)],
        # after a disclosure: every remembered message counts for what makes it worse
        answered=[e.evidence for e in earlier] if any(e.flagged for e in earlier) else [],
    )
    result.intent = decision.intent
    if read is not None or earlier:
        result.entities["safeguard_memory"] = memory.remember(
            earlier, read or READ_NOTHING, decision.level is not None
        )
    if decision.level:
        topic = topic_of(decision.categories)
        result.entities["safeguard_level"] = decision.level
        result.entities["safeguard_topic"] = topic
        if (
            mode == SUPPORT_MODE
            and result.intent in (DISCLOSE, MENTION, None)
            and not rises(state, decision.level, topic)
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


@dataclass(frozen=True)
class Decision:
    """What the layers together make of a message."""

    intent: str | None  # the intent that overrides the classifier's (None: keep it)
    level: str | None  # None: not a disclosure
    categories: tuple[str, ...] = ()  # the net's categories and the reader's class


# The reader's class as a safety-net category (for the reply's topic).
_READER_CATEGORY = {
    "sextortion": "sextortion",
    "self_harm": "self_harm",
    "meeting": "meeting",
    "violence": "intruder",
    "abuse": "abuse",
    "worry": "worry",
}


def decide(
    screening: Screening,
    intent: str,
    confidence: float,
    ranking: list[tuple[str, float]],
    min_confidence: float = 0.3,
    classifier_only_confidence: float = CLASSIFIER_ONLY_CONFIDENCE,
    *,
    mode: str | None = None,
    reading: Reading | None = None,
    earlier: Sequence[float] = (),
    answered: Sequence[float] = (),
    bars: Bars = BARS,
) -> Decision:
    """The three layers together: the safety net (words), the disclosure reader
    (meaning, with the evidence of the last few messages) and the trained intent.

    1. A message is a disclosure when the net flags it; or the reader is sure
       (``reader_sure``); or the reader says so at ``reader_with_intent``
       (``..._in_play`` inside a story or the rehearsal) and the trained
       intent agrees; or the reader reads it as the piece that completes a
       disclosure told over several messages (``reader_piece``, ``context``:
       ``earlier`` holds the evidence since the last message answered as a
       disclosure); or, outside play, it reads this message as danger and,
       with the remembered messages once one of them was answered as a
       disclosure (``answered``), as the piece that makes it worse ("i sent a
       pic to someone" / "now he wants 100 pounds"); or, outside play, the
       trained intent alone is sure
       (``classifier_only_confidence``) and neither the net nor the reader
       says it is harmless.
    2. Personal (the child's own life) when the net says so, or when the
       reader reads a real-life disclosure more than a sentence about someone
       else (in play, not when the net read the words as about someone else
       and the reader is not sure); otherwise a mention (in a story: "is this
       happening to you?").
    3. The level is danger when the net says so (sextortion, self-harm, abuse
       and someone coming are always danger there: data/safeguarding/patterns.yml),
       or most of what the reader reads as a disclosure is one of its danger
       classes.
    In the trusted-adult rehearsal only danger interrupts the practice."""
    from bot.safeguarding.meaning import NOTHING as READ_NOTHING

    playing = mode in PLAYING_MODES
    read = reading or READ_NOTHING
    ranked = [(name, conf) for name, conf in ranking if name != FALLBACK]
    intent_agrees = bool(ranked) and (ranked[0][0] in DISCLOSE_INTENTS or ranked[0][0] == MENTION)
    intent_agrees = intent_agrees and ranked[0][1] >= bars.intent_agrees
    with_intent = bars.reader_with_intent_in_play if playing else bars.reader_with_intent
    reader_flags = (
        read.disclosure >= bars.reader_sure
        or (intent_agrees and read.disclosure >= with_intent)
        or (
            bool(earlier)
            and read.disclosure >= bars.reader_piece
            and memory_context(read.disclosure, earlier) >= bars.context
        )
        or (
            not playing
            and bool(answered)
            and read.disclosure >= bars.reader_piece
            and read.danger >= bars.danger_share * read.disclosure
            and memory_context(read.disclosure, answered) >= bars.context
        )
    )
    if screening.harmless and read.disclosure < bars.over_harmless:
        reader_flags = False
    real_life = reader_flags and read.disclosure > read.mention
    reader_danger = reader_flags and read.danger >= bars.danger_share * read.disclosure
    categories = list(screening.categories)
    if reader_flags and read.category in _READER_CATEGORY:
        categories.append(_READER_CATEGORY[read.category])

    if screening.flagged or reader_flags:
        level = "danger" if screening.level == "danger" or reader_danger else "concern"
        if mode == "rehearsal" and level != "danger":
            return Decision(FALLBACK, None)
        # In play, words the net found about someone else (no "me", "my") are
        # the story's character unless the reader is sure: the child is asked
        # "is this happening to you?" rather than told the story is real.
        about_character = (
            playing
            and screening.flagged
            and not screening.personal
            and read.disclosure < bars.reader_sure
        )
        personal = (screening.flagged and screening.personal) or (real_life and not about_character)
        return Decision(DISCLOSE if personal else MENTION, level, tuple(categories))
    risky = _classifier_risk(intent, confidence, ranking, min_confidence)
    if risky is None:
        return Decision(None, None)
    name, sure = risky
    harmless = screening.harmless or (
        reading is not None and read.disclosure < bars.reader_doubts_intent
    )
    if harmless or playing or sure < classifier_only_confidence:
        return Decision(FALLBACK if playing else _best_other(ranking, min_confidence), None)
    if name == DISCLOSE:
        return Decision(None if intent == DISCLOSE else DISCLOSE, "concern")
    return Decision(None, "concern")  # a sure mention_risk


def memory_context(probability: float, earlier: Sequence[float]) -> float:
    from bot.safeguarding.memory import in_context

    return in_context(probability, earlier)


def combine(
    screening: Screening,
    intent: str,
    confidence: float,
    ranking: list[tuple[str, float]],
    min_confidence: float = 0.3,
    classifier_only_confidence: float = CLASSIFIER_ONLY_CONFIDENCE,
    *,
    mode: str | None = None,
    reading: Reading | None = None,
) -> tuple[str | None, str | None]:
    """``decide`` as (intent, level): what scripts/eval_safeguarding.py measures
    layer by layer (``combine(NOTHING, ...)`` is the trained intent alone)."""
    decision = decide(
        screening,
        intent,
        confidence,
        ranking,
        min_confidence,
        classifier_only_confidence,
        mode=mode,
        reading=reading,
    )
    return decision.intent, decision.level


def _classifier_risk(
    intent: str, confidence: float, ranking: list[tuple[str, float]], min_confidence: float
) -> tuple[str, float] | None:
    """The risk intent the classifier chose (also under the fallback
    threshold, for disclose_problem) and its confidence, or None."""
    if intent == MENTION:
        return intent, confidence
    if intent in DISCLOSE_INTENTS:
        return DISCLOSE, confidence
    if _classifier_says_disclosure(intent, confidence, ranking, min_confidence):
        ranked = [(name, conf) for name, conf in ranking if name != FALLBACK]
        return DISCLOSE, ranked[0][1]
    return None


def _best_other(ranking: list[tuple[str, float]], min_confidence: float) -> str:
    """The classifier's best intent that is not a risk intent, if it is sure enough."""
    for name, conf in ranking:
        if name not in DISCLOSE_INTENTS and name not in (MENTION, FALLBACK):
            return name if conf >= min_confidence else FALLBACK
    return FALLBACK
