"""One normal form for child text, shared by language detection, the safety
net and the message checker: lower case, no accents, no invisible characters,
letters repeated three times or more squeezed to one, spaces collapsed."""

from __future__ import annotations

import re
import unicodedata

_INVISIBLE = re.compile("[\u200b-\u200f\u202a-\u202e\u2060-\u2064\ufeff\u00ad]")
_REPEATS = re.compile(r"(\w)\1{2,}")
_SPACES = re.compile(r"\s+")
_APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'", "`": "'", "\u00b4": "'"})
_LIGATURES = str.maketrans({"œ": "oe", "æ": "ae", "ß": "ss"})
_WORD = re.compile(r"[a-z0-9]+")


def strip_accents(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def normalise(text: str) -> str:
    """The normal form of ``text`` (see module docstring)."""
    text = _INVISIBLE.sub("", text)
    text = text.lower().translate(_LIGATURES).translate(_APOSTROPHES)
    text = strip_accents(text)
    text = _REPEATS.sub(r"\1", text)
    return _SPACES.sub(" ", text).strip()


def words(text: str) -> list[str]:
    """Word tokens of already-normalised text; apostrophes split ("j'ai" -> j, ai)."""
    return _WORD.findall(text)


def collapse_repeated_words(text: str, keep: int = 3) -> str:
    """``text`` with runs of the same word cut to ``keep`` ("blah blah blah blah ..."
    -> "blah blah blah"), for the intent classifier: a word pasted hundreds of
    times outweighs everything else in a bag of words and looks like nothing
    children say. Runs of phrases ("j'ai peur j'ai peur") are left alone, and
    text without such a run is returned unchanged.
    """
    tokens = text.split()
    kept: list[str] = []
    previous, run = None, 0
    for token in tokens:
        key = normalise(token).strip(".,;:!?…'\"")
        run = run + 1 if key and key == previous else 1
        previous = key
        if run <= keep:
            kept.append(token)
    if len(kept) == len(tokens):
        return text
    return " ".join(kept)
