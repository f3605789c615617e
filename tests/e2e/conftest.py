from __future__ import annotations

import time
import uuid

import pytest
import requests

from tests.servers import Stack, require_model


@pytest.fixture(scope="session")
def stack(tmp_path_factory):
    require_model()
    # The rate limit is tested by tests/robustness/test_limits.py; here scripts
    # walk whole stories faster than any child would.
    fast = {"LUMI_RATE_PER_SECOND": "1000", "LUMI_RATE_BURST": "1000"}
    stack = Stack.create(tmp_path_factory.mktemp("stack"), extra_env=fast).boot()
    yield stack
    stack.stop_all()


class Chat:
    """One child's conversation over REST."""

    def __init__(self, url: str, sender: str | None = None) -> None:
        self.url = url + "/webhooks/rest/webhook"
        self.sender = sender or f"test-{uuid.uuid4().hex[:12]}"

    def send(self, message, metadata=None, expect_status: int = 200):
        body = {"sender": self.sender, "message": message}
        if metadata is not None:
            body["metadata"] = metadata
        response = requests.post(self.url, json=body, timeout=60)
        # A script is faster than a child: when the per-sender rate limit answers
        # 429 (the message was not handled), wait as told and send it again.
        for _ in range(5):
            if response.status_code != 429 or expect_status == 429:
                break
            time.sleep(float(response.headers.get("Retry-After", "2")))
            response = requests.post(self.url, json=body, timeout=60)
        assert response.status_code == expect_status, response.text[:500]
        return response.json()


def texts(reply) -> list[str]:
    return [m["text"] for m in reply if "text" in m]


def payloads(reply, kind: str | None = None) -> list[dict]:
    found = [m["custom"] for m in reply if isinstance(m.get("custom"), dict)]
    return [p for p in found if kind is None or p.get("kind") == kind]


def buttons(reply) -> list[dict]:
    return [b for m in reply for b in m.get("buttons") or []]


@pytest.fixture
def chat(stack):
    return Chat(stack.rasa_url)
