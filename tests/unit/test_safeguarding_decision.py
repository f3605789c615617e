"""How the safety net, the disclosure reader and the trained intent decide together
(bot.nlu_rules.decide), and the danger rules."""

from __future__ import annotations

import pytest

from bot.nlu_rules import BARS, DISCLOSE, FALLBACK, MENTION, STATE_KEY, annotate, decide
from bot.safeguarding.meaning import Reading
from bot.safeguarding.screen import NOTHING, screen

EVERYDAY = [("share_everyday", 0.95), ("disclose_problem", 0.03)]
RISK = [("disclose_problem", 0.8), ("share_everyday", 0.1)]
CHOICE = [("choose_action", 0.9), ("disclose_problem", 0.05)]


def read(p: float, danger: float = 0.0, category: str = "online", mention: float = 0.0):
    return Reading(disclosure=p, danger=danger, mention=mention, category=category)


def test_a_sure_reader_flags_alone_what_the_net_and_the_intent_miss():
    decision = decide(NOTHING, "share_everyday", 0.95, EVERYDAY, reading=read(BARS.reader_sure))
    assert (decision.intent, decision.level) == (DISCLOSE, "concern")


def test_a_less_sure_reader_needs_the_intent_to_agree():
    p = (BARS.reader_with_intent + BARS.reader_sure) / 2
    assert decide(NOTHING, "share_everyday", 0.95, EVERYDAY, reading=read(p)).level is None
    agreed = decide(NOTHING, "disclose_problem", 0.8, RISK, reading=read(p))
    assert (agreed.intent, agreed.level) == (DISCLOSE, "concern")


def test_inside_a_story_the_reader_needs_more_to_interrupt():
    between = (BARS.reader_with_intent + BARS.reader_with_intent_in_play) / 2
    quiet = decide(NOTHING, "disclose_problem", 0.8, RISK, mode="story", reading=read(between))
    assert quiet.level is None and quiet.intent == FALLBACK  # the story reads the answer
    sure = decide(NOTHING, "choose_action", 0.9, CHOICE, mode="story", reading=read(0.95))
    assert (sure.intent, sure.level) == (DISCLOSE, "concern")


def test_a_disclosure_told_in_pieces_is_caught_by_the_piece_that_completes_it():
    piece = BARS.reader_piece + 0.05
    assert decide(NOTHING, "share_everyday", 0.95, EVERYDAY, reading=read(piece)).level is None
    told = decide(
        NOTHING, "share_everyday", 0.95, EVERYDAY, reading=read(piece), earlier=[0.6, 0.6]
    )
    assert told.level == "concern"
    # a message that says nothing completes nothing
    nothing = decide(
        NOTHING, "share_everyday", 0.95, EVERYDAY, reading=read(0.02), earlier=[0.6, 0.6]
    )
    assert nothing.level is None


def test_the_reader_decides_danger_by_its_danger_classes():
    decision = decide(NOTHING, "greet", 0.9, [("greet", 0.9)], reading=read(0.97, 0.8, "self_harm"))
    assert decision.level == "danger"
    assert "self_harm" in decision.categories
    online = decide(NOTHING, "greet", 0.9, [("greet", 0.9)], reading=read(0.97, 0.2, "online"))
    assert online.level == "concern"


def test_a_sentence_about_someone_else_stays_a_mention():
    net = screen("he wants her address")
    assert net.flagged and not net.personal
    decision = decide(
        net, "mention_risk", 0.9, [("mention_risk", 0.9)], reading=read(0.2, mention=0.7)
    )
    assert decision.intent == MENTION


def test_what_the_net_reads_as_harmless_needs_a_very_sure_reader():
    lesson = screen("what is sextortion?")
    assert lesson.harmless
    assert decide(lesson, "greet", 0.9, [("greet", 0.9)], reading=read(0.86)).level is None
    assert decide(lesson, "greet", 0.9, [("greet", 0.9)], reading=read(0.95)).level == "concern"


def test_a_sure_intent_counts_alone_only_with_some_support_from_the_reader():
    sure = [("disclose_problem", 0.97)]
    below = BARS.reader_doubts_intent - 0.05
    doubted = decide(NOTHING, "disclose_problem", 0.97, sure, reading=read(below))
    assert doubted.level is None and doubted.intent != DISCLOSE
    kept = decide(NOTHING, "disclose_problem", 0.97, sure, reading=read(BARS.reader_doubts_intent))
    assert kept.level == "concern"


def test_in_the_rehearsal_only_danger_interrupts():
    ranking = [("greet", 0.9)]
    calm = decide(NOTHING, "greet", 0.9, ranking, mode="rehearsal", reading=read(0.97))
    assert calm.intent == FALLBACK and calm.level is None
    danger = decide(
        NOTHING, "greet", 0.9, ranking, mode="rehearsal", reading=read(0.97, 0.9, "self_harm")
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
    assert decide(screen(text), "greet", 0.9, [("greet", 0.9)]).level == "danger", text


def test_annotate_remembers_figures_and_reads_the_memory():
    state = {"safeguard_memory": "0.60,0.05,online,0;0.55,0.10,online,0"}
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


def test_after_a_disclosure_a_piece_that_makes_it_worse_is_danger():
    """ "i sent a pic to someone" (answered) / "now he wants 100 pounds": the reader
    reads danger in the second, too weak alone; with what was remembered it is the
    piece that makes it worse. Not without an earlier answered disclosure, not in
    play, and not when the reader reads no danger in it."""
    worse = read(0.41, danger=0.40, category="sextortion")
    answered = [0.88, 0.54]
    alone = decide(NOTHING, "disclose_online", 0.37, EVERYDAY, reading=worse)
    assert alone.level is None
    after = decide(NOTHING, "disclose_online", 0.37, EVERYDAY, reading=worse, answered=answered)
    assert after.level == "danger"
    in_play = decide(
        NOTHING, "disclose_online", 0.37, EVERYDAY, mode="story", reading=worse, answered=answered
    )
    assert in_play.level is None
    calm = read(0.41, danger=0.05)
    assert (
        decide(NOTHING, "share_everyday", 0.9, EVERYDAY, reading=calm, answered=answered).level
        is None
    )


def test_the_memory_gives_the_flagged_messages_to_the_decision():
    """annotate(): once a remembered message was answered as a disclosure, every
    remembered message's evidence is the context of what makes it worse."""
    from bot.safeguarding import memory

    earlier = memory.remember([], read(0.88), False)
    earlier = memory.remember(memory.decode(earlier), read(0.54), True)
    state = {STATE_KEY: {"safeguard_memory": earlier}}
    reading = {"disclosure": 0.41, "danger": 0.40, "mention": 0.0, "category": "sextortion"}
    result = annotate(
        text="now he wants 100 pounds",
        metadata=state,
        intent="disclose_online",
        confidence=0.37,
        ranking=EVERYDAY,
        reading=reading,
    )
    assert result.entities.get("safeguard_level") == "danger"
