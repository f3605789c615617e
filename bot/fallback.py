"""Replies the Rasa channel gives by itself: to an empty message, to a flood,
and when the assistant produced nothing (action server down, a failure).
A child is never left without an answer, and a disclosure always gets help."""

from __future__ import annotations

from typing import Any

from bot import helplines
from bot import text as texts
from bot.language import detect, reply_language
from bot.safeguarding.reply import safeguard_messages


def language_for(slots: dict[str, Any], metadata: dict[str, Any], text: str = "") -> str:
    detected = detect(text) if text else None
    return reply_language(
        locked=bool(slots.get("language_locked")),
        chosen=slots.get("language"),
        detected=detected or slots.get("detected_language"),
        metadata=metadata,
    )


def country_for(slots: dict[str, Any], metadata: dict[str, Any]) -> str | None:
    return helplines.known_country(metadata.get("country")) or helplines.known_country(
        slots.get("country")
    )


def empty_message(lang: str) -> list[dict[str, Any]]:
    return [{"text": texts.t("menu.errors_empty", lang)}]


def slow_down(lang: str) -> list[dict[str, Any]]:
    return [{"text": texts.t("menu.errors_slow_down", lang)}]


def nothing_said(text: str, lang: str, country: str | None) -> list[dict[str, Any]]:
    """The assistant said nothing: safeguarding if the text needs it, else an apology
    that still names the country's main helpline."""
    from bot.safeguarding.screen import screen

    screening = screen(text) if text and not text.startswith("/") else None
    if screening is not None and screening.flagged:
        from bot.safeguarding.topics import topic_of

        topic = topic_of(screening.categories)
        return safeguard_messages(lang, country, screening.level or "concern", topic)
    main = helplines.main_helpline(country)
    name = texts.t(f"helplines.{main.id}.name", lang)
    contact = main.phone or main.url or ""
    return [{"text": texts.t("menu.errors_unavailable", lang, helpline=f"{name} ({contact})")}]
