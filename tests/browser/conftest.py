"""Browser tests: Debian's Chromium, driven by pytest-playwright, against the REAL stack
(Rasa + action server + web app on free ports, started once per session).

No browser is ever downloaded: ``browser_type_launch_args`` points Playwright at
``chromium`` from the PATH (``apt-get install -y chromium``).
"""

from __future__ import annotations

import json
import shutil
import time
import uuid
from pathlib import Path
from typing import Any

import pytest
import requests

from bot.paths import ROOT
from tests.servers import Stack, require_model

SCREENSHOTS = ROOT / "docs" / "screenshots"
RESULTS = ROOT / "var" / "test-results"
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
# Between two clicks: a child's pace, and under the channel's per-sender rate limit.
CLICK_PAUSE_MS = 350


def pytest_collection_modifyitems(items):
    for item in items:
        if "tests/browser/" in str(item.fspath):
            item.add_marker(pytest.mark.browser)
            item.add_marker(pytest.mark.model)


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    executable = shutil.which("chromium")
    if executable is None:
        pytest.skip("Debian's Chromium is not installed: apt-get install -y chromium")
    return {
        **browser_type_launch_args,
        "executable_path": executable,
        "headless": True,
        "args": CHROMIUM_FLAGS,
    }


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args):
    return {**browser_context_args, "viewport": {"width": 1024, "height": 900}, "locale": "en-GB"}


@pytest.fixture(scope="session")
def lumi(tmp_path_factory):
    """Rasa + actions + web app; Rasa takes about a minute to load its model."""
    require_model()
    stack = Stack.create(tmp_path_factory.mktemp("browser-stack"), with_web=True)
    stack.start("actions")
    stack.start("rasa")
    stack.start("web")
    try:
        stack.wait_actions()
        stack.wait_web()
        stack.wait_rasa()
    except TimeoutError:
        print(stack.log_tail("rasa"), stack.log_tail("actions"), stack.log_tail("web"))
        stack.stop_all()
        raise
    yield stack
    stack.stop_all()


@pytest.fixture(scope="session")
def base_url(lumi):
    return lumi.web_url


@pytest.fixture(scope="session")
def axe_report():
    """Axe results per page, written to var/test-results/axe.json at the end."""
    report: dict[str, Any] = {}
    yield report
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "axe.json").write_text(json.dumps(report, indent=2, sort_keys=True))


# ----------------------------------------------------------------- helpers


def shown(key: str, lang: str, **params: Any) -> str:
    """A locale text as a page shows it (with the language's typography, bot.web.typography)."""
    from bot import text as texts
    from bot.web import typography

    return typography.fix(texts.t(key, lang, **params), lang)


def bot_count(page) -> int:
    return page.locator("#log .msg-bot").count()


def wait_reply(page, before: int, timeout: float = 60_000) -> None:
    """Wait until Lumi has answered (more bot messages than ``before``, nothing pending)."""
    page.wait_for_function(
        """n => document.querySelectorAll('#log .msg-bot').length > n
               && !document.getElementById('chat-app').classList.contains('busy')""",
        arg=before,
        timeout=timeout,
    )


def open_chat(page, lang: str = "en", query: str = "") -> None:
    page.goto(f"/?lang={lang}{query}")
    wait_reply(page, 0)


def click_choice(page, name: str | None = None, index: int = 0) -> str:
    """Click a choice button (by visible text, or the ``index``-th) and wait for the reply."""
    page.wait_for_timeout(CLICK_PAUSE_MS)
    before = bot_count(page)
    buttons = page.locator("#choices button.choice")
    button = buttons.filter(has_text=name).first if name else buttons.nth(index)
    title = button.inner_text()
    button.click()
    wait_reply(page, before)
    return title


def send_text(page, text: str) -> None:
    page.wait_for_timeout(CLICK_PAUSE_MS)
    before = bot_count(page)
    page.fill("#message", text)
    page.press("#message", "Enter")
    wait_reply(page, before)


def play_story_to_the_end(page, max_steps: int = 40) -> list[str]:
    """From a story list on screen: open the first story, follow the first button to its end."""
    clicked = [click_choice(page, index=0)]
    for _ in range(max_steps):
        if page.locator("#log .celebration").count():
            return clicked
        assert page.locator("#choices button.choice").count(), "a story step without buttons"
        clicked.append(click_choice(page, index=0))
    raise AssertionError(f"no story_end after {max_steps} clicks: {clicked}")


def screenshot(page, name: str, full_page: bool = True) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / name
    page.evaluate("() => window.scrollTo(0, 0)")
    page.screenshot(path=str(path), full_page=full_page)
    return path


def axe_check(page, name: str, report: dict[str, Any]) -> list[dict[str, Any]]:
    """Run axe-core on the page; record every violation; return the serious/critical ones."""
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page)
    violations = results.response.get("violations", [])
    report[name] = {
        "url": page.url.split("?")[0],
        "violations": [
            {
                "id": v["id"],
                "impact": v.get("impact"),
                "help": v.get("help"),
                "nodes": len(v.get("nodes", [])),
                "targets": [n.get("target") for n in v.get("nodes", [])][:5],
            }
            for v in violations
        ],
        "passes_checked": True,
    }
    return [v for v in violations if v.get("impact") in ("serious", "critical")]


class RestChild:
    """A child talking to the web app's proxy directly (to set up progress quickly)."""

    def __init__(self, web_url: str, sender: str | None = None) -> None:
        self.url = web_url + "/api/message"
        self.sender = sender or "t" + uuid.uuid4().hex[:20]

    def send(self, message: str, **metadata: Any) -> list[dict[str, Any]]:
        time.sleep(CLICK_PAUSE_MS / 1000)
        body = {"sender": self.sender, "message": message, "metadata": metadata}
        response = requests.post(self.url, json=body, timeout=60)
        assert response.status_code == 200, response.text[:300]
        return response.json()

    def play_first_story(self, lang: str = "en") -> dict[str, Any]:
        reply = self.send("/list_stories", language=lang)
        first = next(b for m in reply for b in m.get("buttons") or [])
        reply = self.send(first["payload"])
        for _ in range(40):
            ends = [
                m["custom"] for m in reply if (m.get("custom") or {}).get("kind") == "story_end"
            ]
            if ends:
                return ends[0]
            button = next(b for m in reply for b in m.get("buttons") or [])
            reply = self.send(button["payload"])
        raise AssertionError("no story_end")
