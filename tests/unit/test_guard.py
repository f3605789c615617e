"""Input checks at the webhook and the per-sender rate limit."""

from __future__ import annotations

import json

import pytest

from bot.guard import MAX_TEXT_CHARS, BadRequest, RateLimiter, parse_body


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"not json",
        b"[]",
        b"null",
        b"42",
        b'"hi"',
        b"{}",
        b'{"message": "hi"}',
        b'{"sender": "", "message": "hi"}',
        b'{"sender": 5, "message": "hi"}',
        b'{"sender": "a", "message": 5}',
        b'{"sender": "a", "message": null}',
        b'{"sender": "a", "message": ["hi"]}',
        b'{"sender": "a", "message": "hi", "metadata": [1]}',
        json.dumps({"sender": "x" * 129, "message": "hi"}).encode(),
        json.dumps({"sender": "a\x00b", "message": "hi"}).encode(),
        json.dumps({"sender": "a", "message": "hi", "metadata": {"k": "v" * 5000}}).encode(),
        b"\xff\xfe",
    ],
)
def test_bad_bodies_are_rejected_with_a_reason(body):
    with pytest.raises(BadRequest) as error:
        parse_body(body)
    assert str(error.value)


def test_good_body():
    incoming = parse_body(b'{"sender": "s1", "message": "hi", "metadata": {"language": "fr"}}')
    assert (incoming.sender, incoming.text, incoming.metadata) == ("s1", "hi", {"language": "fr"})


def test_long_text_is_cut_and_control_characters_removed():
    incoming = parse_body(json.dumps({"sender": "s", "message": "a\x00" * 60000}).encode())
    assert incoming.truncated and len(incoming.text) == MAX_TEXT_CHARS
    assert "\x00" not in incoming.text


def test_rate_limit_is_per_sender():
    limiter = RateLimiter(rate_per_second=1, burst=3)
    assert all(limiter.allow("flood", now=0.0) for _ in range(3))
    assert not limiter.allow("flood", now=0.0)
    assert limiter.allow("flood", now=1.1)  # one token back after a second
    # 30 other children are not slowed by the flood
    assert all(limiter.allow(f"child{i}", now=0.0) for i in range(30))


def test_rate_limiter_forgets_old_senders():
    limiter = RateLimiter(max_senders=10)
    for i in range(100):
        limiter.allow(f"s{i}", now=0.0)
    assert len(limiter._buckets) == 10
