"""Checks on everything that enters the store: ids, bands, marks, codes, settings.

Every value is an identifier from a closed set or a short slug; anything that
could carry free text is refused with ``ValueError`` before a query is built.
"""

from __future__ import annotations

import re
import secrets
from typing import Any

from bot.tactics import TACTICS
from bot.text import LANGUAGES

AGE_BANDS: tuple[str, ...] = ("8-10", "11-13")
MARKS: tuple[str, ...] = ("safe", "risky")
MAX_STEPS = 50

# Easy to write on a board and to read back: no 0/O, no 1/I/L (31 symbols, 887 million codes).
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 6
TITLE_LEN = 60  # a class session's label (column class_sessions.title)

_TOKEN = re.compile(r"[A-Za-z0-9_-]{8,128}")
_SLUG = re.compile(r"[a-z0-9][a-z0-9_.-]{0,63}")
_COUNTRY = re.compile(r"[A-Z]{2}|INT")
_USERNAME = re.compile(r"[A-Za-z0-9._%+@-]{3,254}")

# Known settings, their parser and default (retention_days: None = env RETENTION_DAYS).
SETTINGS: dict[str, Any] = {
    "retention_days": int,
    "store_free_text": bool,
}


def new_learner_id() -> str:
    """A fresh pseudonymous learner id: 32 URL-safe characters, 192 random bits.

    It never starts with "-", so it can be passed on a command line
    (``python -m bot.storage.cli export ID``) without being read as an option.
    """
    while True:
        token = secrets.token_urlsafe(24)
        if not token.startswith("-"):
            return token


def new_class_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def is_learner_id(value: object) -> bool:
    return isinstance(value, str) and _TOKEN.fullmatch(value) is not None


def learner_id(value: object) -> str:
    if not is_learner_id(value):
        raise ValueError("learner id must be 8-128 URL-safe characters")
    assert isinstance(value, str)
    return value


def slug(value: object, what: str) -> str:
    if not isinstance(value, str) or _SLUG.fullmatch(value) is None:
        raise ValueError(f"{what} must be a lower-case slug of at most 64 characters")
    return value


def tactic(value: object) -> str:
    if not isinstance(value, str) or value not in TACTICS:
        raise ValueError("unknown tactic")
    return value


def age_band(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, str) and value in AGE_BANDS:
        return value
    raise ValueError(f"age band must be one of {AGE_BANDS} or None")


def language(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, str) and value.lower() in LANGUAGES:
        return value.lower()
    raise ValueError(f"language must be one of {LANGUAGES} or None")


def country(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, str) and _COUNTRY.fullmatch(value.upper()):
        return value.upper()
    raise ValueError("country must be an ISO 3166-1 alpha-2 code, 'INT' or None")


def score(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 100:
        raise ValueError("score must be an integer from 0 to 100")
    return value


def marks(value: object) -> list[dict[str, Any]]:
    """Story marks: ``[{"step": int?, "mark": "safe"|"risky", "tactic": id|None}]``.

    Only these keys are accepted, so no text can ride along with a mark.
    ``step`` defaults to the position in the list (1-based).
    """
    if not isinstance(value, (list, tuple)) or len(value) > MAX_STEPS:
        raise ValueError(f"marks must be a list of at most {MAX_STEPS} items")
    out: list[dict[str, Any]] = []
    for position, item in enumerate(value, start=1):
        if not isinstance(item, dict) or not set(item) <= {"step", "step_id", "mark", "tactic"}:
            raise ValueError("a mark has only the keys step, step_id, mark and tactic")
        mark = item.get("mark")
        if mark not in MARKS:
            raise ValueError(f"mark must be one of {MARKS}")
        step = item.get("step", position)
        if isinstance(step, bool) or not isinstance(step, int) or not 0 <= step <= 1000:
            raise ValueError("step must be a small integer")
        raw_tactic = item.get("tactic")
        clean: dict[str, Any] = {
            "step": step,
            "mark": mark,
            "tactic": None if raw_tactic is None else tactic(raw_tactic),
        }
        if item.get("step_id") is not None:  # the story step's id (a slug, never text)
            clean["step_id"] = slug(item["step_id"], "step id")
        out.append(clean)
    return out


def story_ids(value: object) -> list[str]:
    if not isinstance(value, (list, tuple)) or len(value) > 50:
        raise ValueError("story ids must be a list of at most 50 ids")
    out: list[str] = []
    for item in value:
        item = slug(item, "story id")
        if item not in out:
            out.append(item)
    return out


def session_title(value: object) -> str | None:
    """A class session's label, written by the teacher ("CM2 B, Tuesday"): one line of at
    most 60 characters, spaces collapsed; empty -> None."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise ValueError("a session title is a string")
    title = " ".join(value.split())
    if not title:
        return None
    if len(title) > TITLE_LEN or any(not ch.isprintable() for ch in title):
        raise ValueError(f"a session title has at most {TITLE_LEN} printable characters")
    return title


_TIME_ZONE = re.compile(r"[A-Za-z][A-Za-z0-9_+-]*(/[A-Za-z0-9_+-]+){0,2}")


def time_zone(value: object) -> str | None:
    """An IANA time zone name known to this machine ("Europe/Paris"), else None."""
    if not isinstance(value, str) or len(value) > 64 or not _TIME_ZONE.fullmatch(value):
        return None
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        return None
    return value


def class_code(value: object) -> str | None:
    """A code as typed (spaces, dashes, lower case allowed), or None if it cannot be one."""
    if not isinstance(value, str):
        return None
    code = re.sub(r"[\s-]", "", value).upper()
    if len(code) != CODE_LENGTH or any(ch not in CODE_ALPHABET for ch in code):
        return None
    return code


def username(value: object) -> str:
    if not isinstance(value, str):
        raise ValueError("username must be a string")
    name = value.strip().lower()
    if _USERNAME.fullmatch(name) is None:
        raise ValueError("username: 3-254 characters, letters, digits and . _ % + @ -")
    return name


def password(value: object) -> str:
    if not isinstance(value, str) or len(value) < 10 or len(value) > 1024:
        raise ValueError("password must be 10 to 1024 characters")
    return value


def setting(key: str, value: object) -> str:
    """The stored text of a known setting's value."""
    kind = SETTINGS.get(key)
    if kind is None:
        raise ValueError(f"unknown setting {key!r}; known: {sorted(SETTINGS)}")
    if kind is bool:
        if not isinstance(value, bool):
            raise ValueError(f"{key} is true or false")
        return "true" if value else "false"
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 36500:
        raise ValueError(f"{key} is a number of days from 0 to 36500")
    return str(value)


def parse_setting(key: str, text: str) -> Any:
    kind = SETTINGS.get(key)
    if kind is bool:
        return text == "true"
    if kind is int:
        return int(text)
    return text
