"""The conversation's memory of the last messages holds figures, never words."""

import pytest

from bot.safeguarding import memory
from bot.safeguarding.meaning import Reading


def reading(p: float, danger: float = 0.0, category: str = "online") -> Reading:
    return Reading(disclosure=p, danger=danger, mention=0.0, category=category)


def test_round_trip_keeps_the_last_three():
    raw = ""
    for p in (0.1, 0.2, 0.3, 0.4):
        raw = memory.remember(memory.decode(raw), reading(p), flagged=False)
    entries = memory.decode(raw)
    assert [e.evidence for e in entries] == [0.2, 0.3, 0.4]
    assert all(e.category == "online" and not e.flagged for e in entries)


@pytest.mark.parametrize(
    "raw",
    [None, 42, "", "x", "0.5,0.1,online", "2,0,online,0", "0.5,0.1,secret words,0", "a" * 500],
)
def test_anything_malformed_is_dropped(raw):
    assert memory.decode(raw) == []


def test_no_text_can_be_stored():
    stored = memory.remember([], reading(0.42, 0.1, "sextortion"), flagged=True)
    assert stored == "0.42,0.10,sextortion,1"


def test_evidence_adds_up_and_resets_after_a_flagged_message():
    assert memory.in_context(0.3, []) == pytest.approx(0.3)
    assert memory.in_context(0.3, [0.4, 0.3]) > 0.5
    entries = memory.decode("0.40,0.00,online,0;0.90,0.10,online,1;0.20,0.00,online,0")
    assert [e.evidence for e in memory.unflagged(entries)] == [0.2]
