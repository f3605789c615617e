"""The manipulation tactics of the contract (docs/contract.md, "Tactic IDs").

This tuple is the one list of tactic IDs in the code; each tactic's child-facing
name, explanation and advice live in ``locales/tactics.<lang>.yml``.
"""

from __future__ import annotations

TACTICS: tuple[str, ...] = (
    "bribe",
    "secrecy",
    "app_switch",
    "photo_request",
    "personal_info",
    "meeting",
    "flattery",
    "threat",
)


def is_tactic(value: object) -> bool:
    return isinstance(value, str) and value in TACTICS
