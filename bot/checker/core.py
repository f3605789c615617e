"""``check(text)``: which manipulation tactics a pasted message shows.

The paste is cut into lines (timestamps and speaker names removed, the child's
own lines left out) and read message by message, a long message sentence by
sentence (``split.units``); a tactic is found when, in any line or sentence, the
model's probability reaches the tactic's threshold, or one of its cue patterns
fires on a line the gate does not read as harmless (``model.CUE_GATE``). The evidence for
a tactic is the short fragment of the paste that shows it, taken where it is: a
fragment where a cue fires, else the fragment the model scores highest in the
line that showed it.

Nothing here stores or logs the pasted text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from bot.checker import split
from bot.checker.model import Model, get_model
from bot.normalise import normalise
from bot.tactics import TACTICS

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
    import numpy as np

    lines = split.lines(text)
    read = [(unit, normalise(unit.text)) for unit in split.units(lines)]
    read = [(unit, norm) for unit, norm in read if norm]
    unit_probs, unit_gate = model.read([norm for _, norm in read])
    line_gate = np.zeros(len(lines))
    for (unit, _), gate in zip(read, unit_gate, strict=True):
        line_gate[unit.line] = max(line_gate[unit.line], gate)
    line_cues = model.line_cues([normalise(line.text) for line in lines], line_gate)

    found: list[str] = []
    cue_lines: dict[str, list[int]] = {}
    best_line: dict[str, int] = {}
    for k, tactic in enumerate(TACTICS):
        cue_lines[tactic] = [i for i, cues in enumerate(line_cues) if tactic in cues]
        best = int(unit_probs[:, k].argmax()) if read else -1
        above = best >= 0 and unit_probs[best, k] >= model.thresholds[tactic]
        if not above and not cue_lines[tactic]:
            continue
        found.append(tactic)
        if above:
            best_line[tactic] = read[best][0].line
    evidence = _evidence(model, lines, found, cue_lines, best_line)
    return CheckResult(tuple(found), evidence, bool(DANGER_TACTICS.intersection(found)))


def _evidence(
    model: Model,
    lines: list[split.Line],
    found: list[str],
    cue_lines: dict[str, list[int]],
    best_line: dict[str, int],
) -> dict[str, str]:
    """For each tactic found, the fragment of the paste that shows it, quoted
    where it is: the shortest fragment where one of its cues fires; else the
    fragment the model scores highest in the line (or sentence) that showed it."""
    pieces: dict[int, list[tuple[str, str]]] = {}

    def fragments_of(index: int) -> list[tuple[str, str]]:
        if index not in pieces:
            cut = [(f, normalise(f)) for f in split.fragments(lines[index].text)]
            pieces[index] = [(f, n) for f, n in cut if n]
        return pieces[index]

    evidence: dict[str, str] = {}
    to_score: dict[str, list[tuple[str, str]]] = {}
    for tactic in found:
        cued = [
            fragment
            for index in cue_lines[tactic]
            for fragment, norm in fragments_of(index)
            if tactic in model.cues.tactics(norm)
        ]
        if cued:
            evidence[tactic] = split.shorten(min(cued, key=len))
            continue
        where = [best_line[tactic]] if tactic in best_line else cue_lines[tactic]
        candidates = [piece for index in where for piece in fragments_of(index)]
        if candidates:
            to_score[tactic] = candidates
    if to_score:
        texts = sorted({norm for candidates in to_score.values() for _, norm in candidates})
        probs = model.proba(texts)
        row = {norm: i for i, norm in enumerate(texts)}
        for tactic, candidates in to_score.items():
            k = TACTICS.index(tactic)
            best = max(candidates, key=lambda c: (float(probs[row[c[1]], k]), -len(c[0])))
            evidence[tactic] = split.shorten(best[0])
    return evidence
