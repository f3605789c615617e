"""Pure ASGI middleware: security headers, request body limits, same-origin checks.

- :class:`SecurityHeaders` adds the headers below to EVERY response (pages,
  API, static files, errors), replacing any the app set itself.
- :class:`BodyLimit` refuses a body larger than ``max_bytes`` with a 413, from
  ``Content-Length`` at once or while the body streams in.
- :class:`SameOrigin` refuses state-changing requests (anything but GET/HEAD)
  coming from another site: no CORS, ever (no ``Access-Control-*`` header is
  sent, so browsers keep other origins out of the API too).

Error bodies are JSON ``{"error": ..., "messages": [{"text": ...}]}`` in the
language of the request's ``Accept-Language``.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from bot import text as texts

logger = logging.getLogger("lumi.web")

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
)
PERMISSIONS_POLICY = (
    "camera=(), microphone=(), geolocation=(), payment=(), usb=(), "
    "accelerometer=(), gyroscope=(), magnetometer=(), interest-cohort=()"
)
HEADERS: dict[str, str] = {
    "content-security-policy": CSP,
    "x-content-type-options": "nosniff",
    # same-origin, not no-referrer: a form or fetch POST then carries its real Origin
    # (no-referrer makes it "null"), which the same-origin check needs on plain HTTP,
    # where browsers send no Sec-Fetch-Site. Other sites still get no referrer.
    "referrer-policy": "same-origin",
    "permissions-policy": PERMISSIONS_POLICY,
    "x-frame-options": "DENY",
    "cross-origin-opener-policy": "same-origin",
    "cross-origin-resource-policy": "same-origin",
}
_HEADER_NAMES = {name.encode("latin-1") for name in HEADERS}
SAFE_METHODS = ("GET", "HEAD")


def header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers") or []:
        if key.lower() == name:
            return bytes(value).decode("latin-1")
    return None


def accept_language(value: str | None) -> str:
    """The best of ``texts.LANGUAGES`` for an ``Accept-Language`` header (default English)."""
    ranked: list[tuple[float, int, str]] = []
    for index, part in enumerate((value or "").split(",")):
        fields = part.strip().split(";")
        code = fields[0].strip().lower().split("-")[0]
        quality = 1.0
        for param in fields[1:]:
            name, _, raw = param.strip().partition("=")
            if name.strip() == "q":
                try:
                    quality = float(raw)
                except ValueError:
                    quality = 0.0
        if code in texts.LANGUAGES and quality > 0:
            ranked.append((-quality, index, code))
    return sorted(ranked)[0][2] if ranked else texts.DEFAULT_LANGUAGE


async def send_error(send: Send, scope: Scope, status: int, key: str) -> None:
    lang = accept_language(header(scope, b"accept-language"))
    text = texts.t(key, lang)
    body = json.dumps({"error": text, "messages": [{"text": text}]}, ensure_ascii=False).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"cache-control", b"no-store"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


class SecurityHeaders:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        started = False

        async def send_with_headers(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                kept = [
                    (k, v)
                    for k, v in message.get("headers") or []
                    if bytes(k).lower() not in _HEADER_NAMES
                ]
                extra = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in HEADERS.items()]
                message["headers"] = kept + extra
            await send(message)

        try:
            await self.app(scope, receive, send_with_headers)
        except Exception:
            # Answer here, with the headers, rather than in Starlette's outer error
            # handler (which runs outside every middleware). No request data is logged.
            logger.exception("error while answering %s %s", scope.get("method"), scope.get("path"))
            if not started:
                await send_error(send_with_headers, scope, 500, "web.errors.rejected")


class BodyTooLarge(Exception):
    pass


class BodyLimit:
    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        length = header(scope, b"content-length")
        if length is not None:
            try:
                declared = int(length)
            except ValueError:
                await send_error(send, scope, 400, "web.errors.bad_body")
                return
            if declared > self.max_bytes:
                await send_error(send, scope, 413, "web.errors.too_large")
                return
        received = 0
        started = False

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise BodyTooLarge
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counting_receive, tracking_send)
        except BodyTooLarge:
            if not started:
                await send_error(send, scope, 413, "web.errors.too_large")


class SameOrigin:
    """Refuse non-GET requests from another origin (``Origin`` / ``Sec-Fetch-Site``)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        unsafe = scope["type"] == "http" and scope.get("method") not in SAFE_METHODS
        if unsafe and not self.allowed(scope):
            await send_error(send, scope, 403, "web.errors.forbidden")
            return
        await self.app(scope, receive, send)

    @staticmethod
    def allowed(scope: Scope) -> bool:
        site = (header(scope, b"sec-fetch-site") or "").lower()
        if site in ("cross-site", "same-site"):
            return False
        origin = header(scope, b"origin")
        if origin is None:
            return True  # not a browser, or a same-origin request of an old browser
        host = header(scope, b"host") or ""
        scheme = scope.get("scheme", "http")
        return origin in (f"{scheme}://{host}", f"http://{host}", f"https://{host}")
