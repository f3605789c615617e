"""Conversation set-up: what request metadata may set, and when a session starts."""

from __future__ import annotations

import re
from typing import Any

from bot import helplines
from bot.language import valid as valid_language

# A pseudonymous learner id kept by the browser (never a name).
LEARNER_ID = re.compile(r"^[A-Za-z0-9_-]{8,64}$")
CLASS_CODE = re.compile(r"^[A-Z0-9]{4,8}$")
AGE_BANDS = ("8-10", "11-13")
# Metadata "age_band": "any" (the child chose not to say) clears the band.
ANY_AGE = "any"


def slots_from_metadata(metadata: Any, current: dict[str, Any] | None = None) -> dict[str, Any]:
    """Slot changes asked for by request metadata; invalid values are ignored."""
    if not isinstance(metadata, dict):
        return {}
    current = current or {}
    changes: dict[str, Any] = {}
    lang = valid_language(metadata.get("language"))
    if lang and (current.get("language") != lang or not current.get("language_locked")):
        changes.update(language=lang, language_locked=True)
    country = helplines.known_country(metadata.get("country"))
    if country and current.get("country") != country:
        changes["country"] = country
    learner = metadata.get("learner_id")
    valid_learner = isinstance(learner, str) and LEARNER_ID.match(learner)
    if valid_learner and current.get("learner_id") != learner:
        changes["learner_id"] = learner
    band = metadata.get("age_band")
    if band in AGE_BANDS and current.get("age_band") != band:
        changes["age_band"] = band
    elif band == ANY_AGE and current.get("age_band") is not None:
        changes["age_band"] = None
    code = metadata.get("class_code")
    code = code.upper() if isinstance(code, str) else None
    if code and CLASS_CODE.match(code) and current.get("class_code") != code:
        changes["class_code"] = code
    elif code == "" and current.get("class_code"):  # the child left the class
        changes["class_code"] = None
    coplay = metadata.get("coplay")
    if isinstance(coplay, bool) and bool(current.get("coplay")) != coplay:
        changes["coplay"] = coplay
    return changes
