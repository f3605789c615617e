"""The moment after a disclosure in Chromium (issue 16): the safe word hides
everything, the country comes from the browser's region, the first call button
is above the fold on a phone, the quick exit covers no message, axe-core."""

from __future__ import annotations

import pytest

from bot import text as texts
from tests.browser.conftest import (
    axe_check,
    bot_count,
    click_choice,
    screenshot,
    send_text,
    wait_reply,
)

PHONE = {"width": 390, "height": 844}
DISCLOSURE = {
    "en": "a man on snap keeps asking me for pics",
    "fr": "un monsieur sur insta me demande des photos de moi",
}


def open_page(browser, base_url, locale: str, lang: str, viewport=None, query: str = ""):
    options = {"base_url": base_url, "locale": locale, "viewport": viewport or PHONE}
    if viewport is None:
        options.update(is_mobile=True, has_touch=True)
    context = browser.new_context(**options)
    page = context.new_page()
    page.goto(f"/?lang={lang}{query}")
    wait_reply(page, 0)
    return context, page


def stored(page) -> str:
    return page.evaluate("() => JSON.stringify([localStorage, sessionStorage])")


# ------------------------------------------------------------------ the safe word


@pytest.mark.parametrize(("lang", "word"), [("en", "blue banana"), ("fr", "Banane bleue !")])
def test_the_safe_word_clears_screen_and_storage(browser, base_url, lang, word):
    context, page = open_page(
        browser, base_url, "en-GB", lang, viewport={"width": 1024, "height": 900}
    )
    click_choice(page, name=texts.t("menu.button_stories", lang))
    click_choice(page, index=0)  # a story starts
    send_text(page, "my secret words for the test")
    assert "my secret words" in stored(page)
    page.fill("#message", word)
    page.press("#message", "Enter")
    page.wait_for_url(f"**/weather?lang={lang}")
    assert "my secret words" not in page.content()
    assert "my secret words" not in stored(page)
    assert "lumi.log" not in stored(page)
    # the chat page was replaced in the history, not kept behind the neutral page
    page.go_back()
    page.wait_for_load_state()
    assert "my secret words" not in page.content()
    context.close()


def test_the_exit_payload_from_the_assistant_clears_the_page(browser, base_url):
    """/exit typed (not a safe word the page knows): Lumi's {"kind":"exit"} reply does it."""
    context, page = open_page(
        browser, base_url, "fr-FR", "fr", viewport={"width": 1024, "height": 900}
    )
    send_text(page, "bonjour lumi")
    page.fill("#message", "/exit")
    page.press("#message", "Enter")
    page.wait_for_url("**/weather?lang=fr")
    assert "bonjour lumi" not in stored(page)
    context.close()


# ------------------------------------------------------------------ the country, known before


@pytest.mark.parametrize(
    ("locale", "lang", "phone"),
    [
        ("fr-BE", "fr", "116 000"),  # Child Focus
        ("fr-CH", "fr", "147"),  # Pro Juventute
        ("en-US", "en", "1-800-422-4453"),  # Childhelp
        ("en-AU", "en", "1800 55 1800"),  # Kids Helpline
    ],
)
def test_the_browser_region_gives_the_countrys_helpline_on_a_phone(
    browser, base_url, locale, lang, phone
):
    context, page = open_page(browser, base_url, locale, lang)
    before = bot_count(page)
    send_text(page, DISCLOSURE[lang])
    contacts = page.locator("#log .contacts").last
    contacts.wait_for()
    digits = "".join(c for c in phone if c.isdigit())
    link = contacts.locator(f'a[href="tel:{digits}"]')
    assert link.count() == 1, contacts.inner_text()
    # no country chips: the country was known
    assert page.locator("#log .country-chips").count() == 0
    # the first call button is on screen without scrolling, inside the conversation's view
    first = contacts.locator('a[href^="tel:"]').first
    assert _visible_in_log(page, first), _boxes(page, first)
    # three bubbles for the reply, then the child can act
    assert bot_count(page) - before == 3
    assert page.locator("#choices button").count() == 3
    if locale == "fr-BE":
        screenshot(page, "support-first-reply-phone.png", full_page=False)
    context.close()


def _boxes(page, locator):
    return {
        "button": locator.bounding_box(),
        "log": page.locator("#log").bounding_box(),
        "exit": page.locator(".exit-bar").bounding_box(),
    }


def _visible_in_log(page, locator) -> bool:
    box = locator.bounding_box()
    log = page.locator("#log").bounding_box()
    bar = page.locator(".exit-bar").bounding_box()
    viewport = page.viewport_size
    return bool(
        box
        and box["y"] >= log["y"]
        and box["y"] + box["height"] <= log["y"] + log["height"]
        and box["y"] >= bar["y"] + bar["height"]
        and box["y"] + box["height"] <= viewport["height"]
    )


