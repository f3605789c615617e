"""Class pseudonyms: a colour and an animal (``blue-fox``), never a name.

Ids only: the words, in both languages, are in ``locales/teacher.*.yml``
(``teacher.pseudonym.*``; French colours agree with the animal's gender).
No database here, so the web app can name pseudonyms without importing the store.
"""

from __future__ import annotations

import secrets

# Drawn at random among the pairs not used in
# the session (10 x 16 = 160 pairs; past that, a number is added: "blue-fox-2").
COLOURS: tuple[str, ...] = (
    "blue",
    "green",
    "red",
    "orange",
    "purple",
    "pink",
    "silver",
    "gold",
    "turquoise",
    "yellow",
)
ANIMALS: tuple[str, ...] = (
    "fox",
    "owl",
    "turtle",
    "rabbit",
    "dolphin",
    "panda",
    "koala",
    "penguin",
    "tiger",
    "lion",
    "otter",
    "hedgehog",
    "squirrel",
    "zebra",
    "giraffe",
    "whale",
)


def pick_pseudonym(used: set[str]) -> str:
    """A ``colour-animal`` id not in ``used`` (random), with a number once all pairs are taken."""
    pairs = [f"{c}-{a}" for c in COLOURS for a in ANIMALS]
    free = [p for p in pairs if p not in used]
    if free:
        return secrets.choice(free)
    number = 2
    while True:
        free = [f"{p}-{number}" for p in pairs if f"{p}-{number}" not in used]
        if free:
            return secrets.choice(free)
        number += 1


def split_pseudonym(pseudonym: str) -> tuple[str, str, int | None]:
    """``blue-fox-2`` -> ``("blue", "fox", 2)``; unknown parts raise ValueError."""
    parts = pseudonym.split("-")
    if len(parts) not in (2, 3) or parts[0] not in COLOURS or parts[1] not in ANIMALS:
        raise ValueError("not a pseudonym")
    number = int(parts[2]) if len(parts) == 3 else None
    return parts[0], parts[1], number
