"""Checks on what arrives at the REST webhook, before Rasa sees it.

Stock Rasa answers HTTP 500 to a body of ``[]`` or ``42``; here a malformed
body gets a 400 with a reason, and text is bounded and cleaned.
"""

from __future__ import annotations

import json
import re
import threading
import time
import unicodedata
from collections import OrderedDict
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

MAX_SENDER_CHARS = 128
# Longest text passed on (a pasted conversation may be long; the rest is cut).
MAX_TEXT_CHARS = 20000
MAX_METADATA_BYTES = 4096
# Deepest nesting accepted in metadata (the web page sends a flat object).
MAX_METADATA_DEPTH = 8
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
# Half of a UTF-16 pair on its own (JSON "\ud800"): not text, cannot be encoded.
_LONE_SURROGATE = re.compile(r"[\ud800-\udfff]")
# Entities only the NLU component sets (addons/nlu.py); a payload must not set
# them, or a child could put the conversation in a state no reply matches
# (e.g. country "XX": the safeguarding reply would lose the child's language).
NLU_ONLY_ENTITIES = frozenset(
    {
        "detected_language",
        "reply_language",
        "metadata_country",
        "safeguard_level",
        "safeguard_topic",
        "safeguard_memory",
    }
)
# Rasa's own intents: not part of the contract, and Lumi has no reply to them.
RASA_INTERNAL_INTENTS = frozenset({"restart", "back", "session_start"})
# Rasa's ``/intent@confidence{json}`` form (RegexMessageHandler), over every line.
_PAYLOAD = re.compile(
    r"^/(?P<intent>[^{@]+)(?P<confidence>@[0-9.]+)?(?P<entities>\{.+\})?(?P<rest>.*)$", re.DOTALL
)


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
    except RecursionError as error:  # thousands of nested [ or {
        raise BadRequest("the body is nested too deeply") from error
    if not isinstance(body, dict):
        raise BadRequest("the body must be a JSON object with 'sender' and 'message'")
    sender = body.get("sender")
    if not isinstance(sender, str) or not sender.strip():
        raise BadRequest("'sender' must be a non-empty string")
    if len(sender) > MAX_SENDER_CHARS or not sender.isprintable():
        raise BadRequest(f"'sender' must be at most {MAX_SENDER_CHARS} printable characters")
    text = body.get("message")
    if not isinstance(text, str):
        raise BadRequest("'message' must be a string")
    metadata = body.get("metadata")
    if metadata is None:
        metadata = {}
    if not isinstance(metadata, dict):
        raise BadRequest("'metadata' must be a JSON object")
    if _depth(metadata) > MAX_METADATA_DEPTH:
        raise BadRequest(f"'metadata' must be nested at most {MAX_METADATA_DEPTH} levels deep")
    try:
        size = len(json.dumps(metadata, ensure_ascii=False).encode())
    except UnicodeEncodeError as error:
        raise BadRequest("'metadata' must be valid text (no lone surrogates)") from error
    if size > MAX_METADATA_BYTES:
        raise BadRequest(f"'metadata' must be at most {MAX_METADATA_BYTES} bytes")
    text = _LONE_SURROGATE.sub("\ufffd", _CONTROL.sub("", text))
    truncated = len(text) > MAX_TEXT_CHARS
    if truncated:
        text = text[:MAX_TEXT_CHARS]
    return Incoming(sender=sender, text=text, metadata=metadata, truncated=truncated)


def _depth(value: Any) -> int:
    """How deeply ``value`` nests lists and objects (iterative: no recursion limit)."""
    deepest = 0
    stack = [(value, 1)]
    while stack:
        item, level = stack.pop()
        if isinstance(item, dict):
            children: Any = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        deepest = max(deepest, level)
        stack.extend((child, level + 1) for child in children)
    return deepest


def is_blank(text: str) -> bool:
    """Nothing to read: empty, spaces, or invisible characters only (zero-width...)."""
    return all(ch.isspace() or unicodedata.category(ch) in ("Cf", "Cc", "Cs") for ch in text)


def clean_payload(
    text: str, intents: Collection[str] | None, entities: Collection[str] | None
) -> str:
    """A message starting with ``/`` as Rasa should read it.

    - ``/intent{json}`` of a known intent: arguments that are not entities of the
      domain, or that only the NLU may set (``NLU_ONLY_ENTITIES``), are dropped;
      a confidence (``@0.1``) and unreadable or too deeply nested arguments
      too: ``/start{not json`` is ``/start``.
    - Anything else (``/``, ``//``, ``/foo``, ``/ he wants my photos``, Rasa's
      ``/restart``): the child typed it, so it is read as typed text without
      the slashes. Language detection and the safety net run on it (they skip
      payloads), and Rasa does not log it as an unparsable payload.

    ``intents`` / ``entities``: the domain's (``None``: the text is left alone).
    """
    stripped = text.strip()
    if not stripped.startswith("/") or intents is None:
        return text
    match = _PAYLOAD.match(stripped)
    intent = match.group("intent").strip() if match else ""
    if not match or intent not in intents or intent in RASA_INTERNAL_INTENTS:
        return stripped.lstrip("/").strip()
    arguments: dict[str, Any] = {}
    raw = match.group("entities")
    if raw and not match.group("rest").strip():
        try:
            parsed = json.loads(raw)
        except (ValueError, RecursionError):
            parsed = None
        # deeper than metadata may be: Rasa deep-copies entities (RecursionError)
        if isinstance(parsed, dict) and _depth(parsed) <= MAX_METADATA_DEPTH:
            arguments = {
                key: value
                for key, value in parsed.items()
                if key not in NLU_ONLY_ENTITIES and (entities is None or key in entities)
            }
    if not arguments:
        return f"/{intent}"
    return f"/{intent}" + json.dumps(arguments, separators=(",", ":"))


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
