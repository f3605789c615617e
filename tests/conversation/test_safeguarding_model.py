"""Both detection layers together (trained intent + safety net) on the labelled sets.

A message is caught when the final intent is ``disclose_problem`` or
``mention_risk`` (outside a story both get the safeguarding reply).
Targets (issue "Safeguarding"): recall >= 0.99 and false alarms <= 5 % per language
on data/eval/safeguarding/{en,fr}.yml.

The blind sets (blind.{en,fr}.yml, written before the share_everyday data and
never tuned on) have floors set just under what the layers reached when they
were measured once at the end (docs/safeguarding.md): they guard against a
regression, they are not the targets.
"""

from __future__ import annotations

import pytest
import yaml

from bot.nlu_rules import STATE_KEY
from bot.paths import DATA_DIR

CAUGHT = {"disclose_problem", "mention_risk"}
# Floors on the blind sets (measured: see docs/safeguarding.md). blind.* was
# read while the patterns of the third round were written, so blind2.* (written
# before that round, never read while tuning) is the honest one.
BLIND_MIN_RECALL = {"blind": {"en": 0.92, "fr": 0.91}, "blind2": {"en": 0.84, "fr": 0.84}}
BLIND_MAX_FALSE_ALARMS = {"blind": {"en": 0.07, "fr": 0.10}, "blind2": {"en": 0.19, "fr": 0.23}}
# The share of answers typed inside a story (data/eval/stories, all benign)
# that may be interrupted, mostly by the gentle "is this happening to you?":
# the false-alarm target, 5 % in every category. (Before the meaning
# layer, only the net's 3 sentences about the character asked.)
STORY_ANSWERS_MAY_ASK = 0.05


def items(lang: str, name: str | None = None) -> list[dict]:
    path = DATA_DIR / "eval" / "safeguarding" / f"{name or lang}.yml"
    return yaml.safe_load(path.read_text(encoding="utf-8"))["items"]


def rates(parser, data: list[dict]) -> tuple[float, float, list[str], list[str]]:
    disclosures = [i for i in data if i["disclosure"]]
    benign = [i for i in data if not i["disclosure"] and not i.get("ambiguous")]
    missed = [
        i["text"] for i in disclosures if parser.parse(i["text"])["intent"]["name"] not in CAUGHT
    ]
    alarms = [i["text"] for i in benign if parser.parse(i["text"])["intent"]["name"] in CAUGHT]
    return 1 - len(missed) / len(disclosures), len(alarms) / len(benign), missed, alarms


def test_recall_and_false_alarms_per_language(parser):
    report = {lang: rates(parser, items(lang)) for lang in ("en", "fr")}
    for lang, (recall, false_alarms, missed, alarms) in report.items():
        assert recall >= 0.99, (lang, recall, missed[:5])
        assert false_alarms <= 0.05, (lang, false_alarms, alarms[:5])


@pytest.mark.parametrize("name", ["blind", "blind2"])
def test_blind_sets_stay_above_their_floors(parser, name):
    report = {lang: rates(parser, items(lang, f"{name}.{lang}")) for lang in ("en", "fr")}
    for lang, (recall, false_alarms, missed, _alarms) in report.items():
        assert recall >= BLIND_MIN_RECALL[name][lang], (name, lang, recall, len(missed))
        assert false_alarms <= BLIND_MAX_FALSE_ALARMS[name][lang], (name, lang, false_alarms)


def test_danger_is_recognised(parser):
    for lang in ("en", "fr"):
        danger = [i for i in items(lang) if i["disclosure"] and i["level"] == "danger"]
        levels = []
        for item in danger:
            entities = parser.parse(item["text"])["entities"]
            levels.append(
                next((e["value"] for e in entities if e["entity"] == "safeguard_level"), None)
            )
        right = sum(level == "danger" for level in levels)
        assert right / len(danger) >= 0.9, (lang, right, len(danger))


def test_story_characters_get_a_question_not_the_full_reply(parser):
    """Typed inside a story, a sentence about the character ("he says he'll show
    everyone her picture") gets "is this happening to you?", not the reply to a
    child's own disclosure. (Outside a story both intents get the safeguarding
    reply, so there the reader may read them as the child's own.)"""
    metadata = {STATE_KEY: {"mode": "story"}}
    for lang in ("en", "fr"):
        story = [i["text"] for i in items(lang) if i.get("ambiguous")]
        intents = {t: parser.parse(t, metadata)["intent"]["name"] for t in story}
        too_strong = [t for t, intent in intents.items() if intent == "disclose_problem"]
        assert too_strong == [], (lang, too_strong)
        asked = [t for t, intent in intents.items() if intent == "mention_risk"]
        assert len(asked) >= 0.9 * len(story), (lang, set(story) - set(asked))


def test_answers_inside_a_story_do_not_interrupt_it(parser):
    stories = DATA_DIR / "eval" / "stories"
    texts: dict[str, list[str]] = {"en": [], "fr": []}
    for path in sorted(stories.glob("*.yml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        texts[data["lang"]] += [i["text"] for i in data["items"]]
    metadata = {STATE_KEY: {"mode": "story"}}
    for lang in ("en", "fr"):
        answers = texts[lang]
        interrupted = [t for t in answers if parser.parse(t, metadata)["intent"]["name"] in CAUGHT]
        assert len(interrupted) <= STORY_ANSWERS_MAY_ASK * len(answers), (lang, interrupted)
