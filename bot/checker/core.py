"""``check(text)``: which manipulation tactics a pasted message shows.

The paste is cut into lines (timestamps and speaker names removed, the child's
own lines left out); a tactic is found when, in any line, the model's
probability reaches the tactic's threshold or one of its cue patterns fires.
The evidence for a tactic is the short fragment of the paste that shows it best:
a fragment where a cue fires, else the fragment the model scores highest.

Nothing here stores or logs the pasted text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from bot.checker import split
from bot.checker.model import Model, get_model, units
from bot.normalise import normalise
from bot.tactics import TACTICS

if TYPE_CHECKING:
    import numpy as np

# Longest paste read; anything after this is not checked (the reply says so).
MAX_CHARS = 4000
# Tactics that mean the child may be in danger now: the lead adds the
# safeguard payload when ``CheckResult.danger`` is set.
DANGER_TACTICS: frozenset[str] = frozenset({"threat", "meeting"})

_HAS_WORD = re.compile(r"[^\W_]")


@dataclass(frozen=True)
class CheckResult:
    tactics: tuple[str, ...]  # in bot.tactics.TACTICS order
    evidence: dict[str, str] = field(default_factory=dict)  # tactic -> fragment of the paste
    danger: bool = False

    @property
    def found(self) -> bool:
        return bool(self.tactics)


NOTHING = CheckResult(())


def input_problem(text: str | None) -> str | None:
    """``"empty"``, ``"no_words"``, ``"too_long"`` or ``None`` for a normal paste.

    ``"too_long"`` pastes are still checked (their first ``MAX_CHARS`` characters).
    """
    if text is None:
        return "empty"
    cleaned = split.clean(text).strip()
    if not cleaned:
        return "empty"
    if not _HAS_WORD.search(normalise(cleaned)):
        return "no_words"
    if len(text) > MAX_CHARS:
        return "too_long"
    return None


def check(text: str) -> CheckResult:
    """The tactics ``text`` shows, with evidence and the danger flag."""
    if not isinstance(text, str):
        return NOTHING
    text = text[:MAX_CHARS]
    if input_problem(text) in ("empty", "no_words"):
        return NOTHING
    return _check(get_model(), text)


def _check(model: Model, text: str) -> CheckResult:
    lines = split.lines(text)
    line_units = units(text)
    # Fragments to quote: (line index, original fragment, normalised fragment).
    pieces = [
        (index, fragment, normalise(fragment))
        for index, line in enumerate(lines)
        for fragment in split.fragments(line.text)
    ]
    pieces = [p for p in pieces if p[2]]
    probs = model.proba([u for _, u in line_units] + [p[2] for p in pieces])
    unit_probs, piece_probs = probs[: len(line_units)], probs[len(line_units) :]
    line_cues = [model.cues.tactics(normalise(line.text)) for line in lines]
    piece_cues = [model.cues.tactics(p[2]) for p in pieces]

    found: list[str] = []
    evidence: dict[str, str] = {}
    for k, tactic in enumerate(TACTICS):
        threshold = model.thresholds[tactic]
        best_unit = float(unit_probs[:, k].max()) if len(line_units) else 0.0
        cue_lines = {i for i, cues in enumerate(line_cues) if tactic in cues}
        if best_unit < threshold and not cue_lines:
            continue
        found.append(tactic)
        quote = _evidence(tactic, k, pieces, piece_probs, piece_cues, cue_lines)
        if quote:
            evidence[tactic] = quote
    return CheckResult(tuple(found), evidence, bool(DANGER_TACTICS.intersection(found)))


def _evidence(
    tactic: str,
    k: int,
    pieces: list[tuple[int, str, str]],
    probs: np.ndarray,
    piece_cues: list[set[str]],
    cue_lines: set[int],
) -> str:
    """The fragment that shows ``tactic`` best: the shortest fragment where one of
    its cues fires, else the most probable fragment of the lines where a cue
    fired, else the most probable fragment of all."""
    if not pieces:
        return ""
    candidates = [i for i, cues in enumerate(piece_cues) if tactic in cues]
    if candidates:
        best = min(candidates, key=lambda i: (len(pieces[i][1]), -float(probs[i, k])))
        return split.shorten(pieces[best][1])
    if not candidates:
        candidates = [i for i, piece in enumerate(pieces) if piece[0] in cue_lines]
    if not candidates:
        candidates = list(range(len(pieces)))
    best = max(candidates, key=lambda i: float(probs[i, k]))
    return split.shorten(pieces[best][1])
