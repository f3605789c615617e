"""What the last few messages of a conversation said, without their words.

A child often tells in pieces: "can I tell you something" / "there's this man"
/ "he wants pics of me". Each piece alone may say little; together they are a
disclosure. The NLU keeps, for the last few typed messages, only the disclosure
reader's figures (probabilities rounded to two decimals, the class name) and
whether the message was flagged — never text — in the ``safeguard_memory``
slot (a short string, filled from an entity so it needs no action server).
The message that completes a disclosure is then caught with the evidence of
the ones before it, and a second concern can raise the level.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from bot.safeguarding.meaning import DISCLOSURE_CLASSES, Reading

# Messages remembered.
SIZE = 3
# How much an earlier message's disclosure probability counts beside the
# current one's (noisy-OR: 1 - (1 - p) * prod(1 - WEIGHT * p_i)).
WEIGHT = 0.7


@dataclass(frozen=True)
class Entry:
    evidence: float  # the reader's disclosure + announcement probability
    danger: float
    category: str
    flagged: bool

    def encode(self) -> str:
        return f"{self.evidence:.2f},{self.danger:.2f},{self.category},{int(self.flagged)}"


def decode(raw: object) -> list[Entry]:
    """The entries of a stored memory (oldest first); anything malformed is dropped."""
    if not isinstance(raw, str) or len(raw) > 200:
        return []
    entries = []
    for part in raw.split(";")[-SIZE:]:
        fields = part.split(",")
        if len(fields) != 4 or fields[2] not in DISCLOSURE_CLASSES:
            continue
        try:
            evidence, danger = float(fields[0]), float(fields[1])
        except ValueError:
            continue
        if not (0 <= evidence <= 1 and 0 <= danger <= 1):
            continue
        entries.append(Entry(evidence, danger, fields[2], fields[3] == "1"))
    return entries


def encode(entries: Iterable[Entry]) -> str:
    return ";".join(entry.encode() for entry in list(entries)[-SIZE:])


def remember(entries: list[Entry], reading: Reading, flagged: bool) -> str:
    """The memory after this message."""
    entry = Entry(round(reading.evidence, 2), round(reading.danger, 2), reading.category, flagged)
    return encode([*entries, entry])


def in_context(probability: float, earlier: Iterable[float]) -> float:
    """The disclosure probability of this message with the earlier ones' evidence."""
    keep = 1.0 - probability
    for p in earlier:
        keep *= 1.0 - WEIGHT * p
    return 1.0 - keep


def unflagged(entries: Iterable[Entry]) -> list[Entry]:
    """The remembered messages since the last one that was answered as a disclosure."""
    out: list[Entry] = []
    for entry in entries:
        out = [] if entry.flagged else [*out, entry]
    return out
