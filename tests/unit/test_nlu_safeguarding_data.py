"""The safeguarding training data (data/nlu/*/disclose_*.yml and the look-alike
files): each file carries its source note, every disclosure block names one of
the disclosure reader's classes (bot.safeguarding.meaning, which learns them)
and its level, both languages reach the agreed count in every class, and no
sentence sits in two intents once normalised (``rasa data validate`` only sees
exact repeats)."""

from __future__ import annotations

import re
from collections import defaultdict
from pathlib import Path

import pytest
import yaml

from bot.normalise import normalise
from bot.paths import DATA_DIR
from bot.safeguarding.meaning import ANNOUNCE_INTENT, DANGER_CLASSES, DISCLOSURE_CLASSES
from bot.safeguarding.topics import TOPICS

NLU = DATA_DIR / "nlu"
LANGS = ("en", "fr")

# Minimum examples per language for each of the disclosure reader's classes
# (bot.safeguarding.meaning); danger classes are labelled level danger.
MINIMUM = {
    "sextortion": 150,
    "self_harm": 150,
    "meeting": 80,
    "violence": 80,
    "abuse": 80,
    "online": 250,
    "worry": 100,
}
# file stem -> (intent, minimum examples per language)
NEW_FILES = {
    "disclose_sextortion": ("disclose_sextortion", 150),
    "disclose_self_harm": ("disclose_self_harm", 150),
    "disclose_meeting": ("disclose_meeting", 80),
    "disclose_violence": ("disclose_violence", 80),
    "disclose_abuse": ("disclose_abuse", 80),
    "disclose_online": ("disclose_online", 250),
    "disclose_worry": ("disclose_worry", 100),
    "disclose_fragments": ("by category", 80),
    "share_everyday_lookalikes": ("share_everyday", 250),
    "share_everyday_lookalikes2": ("share_everyday", 250),
    "share_everyday_lookalikes3": ("share_everyday", 50),
    "choose_action_lookalikes": ("choose_action", 150),
    "ask_help_safety_questions": ("ask_help", 40),
}
# the source note names where the sentences did not come from
SOURCE_NOTE = re.compile(r"data/eval/.*tests/data/", re.S)


def blocks(path: Path) -> list[dict]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    return [block for block in data.get("nlu", []) if "intent" in block]


def examples(block: dict) -> list[str]:
    lines = block["examples"].splitlines()
    return [line.strip()[2:].strip() for line in lines if line.strip().startswith("- ")]


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("stem", sorted(NEW_FILES))
def test_each_file_has_its_source_note_and_its_count(lang, stem):
    path = NLU / lang / f"{stem}.yml"
    text = path.read_text(encoding="utf-8")
    assert text.startswith('version: "3.1"\n#'), path
    note = text.split("\nnlu:", 1)[0]
    assert SOURCE_NOTE.search(note), f"{path}: the source note must say it was not copied"
    intent, minimum = NEW_FILES[stem]
    found = blocks(path)
    if intent == "by category":  # pieces: the intent of their kind, or an announcement
        for block in found:
            metadata = block.get("metadata") or {}
            wanted = (
                ANNOUNCE_INTENT if metadata.get("announce") else f"disclose_{metadata['category']}"
            )
            assert block["intent"] == wanted, (path, block["intent"])
    else:
        assert {block["intent"] for block in found} == {intent}, path
    assert sum(len(examples(block)) for block in found) >= minimum, path


@pytest.mark.parametrize("lang", LANGS)
def test_every_disclosure_block_names_a_known_category_and_its_level(lang):
    for stem in NEW_FILES:
        if not stem.startswith("disclose_"):
            continue
        for block in blocks(NLU / lang / f"{stem}.yml"):
            metadata = block.get("metadata") or {}
            category = metadata.get("category")
            assert category in DISCLOSURE_CLASSES, (stem, category)
            level = "danger" if category in DANGER_CLASSES else "concern"
            assert metadata.get("level") == level, (stem, category)
            assert metadata.get("topic", category) in (*TOPICS, *DISCLOSURE_CLASSES), stem
            assert bool(metadata.get("fragment")) == (stem == "disclose_fragments"), stem
            assert not metadata.get("announce") or metadata.get("fragment"), stem


@pytest.mark.parametrize("lang", LANGS)
def test_both_languages_cover_every_category(lang):
    counts: dict[str, int] = defaultdict(int)
    for stem in NEW_FILES:
        if stem.startswith("disclose_"):
            for block in blocks(NLU / lang / f"{stem}.yml"):
                counts[block["metadata"]["category"]] += len(examples(block))
    assert set(MINIMUM) == set(DISCLOSURE_CLASSES)
    for category, minimum in MINIMUM.items():
        assert counts[category] >= minimum, (lang, category, counts[category])


def test_no_sentence_is_in_two_intents_once_normalised():
    intents: dict[str, set[str]] = defaultdict(set)
    where: dict[str, list[str]] = defaultdict(list)
    for lang in LANGS:
        for path in sorted((NLU / lang).glob("*.yml")):
            for block in blocks(path):
                for sentence in examples(block):
                    key = " ".join(re.findall(r"\w+", normalise(sentence)))
                    if key:
                        intents[key].add(block["intent"])
                        where[key].append(f"{lang}/{path.name}")
    clashes = {key: where[key] for key, found in intents.items() if len(found) > 1}
    assert not clashes, clashes


@pytest.mark.parametrize("lang", LANGS)
def test_new_files_repeat_no_sentence(lang):
    seen: dict[str, str] = {}
    repeats = []
    for path in sorted((NLU / lang).glob("*.yml")):
        for block in blocks(path):
            for sentence in examples(block):
                key = " ".join(re.findall(r"\w+", normalise(sentence)))
                if key in seen and (path.stem in NEW_FILES or seen[key] in NEW_FILES):
                    repeats.append((sentence, path.stem, seen[key]))
                seen.setdefault(key, path.stem)
    assert not repeats, repeats
