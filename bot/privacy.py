"""Removing what a child typed from anything that is kept."""

from __future__ import annotations

from typing import Any

REDACTED = ""


def redact_dialogue(dialogue: dict[str, Any]) -> dict[str, Any]:
    """A serialised Rasa dialogue with the text of every user message removed,
    and the text of every bot message too: a reply may quote the child (the
    message checker shows the words it found in a pasted message), and the
    dialogue never needs it again (policies read intents, actions and slots;
    ``/resume`` rebuilds the step from the slots). Buttons and payloads stay."""
    for event in dialogue.get("events", []):
        if event.get("event") == "bot":
            if event.get("text"):
                event["text"] = REDACTED
            continue
        if event.get("event") != "user":
            continue
        event["text"] = REDACTED
        parse_data = event.get("parse_data")
        if isinstance(parse_data, dict):
            parse_data["text"] = REDACTED
            parse_data.pop("lumi_full_text", None)
            for entity in parse_data.get("entities") or []:
                if isinstance(entity, dict) and entity.get("extractor") not in (
                    "ChildTextAnnotator",
                    "RegexMessageHandler",
                ):
                    entity["value"] = REDACTED
        for entity in event.get("entities") or []:
            if isinstance(entity, dict) and entity.get("extractor") not in (
                "ChildTextAnnotator",
                "RegexMessageHandler",
            ):
                entity["value"] = REDACTED
    return dialogue
