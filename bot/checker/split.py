"""Cutting a pasted message into the pieces the checker reads.

A child may paste one message or a whole exchange copied from an app:

    Tom_12: wanna 1000 vbucks?
    [18:02] jay: are u home alone rn?
    12/03/2024, 18:02 - Ben: lets meet irl
    [12/03/2024 18:02:11] Ben: ...

Each line loses its timestamp and speaker name; lines the child wrote
themselves ("me:", "moi :") are left out when other lines remain. A line is the
unit a tactic is found in; shorter *fragments* (sentences, or windows of words
in a long sentence) are what the reply quotes as evidence.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# Invisible and control characters: removed from what is read and quoted.
_INVISIBLE = re.compile("[\u200b-\u200f\u202a-\u202e\u2060-\u2064\ufeff\u00ad\u180e\u034f]")
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_SPACES = re.compile(r"[^\S\n]+")
_LINE_BREAKS = re.compile(r"\r\n?|[\u2028\u2029\u0085]")

_DATE = r"\d{1,4}[/.-]\d{1,2}[/.-]\d{2,4}"
_TIME = r"\d{1,2}[:h]\d{2}(?::\d{2})?(?:\s?[ap]\.?m\b\.?)?"
_STAMP = rf"(?:{_DATE}(?:,?\s+|\s+[aà]\s+)?)?{_TIME}|{_DATE}"
# "[18:02]", "(18:02)", "18:02 -", "12/03/2024, 18:02 -", "[12/03/2024, 18:02:11]"
_TIMESTAMP = re.compile(rf"^\s*(?:[\[(]\s*(?:{_STAMP})\s*[\])]|(?:{_STAMP}))\s*[-–—|:]?\s*", re.I)
# A speaker name before a colon. Without a timestamp it must look like a
# user name (at most two words), so that "Reminder from Ms Patel: ..." stays.
_SPEAKER_AFTER_STAMP = re.compile(r"^([^\s:][^:\n]{0,39}?)\s?:\s+")
_SPEAKER_ALONE = re.compile(r"^([^\s:\d][^\s:]{0,23}(?: [^\s:]{1,23})?)\s?:\s+")
_URL_START = re.compile(r"^(?:https?|www)", re.I)
_SELF = frozenset({"me", "moi", "myself", "you", "vous", "toi"})
# Speaker names that say who is writing (a parent, a teacher, a coach): kept in
# the line, because "mum: are you home yet?" is not "are you home yet?".
_ROLES = frozenset(
    {
        "mum", "mom", "mummy", "mommy", "mam", "mama", "dad", "daddy", "papa", "maman",
        "grandma", "granny", "grandpa", "grandad", "nana", "nan", "mamie", "papi", "papy",
        "auntie", "aunt", "uncle", "tata", "tati", "tonton", "coach", "teacher", "miss", "sir",
        "prof", "maitresse", "maitre", "entraineur", "school", "ecole", "college",
    }
)  # fmt: skip
_TITLED = re.compile(r"^(?:mr|mrs|ms|miss|mme|mlle|m)\.? \w+$", re.I)

_SENTENCE_END = re.compile(r"(?<=[.!?…])\s+|\s+[-–—]\s+|\s*[;]\s+")
_LINKS = r"(?:and|but|then|so|et|mais|puis|alors|donc)"
_CLAUSE_END = re.compile(rf"\s*,\s*(?:{_LINKS}\s+)?|\s+{_LINKS}\s+", re.I)
_WORD = re.compile(r"\S+")

# Longest fragment quoted as evidence, and the word windows long sentences are cut in.
EVIDENCE_CHARS = 80
_WINDOW_WORDS = 12
_WINDOW_STEP = 6
# A line longer than this (in words) is also read sentence by sentence. A shorter
# line is read whole: its other sentence is often what makes it harmless ("don't
# tell jess - we're making her a card", "... - Mrs Hall, ICT lesson"). Chosen on
# the development sets (docs/checker.md, issue 18 round 3).
LONG_LINE_WORDS = 12
# A sentence longer than this (in words) is also read in overlapping windows of
# words, so that a tactic in the middle of a run-on paste is not diluted.
LONG_SENTENCE_WORDS = 30
_UNIT_WINDOW_WORDS = 16
_UNIT_WINDOW_STEP = 8


@dataclass(frozen=True)
class Line:
    """One line of the paste: its text without timestamp or speaker."""

    text: str
    speaker: str = ""

    @property
    def from_child(self) -> bool:
        return self.speaker.strip().lower() in _SELF


def _is_role(speaker: str) -> bool:
    name = speaker.strip().lower()
    return name in _ROLES or bool(_TITLED.match(name))


def clean(text: str) -> str:
    """Remove invisible and control characters; unify line breaks and spaces."""
    text = _LINE_BREAKS.sub("\n", text)
    text = _INVISIBLE.sub("", text)
    text = _CONTROL.sub(" ", text)
    return _SPACES.sub(" ", text)


def strip_prefix(line: str) -> Line:
    """Split a timestamp and speaker name off the start of one line."""
    rest = line.strip()
    stamped = _TIMESTAMP.match(rest)
    if stamped and stamped.end() < len(rest):
        rest = rest[stamped.end() :]
    speaker_re = _SPEAKER_AFTER_STAMP if stamped else _SPEAKER_ALONE
    named = speaker_re.match(rest)
    if named and not _URL_START.match(rest) and named.end() < len(rest):
        speaker = named.group(1).strip()
        if _is_role(speaker):
            return Line(f"{speaker}: {rest[named.end() :].strip()}", speaker)
        return Line(rest[named.end() :].strip(), speaker)
    return Line(rest.strip())


def lines(text: str) -> list[Line]:
    """The non-empty lines of a paste, without timestamps or speaker names.

    Lines the child wrote ("me:", "moi:") are dropped unless nothing else is left.
    """
    found = [strip_prefix(raw) for raw in clean(text).split("\n")]
    found = [line for line in found if line.text]
    others = [line for line in found if not line.from_child]
    return others or found


@dataclass(frozen=True)
class Unit:
    """A piece of the paste a tactic is looked for in: a whole line, one sentence
    of a line that has several, or a window of words of a long sentence."""

    line: int  # index in ``lines()``
    text: str


def units(found: list[Line]) -> list[Unit]:
    """Every line; for a line of more than ``LONG_LINE_WORDS`` words, also each of
    its sentences and word windows of sentences longer than ``LONG_SENTENCE_WORDS``:
    an exchange is read message by message, a long message sentence by sentence.
    A sentence keeps the role of its line's writer ("coach: ...")."""
    out: list[Unit] = []
    for index, line in enumerate(found):
        out.append(Unit(index, line.text))
        body, role = line.text, ""
        if line.speaker and body.startswith(f"{line.speaker}: "):
            role, body = f"{line.speaker}: ", body[len(line.speaker) + 2 :]
        if len(body.split()) <= LONG_LINE_WORDS:
            continue
        parts = sentences(body)
        if len(parts) > 1:
            out.extend(Unit(index, role + part) for part in parts)
        for part in parts:
            out.extend(Unit(index, role + window) for window in _windows(part))
    return out


