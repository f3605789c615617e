"""How the safety net, the disclosure reader and the trained intent decide together
(bot.nlu_rules.decide), and the danger rules."""

from __future__ import annotations

import pytest

from bot.nlu_rules import (
    DISCLOSE,
    FALLBACK,
    MENTION,
    READER_ALONE,
    READER_IN_PLAY,
    READER_PIECE,
    STATE_KEY,
    annotate,
    decide,
)
from bot.safeguarding.meaning import Reading
from bot.safeguarding.screen import NOTHING, screen


def read(p: float, danger: float = 0.0, category: str = "online", mention: float = 0.0):
    return Reading(disclosure=p, danger=danger, mention=mention, category=category)


def test_the_reader_alone_flags_what_the_net_misses():
    decision = decide(
        NOTHING, "share_everyday", 0.99, [("share_everyday", 0.99)], reading=read(0.8)
    )
    assert (decision.intent, decision.level) == (DISCLOSE, "concern")


def test_below_its_bar_the_reader_does_not_flag():
    low = READER_ALONE - 0.05
    decision = decide(
        NOTHING, "share_everyday", 0.99, [("share_everyday", 0.99)], reading=read(low)
    )
    assert decision.level is None


def test_inside_a_story_the_reader_needs_more():
    between = (READER_ALONE + READER_IN_PLAY) / 2
    ranking = [("choose_action", 0.9)]
    assert (
        decide(NOTHING, "choose_action", 0.9, ranking, mode="story", reading=read(between)).level
        is None
    )
    inside = decide(NOTHING, "choose_action", 0.9, ranking, mode="story", reading=read(0.95))
    assert (inside.intent, inside.level) == (DISCLOSE, "concern")


def test_a_disclosure_told_in_pieces_is_caught_by_the_piece_that_completes_it():
    piece = READER_PIECE + 0.1
    ranking = [("share_everyday", 0.9)]
    alone = decide(NOTHING, "share_everyday", 0.9, ranking, reading=read(piece))
    assert alone.level is None
    told = decide(NOTHING, "share_everyday", 0.9, ranking, reading=read(piece), earlier=[0.4, 0.45])
    assert told.level == "concern"
    # a message that says nothing does not complete anything
    nothing = decide(
        NOTHING, "share_everyday", 0.9, ranking, reading=read(0.02), earlier=[0.4, 0.45]
    )
    assert nothing.level is None


def test_the_reader_decides_danger_by_its_danger_classes():
    decision = decide(NOTHING, "greet", 0.9, [("greet", 0.9)], reading=read(0.9, 0.8, "self_harm"))
    assert decision.level == "danger"
    assert "self_harm" in decision.categories


def test_a_sentence_about_someone_else_is_a_mention():
    decision = decide(
        NOTHING, "greet", 0.9, [("greet", 0.9)], reading=read(0.55, mention=0.4), mode="story"
    )
    assert decision.level is None  # under the bar in play
    outside = decide(NOTHING, "greet", 0.9, [("greet", 0.9)], reading=read(0.3, mention=0.65))
    assert outside.level is None
    net = screen("he wants her address")
    assert (
        decide(net, "greet", 0.9, [("greet", 0.9)], reading=read(0.2, mention=0.7)).intent
        == MENTION
    )


def test_a_sure_classifier_counts_only_with_some_support_from_the_reader():
    ranking = [("disclose_problem", 0.97)]
    doubted = decide(NOTHING, "disclose_problem", 0.97, ranking, reading=read(0.02))
    assert doubted.level is None and doubted.intent != DISCLOSE
    kept = decide(NOTHING, "disclose_problem", 0.97, ranking, reading=read(0.3))
    assert kept.level == "concern"


def test_in_the_rehearsal_only_danger_interrupts():
    ranking = [("greet", 0.9)]
    assert (
        decide(NOTHING, "greet", 0.9, ranking, mode="rehearsal", reading=read(0.9)).intent
        == FALLBACK
    )
    danger = decide(
        NOTHING, "greet", 0.9, ranking, mode="rehearsal", reading=read(0.95, 0.9, "self_harm")
    )
    assert danger.level == "danger"


@pytest.mark.parametrize(
    "text",
    [
        "he says he will post my pics if i dont pay",  # sextortion, no deadline
        "on me fait du chantage avec une photo",
        "i want to die",
        "mon oncle me touche la nuit",
    ],
)
def test_sextortion_self_harm_and_abuse_are_danger_without_a_deadline(text):
    decision = decide(screen(text), "greet", 0.9, [("greet", 0.9)])
    assert decision.level == "danger", text


def test_annotate_remembers_figures_and_reads_the_memory():
    state = {"safeguard_memory": "0.45,0.05,online,0;0.40,0.10,online,0"}
    result = annotate(
        text="ok so",
        metadata={STATE_KEY: state},
        intent="share_everyday",
        confidence=0.9,
        ranking=[("share_everyday", 0.9)],
        reading=read(0.4).as_dict(),
    )
    assert result.entities["safeguard_level"] == "concern"
    assert result.entities["safeguard_memory"].endswith("0.40,0.00,online,1")
    assert "ok" not in result.entities["safeguard_memory"]
