"""What one turn of a conversation looks like to the domain.

Rasa adapters (``actions/``) build a :class:`Turn` from the tracker, call a
handler in ``bot/`` and turn the :class:`Reply` back into dispatcher messages
and slot events. Nothing here imports Rasa, so handlers are tested directly.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from bot import text as texts
from bot.language import reply_language

# Slots the domain reads and writes (declared in domain/core.yml).
MODES = ("menu", "story", "quiz", "check", "rehearsal", "support")


@dataclass
class Turn:
    """One message from the child, with the conversation's state before it."""

    intent: str = ""
    confidence: float = 0.0
    entities: dict[str, Any] = field(default_factory=dict)
    text: str = ""
    metadata: dict[str, Any] = field(default_factory=dict)
    slots: dict[str, Any] = field(default_factory=dict)
    sender: str = ""

    @property
    def lang(self) -> str:
        """The language the reply must be written in."""
        return reply_language(
            locked=bool(self.slots.get("language_locked")),
            chosen=self.slots.get("language"),
            detected=self.slots.get("detected_language"),
            metadata=self.metadata,
        )

    @property
    def mode(self) -> str:
        mode = self.slots.get("mode")
        return mode if mode in MODES else "menu"

    def slot(self, name: str, default: Any = None) -> Any:
        value = self.slots.get(name)
        return default if value is None else value


@dataclass
class Reply:
    """Messages for the child (in one language) and the slot changes to apply."""

    lang: str
    messages: list[dict[str, Any]] = field(default_factory=list)
    slots: dict[str, Any] = field(default_factory=dict)
    restart: bool = False
    # Progress to keep for the learner (story ends, quiz answers, badges): ids and
    # marks only, never text. Saved by ``bot.progress`` after the turn.
    progress: list[dict[str, Any]] = field(default_factory=list)

    def say(self, key: str, buttons: list[dict[str, str]] | None = None, **params: Any) -> Reply:
        """Add a message whose text is the locale text ``key``."""
        return self.say_text(texts.t(key, self.lang, **params), buttons)

    def say_text(self, text: str, buttons: list[dict[str, str]] | None = None) -> Reply:
        message: dict[str, Any] = {"text": text}
        if buttons:
            message["buttons"] = buttons
        self.messages.append(message)
        return self

    def custom(self, kind: str, **payload: Any) -> Reply:
        """Add a structured payload; every payload carries ``kind`` and ``lang``."""
        self.messages.append({"custom": {"kind": kind, "lang": self.lang, **payload}})
        return self

    def button(self, key: str, payload: str, **params: Any) -> dict[str, str]:
        return {"title": texts.t(key, self.lang, **params), "payload": payload}

    def record(self, kind: str, **data: Any) -> Reply:
        """Note progress to save: ``story_start``, ``story_end``, ``quiz_answer``, ``badge``."""
        self.progress.append({"kind": kind, **data})
        return self

    def set(self, **slots: Any) -> Reply:
        self.slots.update(slots)
        return self

    def extend(self, other: Reply) -> Reply:
        self.messages.extend(other.messages)
        self.slots.update(other.slots)
        self.progress.extend(other.progress)
        self.restart = self.restart or other.restart
        return self

    @property
    def texts(self) -> list[str]:
        return [m["text"] for m in self.messages if "text" in m]

    def payloads(self, kind: str | None = None) -> list[dict[str, Any]]:
        found = [m["custom"] for m in self.messages if "custom" in m]
        return [p for p in found if kind is None or p.get("kind") == kind]


def payload(intent: str, **entities: Any) -> str:
    """A button payload in Rasa's ``/intent{json}`` form."""
    if not entities:
        return f"/{intent}"
    return f"/{intent}" + json.dumps(entities, separators=(",", ":"), ensure_ascii=False)
