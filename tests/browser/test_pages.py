"""The parents' corner, the printable page and the neutral page, in Chromium."""

from __future__ import annotations

import pytest

from bot import text as texts
from tests.browser.conftest import RestChild, axe_check, screenshot, shown, wait_reply


@pytest.mark.parametrize("lang", ["en", "fr"])
def test_parents_corner(page, axe_report, lang):
    page.goto(f"/parents?lang={lang}")
    assert page.locator("h1").inner_text() == shown("web.parents.heading", lang)
    body = page.locator("main").inner_text()
    for key in ("bedwetting", "secrecy", "gifts", "withdrawal", "anxiety", "sleep"):
        assert shown(f"web.parents.signs.{key}", lang) in body
    for key in ("calm", "thank", "blame", "confiscate", "evidence", "confront", "report"):
        assert shown(f"web.parents.act.{key}", lang) in body
    assert shown("web.parents.talk.early", lang) in body

    # the helplines of a country, with their sources and verified dates
    page.select_option("#country-select", "FR" if lang == "fr" else "GB")
    page.click(".country-form button")
    page.wait_for_url("**country=*")
    cards = page.locator("#helplines .card")
    assert cards.count() >= 3
    assert page.locator('#helplines a[href^="tel:"]').count() >= 1
    assert page.locator("#helplines time[datetime]").count() == cards.count()
    assert page.locator("#helplines .card-source a").count() >= 1
    screenshot(page, f"parents-{lang}.png")
    serious = axe_check(page, f"parents ({lang})", axe_report)
    assert serious == [], serious

    # co-play: the button opens the chat with a grown-up
    page.click("#coplay-start")
    page.wait_for_url("**coplay=1**")
    wait_reply(page, 0)
    page.wait_for_function(
        "text => document.getElementById('log').innerText.includes(text)",
        arg=texts.t("story_ui.coplay.enabled", lang),
        timeout=30_000,
    )
    assert page.locator(".coplay-banner").is_visible()
    assert page.locator("html").get_attribute("lang") == lang


def test_parents_language_switch(page):
    page.goto("/parents?lang=en&country=BE")
    page.click(".lang-switch")
    page.wait_for_url("**lang=fr**")
    assert page.locator("h1").inner_text() == shown("web.parents.heading", "fr")
    assert "country=BE" in page.url


def test_printable_page(page, lumi, axe_report):
    child = RestChild(lumi.web_url)
    end = child.play_first_story("fr")
    title = texts.t(f"stories.{end['story_id']}.title", "fr")

    page.goto(f"/print?learner={child.sender}&lang=fr&country=BE")
    main = page.locator("main").inner_text()
    assert shown("web.print.heading", "fr") in main
    assert title in main
    assert "Child Focus" in main
    assert "#log" not in page.content() and page.locator("#log").count() == 0
    screenshot(page, "print.png")
    serious = axe_check(page, "print", axe_report)
    assert serious == [], serious

    page.emulate_media(media="print")
    assert not page.locator("#quick-exit").is_visible()
    assert not page.locator("#print-button").is_visible()
    assert not page.locator(".site-nav").is_visible()
    assert page.locator(".card").first.is_visible()
    page.emulate_media(media="screen")


def test_print_link_from_the_chat_shelf(page, lumi):
    page.goto("/?lang=en")
    wait_reply(page, 0)
    learner = page.evaluate("() => localStorage.getItem('lumi.learner')")
    assert learner
    page.click("#shelf-summary")
    href = page.get_attribute("#print-link", "href")
    assert href.startswith(f"/print?learner={learner}&lang=en")
    page.click("#print-link")
    page.wait_for_url("**/print?**")
    assert page.locator("h1").inner_text() == shown("web.print.heading", "en")


def test_neutral_page(page, axe_report):
    page.goto("/weather?lang=en")
    assert page.title() == shown("web.weather.title", "en")
    assert "Lumi" not in page.content()
    serious = axe_check(page, "neutral page", axe_report)
    assert serious == [], serious
