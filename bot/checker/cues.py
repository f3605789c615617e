"""High-precision cue patterns (``data/tactic_check/cues.yml``).

A cue matching a normalised line is enough to report its tactic; ``unless``
patterns switch a tactic's cues off for a line with a benign context.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import yaml

from bot.tactics import TACTICS


@dataclass(frozen=True)
class Cues:
    patterns: dict[str, tuple[re.Pattern[str], ...]]
    unless: dict[str, tuple[re.Pattern[str], ...]]

    def match(self, normalised: str) -> dict[str, re.Match[str]]:
        """``{tactic: first match}`` for every tactic whose cues fire on the line."""
        found: dict[str, re.Match[str]] = {}
        for tactic in TACTICS:
            if any(u.search(normalised) for u in self.unless.get(tactic, ())):
                continue
            for pattern in self.patterns.get(tactic, ()):
                hit = pattern.search(normalised)
                if hit:
                    found[tactic] = hit
                    break
        return found

    def tactics(self, normalised: str) -> set[str]:
        return set(self.match(normalised))


def load_cues(path: Path) -> Cues:
    if not path.exists():
        return Cues({}, {})
    raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    unknown = set(raw) - set(TACTICS)
    if unknown:
        raise ValueError(f"{path}: unknown tactics {sorted(unknown)}")
    patterns: dict[str, tuple[re.Pattern[str], ...]] = {}
    unless: dict[str, tuple[re.Pattern[str], ...]] = {}
    for tactic, entry in raw.items():
        try:
            patterns[tactic] = tuple(re.compile(p) for p in entry.get("patterns") or [])
            unless[tactic] = tuple(re.compile(p) for p in entry.get("unless") or [])
        except re.error as err:
            raise ValueError(f"{path}: bad pattern for {tactic}: {err}") from err
    return Cues(patterns, unless)
