"""The child chat page in Chromium, against the real Rasa + actions + web app."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
import requests

from bot import text as texts
from bot.paths import ROOT
from tests.browser.conftest import (
    axe_check,
    bot_count,
    click_choice,
    open_chat,
    play_story_to_the_end,
    screenshot,
    send_text,
    shown,
    wait_reply,
)
from tests.servers import free_port, wait_until

XSS = "<img src=x onerror=alert(1)>"


def log_text(page) -> str:
    return page.locator("#log").inner_text()


def test_child_plays_a_whole_story_in_english(page, axe_report):
    open_chat(page, "en")
    assert texts.t("menu.greeting", "en") in log_text(page)
    assert page.locator("html").get_attribute("lang") == "en"
    assert page.locator("#log").get_attribute("aria-live") == "polite"
    serious = axe_check(page, "chat (en, start)", axe_report)
    assert serious == [], serious

    click_choice(page, name=texts.t("menu.button_stories", "en"))
    assert (
        page.locator("#log .msg-child")
        .last.inner_text()
        .endswith(texts.t("menu.button_stories", "en"))
    )
    screenshot(page, "chat-en.png")
    clicked = play_story_to_the_end(page)
    assert len(clicked) >= 3

    celebration = page.locator("#log .celebration").last
    assert celebration.is_visible()
    assert "out of 100" in celebration.inner_text()
    # the badge shelf shows the finished story (from the conversation and /api/progress)
    page.click("#shelf-summary")
    assert page.locator("#story-list li").count() >= 1
    assert (
        "(1)" in page.locator("#shelf-summary").inner_text()
        or page.locator("#badge-list li").count()
    )
    serious = axe_check(page, "chat (en, after a story)", axe_report)
    assert serious == [], serious


def test_child_switches_to_french_and_plays_a_story(page, axe_report):
    open_chat(page, "en")
    before = bot_count(page)
    page.click(".lang-switch")
    wait_reply(page, before)
    page.wait_for_function("() => document.documentElement.lang === 'fr'")
    assert texts.t("menu.language_set", "fr") in log_text(page)
    assert page.locator("#send").inner_text() == shown("web.chat.send", "fr")
    assert page.locator(".lang-switch").inner_text() == "English"
    assert "lang=fr" in page.url
    assert page.title() == shown("web.chat.title", "fr")

    before = bot_count(page)
    page.click("#menu-button")
    wait_reply(page, before)
    assert texts.t("menu.greeting", "fr") in log_text(page)
    click_choice(page, name=texts.t("menu.button_stories", "fr"))
    play_story_to_the_end(page)
    celebration = page.locator("#log .celebration").last
    assert "sur 100" in celebration.inner_text()
    assert (
        celebration.locator("xpath=ancestor::div[contains(@class,'msg-bot')]").get_attribute("lang")
        == "fr"
    )
    celebration.evaluate("node => node.scrollIntoView({block: 'center'})")
    screenshot(page, "chat-fr-story.png")
    serious = axe_check(page, "chat (fr, after a story)", axe_report)
    assert serious == [], serious

    # a reload keeps the conversation of this tab and the chosen language
    page.reload()
    page.wait_for_selector("#log .celebration")
    assert page.locator("html").get_attribute("lang") == "fr"


def test_language_button_from_lumi_switches_the_page_too(page):
    open_chat(page, "en")
    click_choice(page, name=texts.t("menu.button_language", "en"))
    page.wait_for_function("() => document.documentElement.lang === 'fr'")
    assert texts.t("menu.language_set", "fr") in log_text(page)
    assert page.locator("#send").inner_text() == shown("web.chat.send", "fr")


def test_asking_for_french_in_words_switches_the_page_too(page):
    open_chat(page, "en")
    send_text(page, "en francais stp")
    page.wait_for_function("() => document.documentElement.lang === 'fr'")
    assert texts.t("menu.language_set", "fr") in log_text(page)
    assert page.locator("#send").inner_text() == shown("web.chat.send", "fr")
    assert "lang=fr" in page.url


def test_initial_language_from_accept_language(browser, base_url):
    context = browser.new_context(locale="fr-FR", base_url=base_url)
    page = context.new_page()
    page.goto("/")
    wait_reply(page, 0)
    assert page.locator("html").get_attribute("lang") == "fr"
    assert texts.t("menu.greeting", "fr") in log_text(page)
    context.close()


def test_disclosure_shows_help_cards(page, axe_report):
    open_chat(page, "en")
    page.click("#settings summary")
    before = bot_count(page)
    page.select_option("#country", "GB")
    wait_reply(page, before)
    assert "United Kingdom" in log_text(page)

    send_text(page, "a man on snap keeps asking me for pics")
    contacts = page.locator("#log .contacts").last
    contacts.wait_for()
    assert texts.t("safeguard.intro.online.concern", "en") in log_text(page)
    assert "Childline" in contacts.inner_text()
    phone_links = contacts.locator('a[href^="tel:"]')
    assert phone_links.count() == 1  # each helpline once: the text gave way to the button
    assert phone_links.first.get_attribute("href") == "tel:08001111"
    bubble = contacts.locator("xpath=ancestor::div[contains(@class,'msg-body')]")
    assert bubble.inner_text().count("0800 1111") == 1
    # "Who can help?": every helpline, as cards
    before = bot_count(page)
    page.locator("#choices button").filter(
        has_text=texts.t("safeguard.buttons.who_can_help", "en")
    ).click()
    wait_reply(page, before)
    cards = page.locator("#log .help-cards").last
    assert "Childline" in cards.inner_text()
    for link in cards.locator("a[href^='http']").all():
        assert link.get_attribute("rel") == "noopener noreferrer"
    cards.evaluate("node => node.scrollIntoView({block: 'start'})")
    screenshot(page, "help-cards.png")
    serious = axe_check(page, "chat (help cards)", axe_report)
    assert serious == [], serious


def test_quick_exit_button_clears_everything(page):
    page.goto("/parents?lang=en")
    page.click(f"text={texts.t('web.common.nav_chat', 'en')}")
    wait_reply(page, 0)
    send_text(page, "my secret words for the test")
    beacons = []

    def record(route):
        answer = route.fetch()
        beacons.append((route.request.post_data or "", answer.status))
        route.fulfill(response=answer)

    page.route("**/api/message", record)

    page.click("#quick-exit")
    page.wait_for_url("**/weather?lang=en")
    assert page.locator("h1").inner_text().strip() == shown("web.weather.heading", "en")
    assert "my secret words" not in page.content()
    stored = page.evaluate("() => JSON.stringify([localStorage, sessionStorage])")
    assert "my secret words" not in stored
    assert "lumi.log" not in stored
    page.wait_for_timeout(300)
    assert any('"/exit"' in body and status == 200 for body, status in beacons), beacons

    # Back does not bring the conversation back: the chat page was replaced in the history.
    page.go_back()
    page.wait_for_load_state()
    assert "/parents" in page.url
    assert "my secret words" not in page.content()


def test_escape_twice_is_a_quick_exit(page):
    open_chat(page, "fr")
    send_text(page, "bonjour lumi")
    page.keyboard.press("Escape")
    page.keyboard.press("Escape")
    page.wait_for_url("**/weather?lang=fr")
    assert page.title() == shown("web.weather.title", "fr")
    assert "bonjour lumi" not in page.evaluate(
        "() => JSON.stringify([localStorage, sessionStorage])"
    )
    # Coming back to the chat starts afresh.
    page.goto("/?lang=fr")
    wait_reply(page, 0)
    assert "bonjour lumi" not in log_text(page)


def test_typed_html_is_shown_as_text(page):
    dialogs = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    open_chat(page, "en")
    send_text(page, XSS)
    assert page.locator("#log .msg-child .msg-text").last.inner_text() == XSS
    assert page.locator('#log img[src="x"]').count() == 0
    page.wait_for_timeout(500)
    assert dialogs == []


def test_received_html_is_shown_as_text(page):
    """Whatever the server sends is text: messages, buttons, helpline cards, bad links."""
    dialogs = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    reply = [
        {"text": XSS, "buttons": [{"title": XSS, "payload": "/start"}]},
        {
            "custom": {
                "kind": "helplines",
                "lang": "en",
                "country": None,
                "helplines": [
                    {
                        "name": XSS,
                        "phone": "<b>116</b>",
                        "sms": None,
                        "url": "javascript:alert(1)",
                        "hours": XSS,
                        "for": XSS,
                        "source": "x",
                        "verified": "2026-11-01",
                    }
                ],
            }
        },
        {"custom": {"kind": "story_end", "lang": "en", "story_id": XSS, "score": XSS}},
        {"custom": {"kind": "tactic_check", "lang": "en", "tactics": [XSS]}},
    ]
    page.route(
        "**/api/message",
        lambda route: route.fulfill(
            status=200, content_type="application/json", body=json.dumps(reply)
        ),
    )
    open_chat(page, "en")
    assert page.locator("#log .msg-bot .msg-text").first.inner_text() == XSS
    assert page.locator("#choices button").first.inner_text() == XSS
    assert XSS in page.locator("#log .card").first.inner_text()
    assert page.locator('#log img[src="x"], #log b').count() == 0
    assert page.locator('a[href^="javascript:"]').count() == 0
    assert page.locator("#log .chip").first.inner_text() == XSS
    page.wait_for_timeout(500)
    assert dialogs == []


def test_web_app_down_shows_a_kind_message_with_a_helpline(page):
    page.route("**/api/message", lambda route: route.abort())
    page.goto("/?lang=en")
    page.wait_for_selector("#log .msg-error")
    text = log_text(page)
    assert "Childline" in text  # the browser's region (en-GB) gives the country
    assert "grown-up you trust" in text


def test_rasa_down_gives_the_main_helpline(browser, lumi):
    """A second web app whose Rasa is not running: the 503 reaches the child kindly."""
    port = free_port()
    env = dict(os.environ, RASA_PORT=str(free_port()), PYTHONUNBUFFERED="1")
    proc = subprocess.Popen(
        [sys.executable, "-m", "bot.web", "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        url = f"http://127.0.0.1:{port}"
        wait_until(lambda: requests.get(url + "/healthz", timeout=2).ok, 30, "second web app")
        context = browser.new_context(base_url=url, locale="fr")  # no region: no country
        page = context.new_page()
        page.goto("/?lang=fr")
        page.wait_for_selector("#log .msg-error")
        text = log_text(page)
        assert "Child Helpline International" in text
        assert "adulte de confiance" in text
        shown = page.locator("#log .msg-error").count()  # the text, then the helplines' cards
        page.click("#settings summary")
        page.select_option("#country", "FR")
        page.wait_for_function(
            "n => document.querySelectorAll('#log .msg-error').length > n", arg=shown
        )
        page.wait_for_timeout(300)
        latest = page.locator("#log .msg-error").all_inner_texts()[shown:]
        assert "3018" in " ".join(latest), latest
        context.close()
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_keyboard_only(page):
    open_chat(page, "en")
    page.keyboard.press("Tab")
    assert page.evaluate("() => document.activeElement.className") == "skip-link"
    page.keyboard.press("Enter")
    seen = []
    for _ in range(40):
        page.keyboard.press("Tab")
        seen.append(
            page.evaluate("() => document.activeElement.id || document.activeElement.className")
        )
        if seen[-1] == "message":
            break
    assert seen[-1] == "message", seen
    assert "choice" in seen, "the choices come before the text box"
    outline = page.evaluate("() => getComputedStyle(document.activeElement).outlineStyle")
    assert outline != "none"

    before = bot_count(page)
    page.keyboard.type("hello")
    page.keyboard.press("Enter")
    wait_reply(page, before)
    assert page.locator("#log .msg-child").last.inner_text().endswith("hello")

    # back to a choice with Shift+Tab, and press it with Enter
    for _ in range(10):
        page.keyboard.press("Shift+Tab")
        if page.evaluate("() => document.activeElement.classList.contains('choice')"):
            break
    title = page.evaluate("() => document.activeElement.textContent")
    before = bot_count(page)
    page.wait_for_timeout(350)
    page.keyboard.press("Enter")
    wait_reply(page, before)
    assert page.locator("#log .msg-child").last.inner_text().endswith(title)
    # after a choice, the focus goes to the new choices (or the text box)
    focused = page.evaluate("() => [document.activeElement.id, document.activeElement.className]")
    assert focused[0] == "message" or "choice" in focused[1], focused


def test_read_aloud_in_the_message_language(page):
    page.add_init_script(
        """
        window.__spoken = [];
        if (window.speechSynthesis) {
          window.speechSynthesis.speak = u => window.__spoken.push({text: u.text, lang: u.lang});
        }
        """
    )
    open_chat(page, "en")
    if not page.evaluate("() => 'speechSynthesis' in window"):
        pytest.skip("no speechSynthesis in this Chromium")
    page.click("#settings summary")
    page.click("#tts-toggle")
    assert page.get_attribute("#tts-toggle", "aria-pressed") == "true"
    before = bot_count(page)
    page.click(".lang-switch")
    wait_reply(page, before)
    spoken = page.evaluate("() => window.__spoken")
    assert spoken and spoken[-1]["lang"] == "fr-FR"
    assert any("D'accord" in s["text"] and s["lang"] == "fr-FR" for s in spoken), spoken
    # the preference is kept on this device
    page.reload()
    assert page.get_attribute("#tts-toggle", "aria-pressed") == "true"


def test_reading_preferences(page):
    open_chat(page, "en")
    page.click("#settings summary")
    size = page.evaluate("() => parseFloat(getComputedStyle(document.body).fontSize)")
    page.click("#big-toggle")
    page.click("#font-toggle")
    classes = page.evaluate("() => document.documentElement.className").split()
    assert {"big-text", "easy-font"} <= set(classes)
    assert page.evaluate("() => parseFloat(getComputedStyle(document.body).fontSize)") > size
    spacing = page.evaluate("() => getComputedStyle(document.body).letterSpacing")
    assert spacing not in ("normal", "0px")
    page.reload()
    assert {"big-text", "easy-font"} <= set(
        page.evaluate("() => document.documentElement.className").split()
    )


def test_phone_layout(browser, base_url):
    context = browser.new_context(
        viewport={"width": 390, "height": 844}, base_url=base_url, is_mobile=True, has_touch=True
    )
    page = context.new_page()
    open_chat(page, "en")
    assert page.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth")
    box = page.locator("#quick-exit").bounding_box()
    assert box and box["y"] >= 0 and box["y"] + box["height"] <= 844
    for button in page.locator("#choices button").all():
        assert button.bounding_box()["height"] >= 44
    screenshot(page, "chat-phone.png", full_page=False)
    context.close()
