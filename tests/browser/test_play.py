"""Issue 20 in Chromium, against the real stack: the trick as it looks (message
mock-ups, pictures, spot the trick), the age band, coaching in rehearsal,
read-aloud of everything, the certificate (the typed name never leaves the
browser) and the parents' kit."""

from __future__ import annotations

import json

import pytest

from bot import app_settings
from bot import text as texts
from bot.stories import stories
from tests.browser.conftest import (
    RestChild,
    axe_check,
    bot_count,
    click_choice,
    open_chat,
    screenshot,
    send_text,
    shown,
    wait_reply,
)

# A speech engine that records what it is asked to say (headless Chromium may have none).
FAKE_SPEECH = """
window.__spoken = [];
(function () {
  function Utterance(text) { this.text = text; this.lang = ""; }
  var engine = {
    speak: function (u) { window.__spoken.push({ text: u.text, lang: u.lang }); },
    cancel: function () {},
    getVoices: function () { return []; },
  };
  try {
    Object.defineProperty(window, "speechSynthesis", { value: engine, configurable: true });
    Object.defineProperty(window, "SpeechSynthesisUtterance",
      { value: Utterance, configurable: true });
  } catch (e) {}
})();
"""


def title(story_id: str, lang: str) -> str:
    return texts.t(f"stories.{story_id}.title", lang)


def choose_age(page, band: str) -> None:
    page.wait_for_selector("#age-card:not([hidden])")
    page.click(f'#age-card button[data-age="{band}"]')
    assert page.locator("#age-card").is_hidden()


def start_story(page, story_id: str, lang: str) -> None:
    click_choice(page, name=texts.t("menu.button_stories", lang))
    click_choice(page, name=title(story_id, lang))


def test_a_story_step_shows_the_message_as_on_a_phone_and_the_picture(page, axe_report):
    for lang in ("en", "fr"):
        page.goto(f"/?lang={lang}")
        wait_reply(page, 0)
        choose_age(page, "8-10")
        start_story(page, "skin_gift", lang)
        picture = page.locator("#log .story-picture img").last
        assert picture.get_attribute("alt") == texts.t("stories.skin_gift.picture", lang)
        assert picture.get_attribute("src") == "/static/stories/skin_gift.svg"
        assert picture.evaluate("img => img.complete && img.naturalWidth > 0")
        mockup = page.locator("#log .mockup").last
        assert mockup.is_visible()
        label = mockup.get_attribute("aria-label")
        assert "Max_Gamer" in label and "17:02" in label
        assert texts.t("stories.skin_gift.app_name", lang) in mockup.inner_text()
        assert shown("web.js.mockup_pretend", lang) in mockup.inner_text()
        message = texts.t("stories.skin_gift.steps.gift.message", lang)
        assert " ".join(mockup.locator(".mockup-text").inner_text().split()) == " ".join(
            message.split()
        )
        assert mockup.evaluate("n => n.closest('.msg-bot').getAttribute('lang')") == lang

        # spot the trick: a word that is not the trick, then one that is
        words = mockup.locator(".spot-word")
        assert words.count() > 5
        assert words.first.get_attribute("tabindex") == "0"
        assert words.nth(1).get_attribute("tabindex") == "-1"
        feedback = mockup.locator(".spot-feedback")
        words.first.click()  # "You're" / "T'es": flattery, not this story's trick
        assert feedback.inner_text() == shown("web.js.spot_wrong", lang)
        trick = mockup.locator(".spot-word[data-tactic='bribe']").first
        trick.click()
        assert texts.t("tactics.bribe.name", lang) in feedback.inner_text()
        assert trick.get_attribute("aria-pressed") == "true"
        assert "found" in (trick.get_attribute("class") or "")
        # keyboard: arrows move along the words, Enter taps one
        words.first.focus()
        page.keyboard.press("End")
        assert page.evaluate("() => document.activeElement.classList.contains('spot-word')")
        last = mockup.locator(".spot-word[data-tactic='bribe']").last
        last.focus()
        page.keyboard.press("Enter")
        assert shown("web.js.spot_done", lang) in feedback.inner_text()
        if lang == "en":
            mockup.evaluate("node => node.closest('.msg').scrollIntoView({block: 'start'})")
            screenshot(page, "story-step.png", full_page=False)
        serious = axe_check(page, f"chat ({lang}, message mock-up)", axe_report)
        assert serious == [], serious
        page.evaluate("() => { sessionStorage.clear(); localStorage.clear(); }")


