"""Checks on what arrives at the REST webhook, before Rasa sees it.

Stock Rasa answers HTTP 500 to a body of ``[]`` or ``42``; here a malformed
body gets a 400 with a reason, and text is bounded and cleaned.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

MAX_SENDER_CHARS = 128
# Longest text passed on (a pasted conversation may be long; the rest is cut).
MAX_TEXT_CHARS = 20000
MAX_METADATA_BYTES = 4096
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


class BadRequest(ValueError):
    """The request cannot be answered; the message says why (no user text in it)."""


@dataclass
class Incoming:
    sender: str
    text: str
    metadata: dict[str, Any]
    truncated: bool = False


def parse_body(raw: bytes | str | None) -> Incoming:
    if not raw:
        raise BadRequest("empty body: send a JSON object with 'sender' and 'message'")
    try:
        body = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as error:
        raise BadRequest("the body is not valid JSON") from error
    if not isinstance(body, dict):
        raise BadRequest("the body must be a JSON object with 'sender' and 'message'")
    sender = body.get("sender")
    if not isinstance(sender, str) or not sender.strip():
        raise BadRequest("'sender' must be a non-empty string")
    if len(sender) > MAX_SENDER_CHARS or _CONTROL.search(sender):
        raise BadRequest(f"'sender' must be at most {MAX_SENDER_CHARS} printable characters")
    text = body.get("message")
    if not isinstance(text, str):
        raise BadRequest("'message' must be a string")
    metadata = body.get("metadata")
    if metadata is None:
        metadata = {}
    if not isinstance(metadata, dict):
        raise BadRequest("'metadata' must be a JSON object")
    if len(json.dumps(metadata, ensure_ascii=False).encode()) > MAX_METADATA_BYTES:
        raise BadRequest(f"'metadata' must be at most {MAX_METADATA_BYTES} bytes")
    text = _CONTROL.sub("", text)
    truncated = len(text) > MAX_TEXT_CHARS
    if truncated:
        text = text[:MAX_TEXT_CHARS]
    return Incoming(sender=sender, text=text, metadata=metadata, truncated=truncated)


class RateLimiter:
    """Per-sender token bucket: slows a flood from one sender, never a class.

    Each sender (each child) has its own bucket, so thirty children pressing
    buttons at once are not slowed at all.
    """

    def __init__(self, rate_per_second: float = 2.0, burst: int = 10, max_senders: int = 50000):
        self.rate = rate_per_second
        self.burst = burst
        self.max_senders = max_senders
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()
        self._lock = threading.Lock()

    def allow(self, sender: str, now: float | None = None) -> bool:
        now = time.monotonic() if now is None else now
        with self._lock:
            tokens, last = self._buckets.pop(sender, (float(self.burst), now))
            tokens = min(float(self.burst), tokens + (now - last) * self.rate)
            allowed = tokens >= 1.0
            if allowed:
                tokens -= 1.0
            self._buckets[sender] = (tokens, now)
            while len(self._buckets) > self.max_senders:
                self._buckets.popitem(last=False)
            return allowed