def test_with_no_country_compact_chips_ask_for_it(browser, base_url):
    context, page = open_page(browser, base_url, "fr", "fr")  # no region: ask, don't assume
    send_text(page, DISCLOSURE["fr"])
    chips = page.locator("#log .country-chips .chip-choice")
    chips.first.wait_for()
    assert chips.count() == 9
    assert max(b["height"] for b in (c.bounding_box() for c in chips.all())) < 60
    # the chips are in the bubble, not among the choices below
    assert page.locator("#choices button").filter(has_text="Belgique").count() == 0
    screenshot(page, "support-no-country-phone.png", full_page=False)
    before = bot_count(page)
    page.wait_for_timeout(350)
    chips.filter(has_text="Belgique").click()
    wait_reply(page, before)
    assert page.locator('#log a[href="tel:116000"]').count() >= 1
    context.close()


# ------------------------------------------------------------------ the quick exit covers nothing


@pytest.mark.parametrize("viewport", [PHONE, {"width": 1280, "height": 800}])
def test_the_quick_exit_covers_no_message(browser, base_url, viewport):
    context, page = open_page(browser, base_url, "en-GB", "en", viewport=viewport)
    send_text(page, DISCLOSURE["en"])
    click_choice(page, name=texts.t("safeguard.buttons.what_now", "en"))
    send_text(page, "what if he finds out")
    for where in ("top", "bottom"):
        page.evaluate(
            """where => {
                const s = document.querySelector('.page-scroll');
                const log = document.getElementById('log');
                s.scrollTop = where === 'top' ? 0 : s.scrollHeight;
                log.scrollTop = where === 'top' ? 0 : log.scrollHeight;
            }""",
            where,
        )
        covered = page.evaluate(
            """() => {
                const bar = document.getElementById('quick-exit').getBoundingClientRect();
                const clip = [document.querySelector('.page-scroll'),
                              document.getElementById('log')]
                  .map(e => e.getBoundingClientRect());
                const out = [];
                for (const m of document.querySelectorAll('#log .msg')) {
                  const r = m.getBoundingClientRect();
                  let top = r.top, bottom = r.bottom;
                  for (const c of clip) {
                    top = Math.max(top, c.top);
                    bottom = Math.min(bottom, c.bottom);
                  }
                  if (bottom <= top) continue;  // scrolled out of view
                  const overlaps = top < bar.bottom && bottom > bar.top &&
                                   r.left < bar.right && r.right > bar.left;
                  if (overlaps) out.push(m.innerText.slice(0, 40));
                }
                return out;
            }"""
        )
        assert covered == [], (where, covered)
    assert page.locator("#quick-exit").is_visible()
    context.close()


# ------------------------------------------------------------------ the conversation after, axe


@pytest.mark.parametrize("lang", ["en", "fr"])
def test_after_a_disclosure_follow_ups_and_axe(browser, base_url, axe_report, lang):
    locale = {"en": "en-GB", "fr": "fr-FR"}[lang]
    context, page = open_page(browser, base_url, locale, lang)
    send_text(page, DISCLOSURE[lang])
    page.locator("#log .contacts").last.wait_for()
    serious = axe_check(page, f"chat after a disclosure ({lang}, phone)", axe_report)
    assert serious == [], serious
    follow = {"en": "what if he finds out", "fr": "jai peur quil se fache si je le dis a ma mere"}
    send_text(page, follow[lang])
    last = page.locator("#log .msg-bot").last.inner_text()
    assert texts.t("safeguard.practice_feedback_good", lang) not in last
    click_choice(page, name=texts.t("safeguard.buttons.tell_adult", lang))
    assert page.locator("#choices button").count() >= 6
    if lang == "en":
        screenshot(page, "support-follow-up-phone.png", full_page=False)
    serious = axe_check(page, f"chat support follow-up ({lang}, phone)", axe_report)
    assert serious == [], serious
    context.close()


def test_check_a_message_offers_help_in_one_line(browser, base_url, axe_report):
    context, page = open_page(
        browser, base_url, "en-GB", "en", viewport={"width": 1024, "height": 900}
    )
    click_choice(page, name=texts.t("menu.button_check", "en"))
    send_text(page, "if u dont send more pics i will post the one u sent to all ur followers")
    choices = page.locator("#choices button")
    assert choices.filter(has_text=texts.t("check.buttons.its_me", "en")).count() == 1
    assert choices.count() <= 3
    assert page.locator("#log .contacts").count() == 0
    screenshot(page, "support-check.png", full_page=False)
    serious = axe_check(page, "chat check a message (help offer)", axe_report)
    assert serious == [], serious
    click_choice(page, name=texts.t("check.buttons.its_me", "en"))
    assert page.locator('#log .contacts-danger a[href="tel:999"]').count() == 1
    context.close()
