"""The disclosure reader: what a message means, on sentence embeddings.

The safety net (``screen.py``) reads words; this model reads meaning. One
multinomial logistic regression for both languages over

- the message's sentence embedding (``bot.semantic``: Google's USE
  multilingual v3, so English and French share what is learnt), and
- character n-grams of the normalised text (misspellings, SMS-speak, no
  accents) and word uni- and bigrams ("my nan" is not "a man"),

trained on the NLU examples (``data/nlu``): every intent that is not a risk is
``none``, ``mention_risk`` (a sentence about a story character) is ``mention``,
and ``disclose_problem`` is one of the disclosure classes below, from its
block's ``metadata: {category: ...}`` (older examples without one are given the
class the safety net reads in them).

A reading gives the probability that the message is a real-life disclosure,
the probability that it is an immediate danger, and the most likely class.
Plain Python and scikit-learn: the Rasa component in ``addons/semantic.py``
trains it with the Rasa model and keeps it inside the model archive.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from bot import semantic
from bot.normalise import normalise

# Bump when the features or the classes change.
VERSION = "2"
NONE = "none"
MENTION = "mention"
# A piece that announces a disclosure without saying what it is ("can I tell
# you something", "promise you won't tell"): not a disclosure alone, but
# evidence for the message that completes it (bot/safeguarding/memory.py).
ANNOUNCE = "announce"
# Real-life disclosures, by what the reply must do (PEDAGOGY.md, CONTRACT.md).
DISCLOSURE_CLASSES = (
    "online",  # grooming, bribes, pictures, secrecy, another app, personal info
    "sextortion",  # images threatened or demanded, money asked: danger
    "self_harm",  # suicidal thoughts or self-harm, the child's or a friend's: danger
    "meeting",  # a meeting or pick-up planned: danger
    "violence",  # someone threatening to come, at the door, following: danger
    "abuse",  # abuse happening: danger
    "worry",  # a worry that is not about someone online
)
CLASSES = (NONE, MENTION, ANNOUNCE, *DISCLOSURE_CLASSES)
DANGER_CLASSES = frozenset({"sextortion", "self_harm", "meeting", "violence", "abuse"})
# The safety net's categories as reader classes (for examples without metadata).
_FROM_NET = (
    ("self_harm", "self_harm"),
    ("sextortion", "sextortion"),
    ("abuse", "abuse"),
    ("intruder", "violence"),
)

# Model settings (chosen by cross-validation on the training data:
# scripts/safeguarding_crossval.py).
C = 4.0
EMBEDDING_WEIGHT = 2.0
NGRAMS = (2, 4)
MAX_NGRAM_FEATURES = 30000
SEED = 7
# Types a stored reader may hold beyond what skops trusts by default.
TRUSTED_TYPES = frozenset({"scipy.sparse._csr.csr_matrix"})


@dataclass(frozen=True)
class Reading:
    """What the reader makes of one message."""

    disclosure: float  # P(a real-life disclosure), any class
    danger: float  # P(a disclosure of immediate danger)
    mention: float  # P(a risky sentence about someone else, e.g. a story character)
    category: str  # the most likely disclosure class
    announce: float = 0.0  # P(the announcement of a disclosure still to come)

    @property
    def evidence(self) -> float:
        """What this message says towards a disclosure told over several messages."""
        return min(1.0, self.disclosure + self.announce)

    def as_dict(self) -> dict[str, Any]:
        return {
            "disclosure": round(self.disclosure, 4),
            "danger": round(self.danger, 4),
            "mention": round(self.mention, 4),
            "category": self.category,
            "announce": round(self.announce, 4),
        }

    @classmethod
    def from_dict(cls, raw: Any) -> Reading | None:
        if not isinstance(raw, dict):
            return None
        try:
            category = str(raw.get("category"))
            return cls(
                disclosure=float(raw["disclosure"]),
                danger=float(raw["danger"]),
                mention=float(raw["mention"]),
                category=category if category in DISCLOSURE_CLASSES else "online",
                announce=float(raw.get("announce", 0.0)),
            )
        except (KeyError, TypeError, ValueError):
            return None

    @property
    def danger_class(self) -> bool:
        return self.category in DANGER_CLASSES


NOTHING = Reading(disclosure=0.0, danger=0.0, mention=0.0, category="online")


def label(intent: str, category: str | None, text: str, *, announce: bool = False) -> str:
    """The reader's class for a training example (``announce``: the block's
    metadata marks it as the announcement of a disclosure still to come)."""
    if intent == "mention_risk":
        return MENTION
    if intent != "disclose_problem":
        return NONE
    if announce:
        return ANNOUNCE
    if category in DISCLOSURE_CLASSES:
        return category
    from bot.safeguarding.screen import screen

    found = set(screen(text).categories)
    for net_category, reader_class in _FROM_NET:
        if net_category in found:
            return reader_class
    return "online"


def prepare(text: str) -> str:
    """The text the n-grams read: normalised, apostrophes dropped."""
    return normalise(text).replace("'", "").replace("’", "")


class Reader:
    """A trained reader."""

    def __init__(self, vectorizer: Any, classifier: Any) -> None:
        self.vectorizer = vectorizer  # the n-grams (a FeatureUnion of characters and words)
        self.classifier = classifier
        classes = list(classifier.classes_)
        self._index = {name: classes.index(name) for name in classes}

    def features(self, texts: Sequence[str]) -> Any:
        return _features(self.vectorizer, texts)

    def probabilities(self, texts: Sequence[str]) -> Any:
        """Class probabilities, shape (len(texts), len(classes)), columns in ``CLASSES`` order."""
        import numpy as np

        raw = self.classifier.predict_proba(self.features(texts))
        out = np.zeros((len(texts), len(CLASSES)))
        for column, name in enumerate(CLASSES):
            if name in self._index:
                out[:, column] = raw[:, self._index[name]]
        return out

    def read(self, texts: Sequence[str]) -> list[Reading]:
        return [reading(row) for row in self.probabilities(texts)]

    def read_one(self, text: str) -> Reading:
        if not text.strip():
            return NOTHING
        return self.read([text])[0]

    def dumps(self) -> bytes:
        """The reader as bytes (skops: no pickle, so loading runs no stored code)."""
        import skops.io as sio

        return bytes(
            sio.dumps(
                {"version": VERSION, "vectorizer": self.vectorizer, "classifier": self.classifier}
            )
        )

    @classmethod
    def loads(cls, data: bytes) -> Reader:
        import skops.io as sio

        untrusted = sio.get_untrusted_types(data=data)
        unexpected = sorted(set(untrusted) - TRUSTED_TYPES)
        if unexpected:
            raise ValueError(f"the stored disclosure reader holds unexpected types: {unexpected}")
        stored = sio.loads(data, trusted=untrusted)
        if stored.get("version") != VERSION:
            raise ValueError(f"disclosure reader version {stored.get('version')} != {VERSION}")
        return cls(stored["vectorizer"], stored["classifier"])


def reading(row: Sequence[float]) -> Reading:
    probs = dict(zip(CLASSES, (float(p) for p in row), strict=True))
    disclosure = sum(probs[name] for name in DISCLOSURE_CLASSES)
    danger = sum(probs[name] for name in DANGER_CLASSES)
    category = max(DISCLOSURE_CLASSES, key=lambda name: probs[name])
    return Reading(disclosure, danger, probs[MENTION], category, probs[ANNOUNCE])


def _features(vectorizer: Any, texts: Sequence[str]) -> Any:
    import scipy.sparse as sp

    grams = vectorizer.transform([prepare(t) for t in texts])
    dense = semantic.embed(list(texts)) * EMBEDDING_WEIGHT
    return sp.hstack([sp.csr_matrix(dense), grams], format="csr")


def train(texts: Sequence[str], labels: Sequence[str], *, c: float = C, seed: int = SEED) -> Reader:
    """Train a reader on labelled texts (labels from ``CLASSES``)."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    vectorizer = TfidfVectorizer(
        analyzer="char_wb",
        ngram_range=NGRAMS,
        min_df=2,
        sublinear_tf=True,
        max_features=MAX_NGRAM_FEATURES,
    )
    vectorizer.fit([prepare(t) for t in texts])
    classifier = LogisticRegression(C=c, max_iter=3000, class_weight="balanced", random_state=seed)
    classifier.fit(_features(vectorizer, texts), list(labels))
    return Reader(vectorizer, classifier)
