"""Limits: long messages get a friendly reply; one child flooding is slowed down
(429 with a friendly JSON message) while a class of 30 is answered normally."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

from bot import text as texts
from bot.checker.core import MAX_CHARS as PASTE_CHECKED
from bot.dialogue import CHAT_LIMIT
from bot.guard import MAX_TEXT_CHARS
from tests.robustness.conftest import greeting, new_sender, payloads_of, send, slots, texts_of

WAVE = 25  # requests a flooding child fires at once


def test_a_long_chat_message_gets_a_friendly_reply(stack, results):
    """Past 1,000 characters a typed message is cut, and the child is told so."""
    for lang in ("en", "fr"):
        sender = new_sender("long")
        send(stack, sender, "/start", {"language": lang})
        reply = send(stack, sender, "a" * 6000)
        assert reply.status_code == 200
        notice = texts.t("menu.errors_too_long", lang, limit=CHAT_LIMIT)
        assert notice in texts_of(reply.json())
    # What the model makes of other long texts (not asserted: it is the classifier's
    # business, and a disclosure reply has no room for the notice).
    seen = {}
    for name, text in (("blah x2000", "blah " * 2000), ("é x1001", "é" * 1001)):
        sender = new_sender("long")
        reply = send(stack, sender, text).json()
        kinds = {p["kind"] for p in payloads_of(reply)}
        notice = texts.t("menu.errors_too_long", "en", limit=CHAT_LIMIT) in texts_of(reply)
        seen[name] = "safeguard" if "safeguard" in kinds else "notice" if notice else "other"
    results.extra["long_chat_messages"] = seen


def test_a_long_paste_is_checked_up_to_its_limit(stack):
    sender = new_sender("paste")
    send(stack, sender, "/start", {"language": "fr"})
    send(stack, sender, "/check_message")
    paste = "envoie moi une photo et dis rien a tes parents. " * 600  # 28,800 characters
    assert len(paste) > MAX_TEXT_CHARS
    reply = send(stack, sender, paste)
    assert reply.status_code == 200
    said = texts_of(reply.json())
    assert texts.t("check.bad_input.too_long", "fr", limit=PASTE_CHECKED) in said
    checks = [
        m["custom"] for m in reply.json() if m.get("custom", {}).get("kind") == "tactic_check"
    ]
    assert checks and {"photo_request", "secrecy"} <= set(checks[0]["tactics"])


def test_one_child_flooding_is_slowed_while_the_class_is_answered(stack, results):
    """A child (or a stuck script) fires requests without waiting for the answers,
    in waves of 25 at once; meanwhile a class of 30 is answered as usual."""
    flooder = new_sender("flood")
    assert send(stack, flooder, "/start", {"language": "fr"}).status_code == 200
    class_senders = [new_sender("pupil") for _ in range(30)]
    flood_statuses: list[int] = []
    flood_replies: list = []
    class_statuses: list[int] = []
    lock = threading.Lock()
    stop = threading.Event()
    slowed = threading.Event()

    def one_flood_request() -> None:
        response = send(stack, flooder, "/list_stories")
        with lock:
            flood_statuses.append(response.status_code)
            if response.status_code == 429:
                flood_replies.append((response.json(), response.headers.get("Retry-After")))
                slowed.set()

    def flood() -> None:
        with ThreadPoolExecutor(max_workers=WAVE) as waves:
            while not stop.is_set() and len(flood_statuses) < 20 * WAVE:
                for future in [waves.submit(one_flood_request) for _ in range(WAVE)]:
                    future.result()
                time.sleep(0.5)

    def pupil(sender: str) -> None:
        for message in ("/start", "/help"):
            response = send(stack, sender, message)
            with lock:
                class_statuses.append(response.status_code)
            time.sleep(0.5)

    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=31) as pool:
        flooding = pool.submit(flood)
        # the class starts once the flood is being slowed down, and runs alongside it
        assert slowed.wait(60), f"no 429 after {len(flood_statuses)} requests"
        pupils = [pool.submit(pupil, s) for s in class_senders]
        for future in pupils:
            future.result()
        stop.set()
        flooding.result()
    elapsed = time.monotonic() - started

    results.extra["rate_limit"] = {
        "flood_requests": len(flood_statuses),
        "flood_429": flood_statuses.count(429),
        "flood_200": flood_statuses.count(200),
        "class_senders": len(class_senders),
        "class_requests": len(class_statuses),
        "class_200": class_statuses.count(200),
        "seconds": round(elapsed, 1),
    }
    assert class_statuses == [200] * 60
    assert flood_statuses.count(429) >= 1 and flood_statuses.count(200) >= 5
    assert set(flood_statuses) <= {200, 429}
    message, retry_after = flood_replies[0]
    assert texts_of(message) == [texts.t("menu.errors_slow_down", "fr")]
    assert retry_after is not None

    # slowed, not blocked: after a short wait the child is answered normally
    time.sleep(3)
    reply = send(stack, flooder, "/start")
    assert reply.status_code == 200 and texts_of(reply.json())[0].startswith(greeting("fr"))
    assert slots(stack, flooder)["language"] == "fr"
