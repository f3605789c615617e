"""Conversation tests run on the trained model (models/lumi.tar.gz)."""

from __future__ import annotations

import asyncio
import os

import pytest

from tests.servers import require_model

os.environ.setdefault("RASA_TELEMETRY_ENABLED", "false")


class Parser:
    """Parses texts with the trained model, as the Rasa server does."""

    def __init__(self, model: str = "models/lumi.tar.gz") -> None:
        from rasa.core.agent import Agent

        require_model()
        self.loop = asyncio.new_event_loop()
        self.agent = Agent.load(model)

    def parse(self, text: str, metadata: dict | None = None) -> dict:
        from rasa.core.channels.channel import UserMessage

        message = UserMessage(text, metadata=metadata or {})
        return self.loop.run_until_complete(self.agent.processor.parse_message(message))


@pytest.fixture(scope="session")
def parser() -> Parser:
    return Parser()
