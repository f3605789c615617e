"""With REDIS_URL, conversations live in Redis with an expiry and without typed text."""

from __future__ import annotations

import os

import pytest
import redis

from tests.e2e.conftest import Chat, payloads, texts
from tests.servers import Stack, require_model


@pytest.fixture(scope="module")
def redis_stack(tmp_path_factory):
    url = os.environ.get("TEST_REDIS_URL")
    if not url:
        if os.environ.get("LUMI_REQUIRE_POSTGRES") == "1":
            pytest.fail("TEST_REDIS_URL is not set: scripts/services.sh start should have set it")
        pytest.skip("no Redis for tests (run scripts/services.sh start)")
    require_model()
    stack = Stack.create(tmp_path_factory.mktemp("redis-stack"), extra_env={"REDIS_URL": url})
    stack.boot()
    yield stack, redis.Redis.from_url(url)
    stack.stop_all()


def test_conversation_in_redis_with_expiry_and_no_text(redis_stack):
    stack, client = redis_stack
    chat = Chat(stack.rasa_url)
    chat.send('/set_language{"language":"fr"}')
    reply = chat.send("un mec me demande des photos de moi quokkamagic")
    assert payloads(reply, "safeguard")
    keys = [k for k in client.keys("*") if chat.sender.encode() in k]
    assert keys, client.keys("*")[:10]
    for key in keys:
        assert client.ttl(key) > 0  # expires
        assert b"quokkamagic" not in client.get(key)
    # state survives between messages (read back from Redis)
    assert texts(chat.send("/start"))[0].startswith("Salut")
