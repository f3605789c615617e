"""Shared test helpers."""

from __future__ import annotations

from typing import Any

import pytest

from bot.conversation import Reply, Turn


def make_turn(
    intent: str = "",
    text: str = "",
    *,
    entities: dict[str, Any] | None = None,
    metadata: dict[str, Any] | None = None,
    **slots: Any,
) -> Turn:
    return Turn(
        intent=intent,
        confidence=1.0,
        entities=entities or {},
        text=text,
        metadata=metadata or {},
        slots=dict(slots),
        sender="test",
    )


def apply(turn_slots: dict[str, Any], reply: Reply) -> dict[str, Any]:
    """The slots after a reply (what Rasa does with the SlotSet events)."""
    return {**turn_slots, **reply.slots}


@pytest.fixture
def turn_factory():
    return make_turn