def test_the_age_band_is_asked_once_and_filters_the_story_list(page):
    sent = []
    page.on(
        "request",
        lambda r: sent.append(r.post_data or "") if r.url.endswith("/api/message") else None,
    )
    open_chat(page, "en")
    choose_age(page, "11-13")
    prefs = json.loads(page.evaluate("() => localStorage.getItem('lumi.prefs')"))
    assert prefs["age"] == "11-13"
    click_choice(page, name=texts.t("menu.button_stories", "en"))
    listed = page.locator("#choices button.choice").all_inner_texts()
    older = [title(s.id, "en") for s in stories().values() if s.age_band == "11-13"]
    younger = [title(s.id, "en") for s in stories().values() if s.age_band == "8-10"]
    assert all(any(t in b for b in listed) for t in older)
    assert not any(t in b for t in younger for b in listed)
    assert texts.t("story_ui.list.other_band", "en", band="8-10") in listed
    assert any('"age_band": "11-13"' in body or '"age_band":"11-13"' in body for body in sent)

    # asked once: a reload does not ask again; Settings change it
    page.reload()
    page.wait_for_selector("#log .msg-bot")
    assert page.locator("#age-card").is_hidden()
    page.click("#settings summary")
    page.select_option("#age-band", "8-10")
    before = bot_count(page)
    page.click("#menu-button")
    wait_reply(page, before)
    click_choice(page, name=texts.t("menu.button_stories", "en"))
    listed = page.locator("#choices button.choice").all_inner_texts()
    assert all(any(t in b for b in listed) for t in younger)
    assert not any(t in b for t in older for b in listed)
    # the other band is one tap away
    click_choice(page, name=texts.t("story_ui.list.other_band", "en", band="11-13"))
    listed = page.locator("#choices button.choice").all_inner_texts()
    assert all(any(t in b for b in listed) for t in older)


@pytest.mark.parametrize(
    ("lang", "weak", "better", "kind"),
    [
        ("en", "ok jhabite rue des lilas", "no. i don't share that", "set_boundary"),
        ("fr", "ok j'habite rue des lilas", "bien essayé, c'est un piège", "name_trick"),
    ],
)
def test_a_weak_practice_reply_gets_a_hint_and_a_second_try(page, lang, weak, better, kind):
    open_chat(page, lang)
    choose_age(page, "8-10")
    start_story(page, "skin_gift", lang)
    click_choice(page, index=0)  # no thanks
    click_choice(page, index=0)  # keep it private: the practice step
    send_text(page, weak)
    said = page.locator("#log").inner_text()
    assert texts.t("story_ui.rehearsal.risky_part.share_info", lang) in said
    assert texts.t("story_ui.rehearsal.hint.personal_info", lang) in said
    name = texts.t("stories.skin_gift.character", lang)
    assert page.locator("#log .msg-bot .msg-text").last.inner_text() == texts.t(
        "story_ui.rehearsal.try_again", lang, name=name
    )
    # still on the practice step: its mock-up was not replaced by the next step's
    assert page.locator("#choices button.choice").all_inner_texts() == [
        texts.t("story_ui.rehearsal.show_example", lang)
    ]
    send_text(page, better)
    said = page.locator("#log").inner_text()
    assert texts.t("story_ui.rehearsal.better", lang) in said
    assert texts.t(f"story_ui.rehearsal.why.{kind}", lang) in said
    assert texts.t("story_ui.rehearsal.four", lang) in said
    secret = texts.t("stories.skin_gift.steps.secret.message", lang)
    assert " ".join(secret.split())[:30] in " ".join(said.split())
    stored = page.evaluate("() => JSON.stringify(sessionStorage)")
    assert weak in stored  # the tab's own transcript (gone when the tab closes)…
    assert weak not in page.evaluate("() => JSON.stringify(localStorage)")  # …never kept


