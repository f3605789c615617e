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
import os
from collections.abc import Awaitable, Callable
from typing import Any

from rasa.core.channels.channel import CollectingOutputChannel, UserMessage
from rasa.core.channels.rest import RestInput
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot import fallback
from bot.guard import BadRequest, RateLimiter, clean_payload, is_blank, parse_body
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
        from addons import speedups

        speedups.install()  # created once, at server start
        credentials = credentials or {}
        # LUMI_RATE_PER_SECOND / LUMI_RATE_BURST override credentials.yml
        rate = os.environ.get("LUMI_RATE_PER_SECOND") or credentials.get("rate_per_second", 2.0)
        burst = os.environ.get("LUMI_RATE_BURST") or credentials.get("burst", 10)
        return cls(rate_per_second=float(rate), burst=int(burst))

    @staticmethod
    def _domain_names(request: Request) -> tuple[list[str] | None, list[str] | None]:
        """The loaded model's intents and entities (``None`` before a model is loaded)."""
        try:
            domain = request.app.ctx.agent.domain
            return list(domain.intents), list(domain.entities)
        except Exception:
            return None, None

    async def _state(self, request: Request, sender: str) -> dict[str, Any]:
        """The slots the NLU needs (language choice, mode): the tracker store's small
        copy when it keeps one (ours do), else read from the conversation."""
        store = getattr(request.app.ctx, "agent", None)
        store = getattr(store, "tracker_store", None)
        while store is not None and not hasattr(store, "conversation_state"):
            store = getattr(store, "_tracker_store", None)  # Rasa's wrappers
        if store is not None:
            try:
                state = await store.conversation_state(sender)
                return dict(state) if state else {}
            except Exception:
                logger.warning("could not read the conversation's language state")
        slots = await self._slots(request, sender)
        return {name: slots.get(name) for name in STATE_SLOTS}

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

            # "/foo", "/restart", payload arguments only the NLU may set: see clean_payload
            if incoming.text.lstrip().startswith("/"):
                incoming.text = clean_payload(incoming.text, *self._domain_names(request))
            if is_blank(incoming.text):
                slots = await self._slots(request, incoming.sender)
                lang = fallback.language_for(slots, incoming.metadata)
                return response.json(fallback.empty_message(lang))

            metadata = dict(incoming.metadata)
            if incoming.truncated:
                metadata["truncated"] = True
            metadata[STATE_KEY] = await self._state(request, incoming.sender)
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
                slots = await self._slots(request, incoming.sender)
                lang = fallback.language_for(slots, metadata, incoming.text)
                country = fallback.country_for(slots, metadata)
                logger.warning("the assistant produced no reply; answering from the channel")
                return response.json(fallback.nothing_said(incoming.text, lang, country))
            return response.json(collector.messages)

        return webhook
