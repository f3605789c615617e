"""The sentence encoder loads from the installed package, offline, and reads meaning."""

import socket

import numpy as np
import pytest

from bot import semantic


@pytest.fixture
def no_network(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("the encoder tried to open a network connection")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)


def test_loads_offline_and_embeds(no_network):
    semantic.clear_cache()
    vectors = semantic.embed(
        ["he wants pics of me", "il veut des photos de moi", "", "i love my cat"]
    )
    assert vectors.shape == (4, semantic.DIMENSIONS)
    norms = np.linalg.norm(vectors, axis=1)
    assert norms[[0, 1, 3]] == pytest.approx(1.0, abs=1e-3)
    assert norms[2] == 0.0  # nothing to read
    # A sentence and its translation are close; an unrelated one is not.
    assert float(vectors[0] @ vectors[1]) > 0.7
    assert float(vectors[0] @ vectors[3]) < 0.5


def test_cache_gives_the_same_vector_and_holds_no_text():
    semantic.clear_cache()
    first = semantic.embed_one("can i tell you something")
    again = semantic.embed_one("can i tell you something")
    assert np.array_equal(first, again)
    assert all(isinstance(key, bytes) and b"tell" not in key for key in semantic._cache)