def _windows(
    sentence: str, size: int = _UNIT_WINDOW_WORDS, step: int = _UNIT_WINDOW_STEP
) -> list[str]:
    words = [m.group(0) for m in _WORD.finditer(sentence)]
    if len(words) <= LONG_SENTENCE_WORDS:
        return []
    last_start = len(words) - size
    starts = list(range(0, last_start + 1, step))
    if starts[-1] != last_start:
        starts.append(last_start)
    return [" ".join(words[s : s + size]) for s in starts]


def sentences(text: str) -> list[str]:
    """Sentences of one line (split on . ! ? … ; and dashes)."""
    parts = [p.strip() for p in _SENTENCE_END.split(text)]
    return [p for p in parts if p]


def fragments(text: str) -> list[str]:
    """Short pieces of one line to quote: sentences and their clauses (cut at
    commas, "and", "but", "et", "mais"...), long ones cut into word windows."""
    pieces: list[str] = []
    for sentence in sentences(text):
        clauses = [c.strip() for c in _CLAUSE_END.split(sentence) if c.strip()]
        if len(clauses) > 1:
            pieces.extend(c for c in clauses if len(c) <= EVIDENCE_CHARS and len(c.split()) > 1)
        if len(sentence) <= EVIDENCE_CHARS:
            pieces.append(sentence)
            continue
        words = [m.group(0) for m in _WORD.finditer(sentence)]
        last_start = max(len(words) - _WINDOW_WORDS, 0)
        starts = list(range(0, last_start + 1, _WINDOW_STEP))
        if starts[-1] != last_start:
            starts.append(last_start)
        pieces.extend(" ".join(words[s : s + _WINDOW_WORDS]) for s in starts)
    return pieces


def shorten(fragment: str, limit: int = EVIDENCE_CHARS) -> str:
    """``fragment`` cut at a word boundary to at most ``limit`` characters."""
    fragment = " ".join(fragment.split())
    if len(fragment) <= limit:
        return fragment
    cut = fragment[: limit - 1]
    if " " in cut[limit // 2 :]:
        cut = cut[: cut.rfind(" ")]
    return cut.rstrip(" ,;:-") + "…"
