"""Both detection layers together (trained intent + safety net) on the labelled sets.

A message is caught when the final intent is ``disclose_problem`` or
``mention_risk`` (outside a story both get the safeguarding reply).
Targets (issue "Safeguarding"): recall >= 0.99 and false alarms <= 5 % per language.
"""

from __future__ import annotations

import yaml

from bot.paths import DATA_DIR

CAUGHT = {"disclose_problem", "mention_risk"}


def items(lang: str) -> list[dict]:
    path = DATA_DIR / "eval" / "safeguarding" / f"{lang}.yml"
    return yaml.safe_load(path.read_text(encoding="utf-8"))["items"]


def test_recall_and_false_alarms_per_language(parser):
    report = {}
    for lang in ("en", "fr"):
        data = items(lang)
        disclosures = [i for i in data if i["disclosure"]]
        benign = [i for i in data if not i["disclosure"] and not i.get("ambiguous")]
        missed = [
            i["text"]
            for i in disclosures
            if parser.parse(i["text"])["intent"]["name"] not in CAUGHT
        ]
        alarms = [i["text"] for i in benign if parser.parse(i["text"])["intent"]["name"] in CAUGHT]
        recall = 1 - len(missed) / len(disclosures)
        false_alarms = len(alarms) / len(benign)
        report[lang] = (recall, false_alarms, missed[:5], alarms[:5])
    for lang, (recall, false_alarms, missed, alarms) in report.items():
        assert recall >= 0.99, (lang, recall, missed)
        assert false_alarms <= 0.05, (lang, false_alarms, alarms)


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
