"""Free-text understanding: preparation, negation, choices, rehearsal, measured figures."""

from __future__ import annotations

import importlib.util
from types import ModuleType

import pytest

from bot.paths import ROOT
from bot.stories import understand
from bot.stories.model import get_story

TARGET = 0.9


def _eval_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "eval_stories", ROOT / "scripts" / "eval_stories.py"
    )
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize(
    ("text", "clauses"),
    [
        ("I'd tell my MOM!!", [["i", "d", "tell", "my", "mom"]]),
        ("jlui réponds pa", [["j", "lui", "reponds", "pas"]]),
        ("Non, jenvoie rien", [["non"], ["j", "envoie", "rien"]]),
        (
            "i won't send it and i'll tell my dad",
            [["i", "will", "not", "send", "it"], ["i", "ll", "tell", "my", "dad"]],
        ),
        ("nooooo", [["no"]]),
    ],
)
def test_prepare(text: str, clauses: list[list[str]]) -> None:
    assert understand.prepare(text) == clauses


@pytest.mark.parametrize(
    ("text", "strategy"),
    [
        ("I won't tell my mom", "keep_secret"),
        ("je le dis pas a ma mere", "keep_secret"),
        ("jlui reponds pas", "ignore"),
        ("i wouldn't send it", "refuse"),
        ("nope not going on snap", "refuse"),
        ("je lui donne pas mon adresse", "refuse"),
        ("I'd tell my mum", "tell_adult"),
        ("je le bloque", "block_report"),
    ],
)
def test_negation_changes_the_strategy(text: str, strategy: str) -> None:
    analysis = understand.analyse(text, use_model=False)
    ranked = understand.load_lexicon().rank(analysis.scores)
    assert ranked and ranked[0] == strategy, analysis.scores


@pytest.mark.parametrize("text", ["idk", "jsp", "je sais pas", "i don't know"])
def test_unsure(text: str) -> None:
    assert understand.analyse(text).unsure


@pytest.mark.parametrize(
    ("text", "number"),
    [
        ("2", 2),
        ("the first one", 1),
        ("le deuxième", 2),
        ("choix 3", 3),
        ("just one", None),
        ("no", None),
    ],
)
def test_position(text: str, number: int | None) -> None:
    assert understand.position(text) == number


def test_closest_equivalent_when_the_step_lacks_the_strategy() -> None:
    story = get_story("follower_bribe")
    assert story is not None
    offer = story.steps["offer"]  # no_thanks (refuse), tell_mum, accept
    assert understand.choice_for(offer, "I'd ignore him").choice_id == "no_thanks"
    assert understand.choice_for(offer, "i'd go on his snap").choice_id == "accept"
    secret = story.steps["secret"]  # tell_mum, block_report, keep_secret
    assert understand.choice_for(secret, "i'd tell my best friend").choice_id == "tell_mum"


def test_rehearsal_priority_and_risk() -> None:
    assert (
        understand.read_rehearsal("no and I'm blocking you and telling my mum").category
        == "block_report"
    )
    assert understand.read_rehearsal("ok i'll send one but don't tell").category == "risky"
    assert understand.read_rehearsal("lol").category is None


@pytest.mark.parametrize("lang", ["en", "fr"])
def test_labelled_sets_reach_the_target(lang: str) -> None:
    script = _eval_script()
    for name, run in (
        ("free_text_choices", script.eval_choices),
        ("rehearsal", script.eval_rehearsal),
    ):
        right, total = run(name, lang, True, False)
        assert total >= 25
        assert right / total >= TARGET, f"{name}.{lang}: {right}/{total}"


def test_labelled_sets_cover_sms_speak() -> None:
    script = _eval_script()
    french = [str(i["text"]) for i in script._items("free_text_choices", "fr")]
    assert any(t.startswith("j") and not t.startswith("je ") for t in french)
    english = [str(i["text"]) for i in script._items("free_text_choices", "en")]
    assert any(i is None for i in (x["expected"] for x in script._items("free_text_choices", "en")))
    assert english and french