def test_read_aloud_controls_on_messages_and_choices(page):
    page.add_init_script(FAKE_SPEECH)
    open_chat(page, "fr")
    choose_age(page, "8-10")
    start_story(page, "skin_gift", "fr")
    # a visible control on each message, the mock-up included
    mockup_message = page.locator("#log .msg-bot", has=page.locator(".mockup")).last
    button = mockup_message.locator(".read-button")
    assert button.is_visible() and button.inner_text() == shown("web.chat.read_message", "fr")
    button.click()
    spoken = page.evaluate("() => window.__spoken")
    text = texts.t("stories.skin_gift.steps.gift.message", "fr")
    assert spoken[-1]["lang"] == "fr-FR"
    assert "Max_Gamer" in spoken[-1]["text"] and text.split("!")[0] in spoken[-1]["text"]
    # "read the choices", with the keyboard
    read = page.locator("#read-choices")
    assert read.is_visible()
    read.focus()
    page.keyboard.press("Enter")
    spoken = page.evaluate("() => window.__spoken")
    labels = page.locator("#choices button.choice").all_inner_texts()
    assert spoken[-1]["lang"] == "fr-FR"
    assert spoken[-1]["text"].startswith(shown("web.js.choices_intro", "fr"))
    assert all(label in spoken[-1]["text"] for label in labels)
    # with read-aloud on, the mock-up and the choices are read on their own
    page.click("#settings summary")
    page.click("#tts-toggle")
    before = len(page.evaluate("() => window.__spoken"))
    click_choice(page, index=0)
    spoken = page.evaluate("() => window.__spoken")[before:]
    assert any("Max_Gamer" in s["text"] for s in spoken)
    assert spoken[-1]["text"].startswith(shown("web.js.choices_intro", "fr"))


def test_the_certificate_prints_with_the_typed_name_and_never_sends_it(page, lumi, axe_report):
    name = "Zephyrine"
    requests = []
    page.on(
        "request",
        lambda r: requests.append(
            {"url": r.url, "body": r.post_data or "", "headers": json.dumps(r.headers)}
        ),
    )
    open_chat(page, "en")
    learner = page.evaluate("() => localStorage.getItem('lumi.learner')")
    child = RestChild(lumi.web_url, sender=learner)
    end = child.play_first_story("en")
    page.click("#shelf-summary")
    page.click("#certificate-link")
    page.wait_for_url("**/certificate?**")
    assert learner in page.url
    assert page.locator("h1").inner_text() == shown("web.certificate.heading", "en")
    assert title(end["story_id"], "en") in page.locator(".diploma").inner_text()
    page.fill("#cert-name", name)
    assert page.locator("#cert-name-out").inner_text() == name
    assert page.locator("#cert-date").get_attribute("datetime")
    screenshot(page, "certificate.png")
    serious = axe_check(page, "certificate", axe_report)
    assert serious == [], serious

    page.emulate_media(media="print")
    assert page.locator("#cert-name-out").is_visible()
    assert page.locator("#cert-name-out").inner_text() == name
    assert not page.locator("#cert-name").is_visible()
    assert not page.locator("#print-button").is_visible()
    assert not page.locator("#quick-exit").is_visible()
    page.emulate_media(media="screen")
    page.keyboard.press("Enter")  # no form to submit
    # go on using the site: the name must still be in no request
    page.click(".site-nav a[href^='/parents']")
    page.wait_for_load_state()
    page.go_back()
    page.wait_for_load_state()
    for request in requests:
        assert name.lower() not in request["url"].lower(), request["url"]
        assert name.lower() not in request["body"].lower(), request["url"]
        assert name.lower() not in request["headers"].lower(), request["url"]
    assert any("/certificate?" in r["url"] for r in requests)
    stored = page.evaluate("() => JSON.stringify([localStorage, sessionStorage, document.cookie])")
    assert name not in stored


