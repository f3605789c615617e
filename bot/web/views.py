"""What the pages show, built from the domain (helplines, progress, locales).

Plain functions with no web framework in them, so they are easy to test.
Every word comes from ``locales/`` through :func:`bot.text.t`.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from bot import helplines
from bot import text as texts
from bot.tactics import TACTICS
from bot.web import typography

LEARNER_ID = re.compile(r"^[A-Za-z0-9_-]{8,64}$")
OTHER_COUNTRY = "other"

# The order of the parents' corner lists (their words are in locales/web.*.yml).
PARENT_SECTIONS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("signs", ("anxiety", "sleep", "bedwetting", "secrecy", "gifts", "withdrawal")),
    ("talk", ("early", "curious", "play", "name", "adults", "never")),
    (
        "act",
        (
            "calm",
            "thank",
            "blame",
            "confiscate",
            "evidence",
            "images",
            "confront",
            "report",
            "support",
        ),
    ),
)


def valid_learner(value: object) -> str | None:
    return value if isinstance(value, str) and LEARNER_ID.fullmatch(value) else None


def language(value: object) -> str | None:
    return value if isinstance(value, str) and value in texts.LANGUAGES else None


def other_language(lang: str) -> str:
    return next(code for code in texts.LANGUAGES if code != lang)


def countries(lang: str) -> list[dict[str, str]]:
    """The directory's countries, named in ``lang``, sorted by name."""
    named = [{"code": c, "name": texts.t(f"countries.{c}", lang)} for c in helplines.countries()]
    return sorted(named, key=lambda c: c["name"])


def _digits(number: str) -> str:
    return re.sub(r"[^0-9+]", "", number)


def _safe_url(url: str | None) -> str | None:
    return url if isinstance(url, str) and re.match(r"^https?://", url) else None


def helpline_cards(country: str | None, lang: str, level: str = "concern") -> list[dict[str, Any]]:
    """The helplines of ``country`` (then the international ones), ready for a template."""
    cards = []
    for entry in helplines.for_country(country, level):
        item = entry.payload(lang)
        item.update(
            id=entry.id,
            kind=entry.kind,
            international=entry.country == helplines.INTERNATIONAL,
            tel=f"tel:{_digits(entry.phone)}" if entry.phone else None,
            sms_href=f"sms:{_digits(entry.sms)}" if entry.sms else None,
            url=_safe_url(entry.url),
            source=_safe_url(entry.source),
        )
        cards.append(item)
    return cards


def main_helpline_text(country: str | None, lang: str) -> str:
    """ "Name (phone)" of the one helpline a child in ``country`` gets first."""
    entry = helplines.main_helpline(country)
    name = texts.t(f"helplines.{entry.id}.name", lang)
    contact = entry.phone or entry.url or ""
    return f"{name} ({contact})" if contact else name


def story_titles(lang: str) -> dict[str, str]:
    """``{story_id: title}`` for every story with texts (read from locales, not the engine)."""
    titles = {}
    for story_id in texts.children("stories", lang):
        key = f"stories.{story_id}.title"
        if texts.has(key, lang):
            titles[story_id] = texts.t(key, lang)
    return titles


def tactic_names(lang: str) -> dict[str, str]:
    return {tactic: texts.t(f"tactics.{tactic}.name", lang) for tactic in TACTICS}


def badge_name(badge_id: str, lang: str) -> str:
    tactic = badge_id.removeprefix("badge_")
    if tactic in TACTICS:
        return texts.t(f"tactics.{tactic}.name", lang)
    return texts.t("web.badges.generic", lang)


def progress_view(raw: dict[str, Any] | None, lang: str) -> dict[str, Any]:
    """``bot.storage.progress`` made readable: badge names and story titles in ``lang``."""
    if not isinstance(raw, dict):
        return {"available": False, "badges": [], "stories": []}
    titles = story_titles(lang)
    badges = [
        {"id": str(b), "name": badge_name(str(b), lang)}
        for b in dict.fromkeys(raw.get("badges") or [])
    ]
    stories = []
    for story_id, info in sorted((raw.get("stories") or {}).items()):
        info = info if isinstance(info, dict) else {}
        stories.append(
            {
                "id": str(story_id),
                "title": titles.get(str(story_id), str(story_id)),
                "best_score": int(info.get("best_score") or 0),
                "times": int(info.get("times") or 0),
            }
        )
    return {"available": True, "badges": badges, "stories": stories}


def story_pictures(directory: Path) -> list[str]:
    """The stories with an illustration of their own (``static/stories/<id>.svg``)."""
    return sorted(p.stem for p in directory.glob("*.svg"))


def tactic_shorts(lang: str) -> dict[str, str]:
    return {tactic: texts.t(f"tactics.{tactic}.short", lang) for tactic in TACTICS}


def strings(lang: str, country: str | None, table: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """Everything the page's script needs to say, in ``lang`` (``/api/strings``).

    ``t`` holds the raw ``web.common``, ``web.chat`` and ``web.js`` texts (keys
    without the ``web.`` prefix; ``%{name}`` placeholders are filled by the script).
    """
    wanted = ("web.common.", "web.chat.", "web.js.")
    raw = {  # with the page's typography, like the templates (bot.web.typography)
        key.removeprefix("web."): typography.fix(value, lang)
        for key, value in table[lang].items()
        if key.startswith(wanted) and isinstance(value, str)
    }
    return {
        "lang": lang,
        "t": raw,
        "countries": {c["code"]: c["name"] for c in countries(lang)},
        "stories": story_titles(lang),
        "tactics": tactic_names(lang),
        "tactic_short": tactic_shorts(lang),
        "main_helpline": main_helpline_text(country, lang),
        "safe_words": safe_words(),
    }


def safe_words() -> list[str]:
    """The safe words (data/quick_exit.yml), normalised: typed alone in the chat, the
    page leaves at once, even when the assistant cannot be reached."""
    from bot.nlu_rules import quick_exit_words

    return sorted(quick_exit_words())
