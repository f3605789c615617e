"""The REST channel of the contract (``POST /webhooks/rest/webhook``), hardened.

Same URL and reply format as Rasa's own REST channel, plus: the body is checked
before Rasa sees it (a 400 with a reason, never a 500), text is bounded, one
sender cannot flood the server, an empty message gets a clear reply, and when
the assistant says nothing (the action server is down, an action failed) the
child still gets an answer — the safeguarding reply when the text needs it.
No message text is ever logged here.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from rasa.core.channels.channel import CollectingOutputChannel, UserMessage
from rasa.core.channels.rest import RestInput
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot import fallback
from bot.guard import BadRequest, RateLimiter, parse_body
from bot.nlu_rules import STATE_KEY, STATE_SLOTS

logger = logging.getLogger(__name__)


class LumiRestInput(RestInput):
    """Drop-in replacement for Rasa's ``rest`` channel."""

    @classmethod
    def name(cls) -> str:
        return "rest"

    def __init__(self, rate_per_second: float = 2.0, burst: int = 10) -> None:
        self.limiter = RateLimiter(rate_per_second=rate_per_second, burst=burst)

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> LumiRestInput:
        credentials = credentials or {}
        return cls(
            rate_per_second=float(credentials.get("rate_per_second", 2.0)),
            burst=int(credentials.get("burst", 10)),
        )

    async def _slots(self, request: Request, sender: str) -> dict[str, Any]:
        """The conversation's slots, or {} (never fails the request)."""
        try:
            agent = request.app.ctx.agent
            tracker = await agent.tracker_store.retrieve(sender)
            return dict(tracker.current_slot_values()) if tracker else {}
        except Exception:
            logger.warning("could not read the conversation state for a fallback reply")
            return {}

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        webhook = Blueprint("lumi_rest_webhook", __name__)

        @webhook.route("/", methods=["GET"])
        async def health(request: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @webhook.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            try:
                incoming = parse_body(request.body)
            except BadRequest as error:
                return response.json({"error": str(error)}, status=400)

            if not self.limiter.allow(incoming.sender):
                slots = await self._slots(request, incoming.sender)
                lang = fallback.language_for(slots, incoming.metadata)
                return response.json(
                    fallback.slow_down(lang), status=429, headers={"Retry-After": "2"}
                )

            if not incoming.text.strip():
                slots = await self._slots(request, incoming.sender)
                lang = fallback.language_for(slots, incoming.metadata)
                return response.json(fallback.empty_message(lang))

            metadata = dict(incoming.metadata)
            if incoming.truncated:
                metadata["truncated"] = True
            slots = await self._slots(request, incoming.sender)
            metadata[STATE_KEY] = {name: slots.get(name) for name in STATE_SLOTS}
            collector = CollectingOutputChannel()
            try:
                await on_new_message(
                    UserMessage(
                        incoming.text,
                        collector,
                        incoming.sender,
                        input_channel=self.name(),
                        metadata=metadata,
                    )
                )
            except Exception:
                logger.exception("handling a message failed")
            if not collector.messages:
                lang = fallback.language_for(slots, metadata, incoming.text)
                country = fallback.country_for(slots, metadata)
                logger.warning("the assistant produced no reply; answering from the channel")
                return response.json(fallback.nothing_said(incoming.text, lang, country))
            return response.json(collector.messages)

        return webhook