@pytest.mark.parametrize("lang", ["en", "fr"])
def test_the_parents_kit(page, axe_report, lang):
    page.goto(f"/parents?lang={lang}")
    page.click("#kit-guide")
    page.wait_for_url("**/parents/guide**")
    guide = page.locator("main").inner_text()
    assert texts.t("tactics.flattery.name", lang) in guide
    assert shown("web.guide.reply_trick", lang) in guide
    if lang == "en":
        screenshot(page, "parents-guide.png", full_page=False)
    serious = axe_check(page, f"family guide ({lang})", axe_report)
    assert serious == [], serious
    page.emulate_media(media="print")
    assert not page.locator("#print-button").is_visible()
    assert not page.locator(".site-nav").is_visible()
    page.emulate_media(media="screen")

    page.goto(f"/parents/agreement?lang={lang}")
    assert page.locator(".promises li").count() >= 12
    serious = axe_check(page, f"family agreement ({lang})", axe_report)
    assert serious == [], serious
    if lang == "en":
        screenshot(page, "parents-agreement.png")

    page.goto(f"/parents/apps?lang={lang}")
    for app in app_settings.directory():
        section = page.locator(f"section#{app.id}")
        assert section.is_visible()
        assert section.locator(".app-setting").count() == len(app.settings)
        assert section.locator("time[datetime]").count() == len(app.settings)
        for setting in app.settings:
            assert section.locator(f'a[href="{setting.source}"]').count() >= 1
    serious = axe_check(page, f"app settings ({lang})", axe_report)
    assert serious == [], serious
    if lang == "en":
        screenshot(page, "parents-kit.png", full_page=False)


def test_received_play_payloads_are_shown_as_text(page):
    """Whatever the server sends in the new payloads is text, never HTML."""
    xss = "<img src=x onerror=alert(1)>"
    dialogs = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    reply = [
        {
            "custom": {
                "kind": "story_picture",
                "lang": "en",
                "story_id": "x",
                "picture": "../x",
                "alt": xss,
            }
        },
        {
            "custom": {
                "kind": "story_message",
                "lang": "en",
                "story_id": "x",
                "step": "y",
                "app": xss,
                "app_name": xss,
                "sender": xss,
                "avatar": "x y",
                "time": xss,
                "text": xss + " hi",
                "segments": [{"text": xss, "tactic": "bribe"}, {"text": " hi", "tactic": None}],
            }
        },
        {
            "custom": {
                "kind": "quiz_end",
                "lang": "en",
                "right": xss,
                "total": 6,
                "points": xss,
                "badges": [xss],
            }
        },
    ]
    page.route(
        "**/api/message",
        lambda route: route.fulfill(
            status=200, content_type="application/json", body=json.dumps(reply)
        ),
    )
    open_chat(page, "en")
    assert page.locator("#log .story-picture img").get_attribute("src") == (
        "/static/stories/default.svg"
    )
    assert page.locator("#log .story-picture img").get_attribute("alt") == xss
    mockup = page.locator("#log .mockup")
    assert xss in mockup.inner_text()
    assert "mockup-game_chat" in (mockup.get_attribute("class") or "")
    assert page.locator('#log img[src="x"]').count() == 0
    assert page.locator("#log .quiz-end").is_visible()
    page.wait_for_timeout(300)
    assert dialogs == []
