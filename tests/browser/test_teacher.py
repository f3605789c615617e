"""The teachers' side in Chromium, against the REAL stack (Rasa + actions + web app):
a teacher signs in (accounts made with the CLI), starts a class session, children
join with the code and play a story, the live dashboard shows counts only; projector
votes; the lesson plan's print layout in both languages; a second teacher cannot
see the first one's class; axe-core on every teacher page."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from typing import Any

import pytest
import requests

from bot import text as texts
from bot.paths import ROOT
from tests.browser.conftest import (
    CLICK_PAUSE_MS,
    RestChild,
    axe_check,
    click_choice,
    screenshot,
    shown,
    wait_reply,
)

PASSWORD = "correct horse battery staple"
TEACHER_A = "teacher.a@school.test"
TEACHER_B = "teacher.b@school.test"
STORY = "skin_gift"
FEW = texts.t("teacher.dashboard.few", "en")
REFRESH_WAIT_MS = 20_000


def cli(lumi, *args: str) -> subprocess.CompletedProcess:
    env = {**lumi.env, "LUMI_TEACHER_PASSWORD": PASSWORD}
    return subprocess.run(
        [sys.executable, "-m", "bot.storage.cli", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture(scope="module")
def teachers(lumi) -> dict[str, str]:
    """Two teacher accounts, made with the command a school's admin would use."""
    for name in (TEACHER_A, TEACHER_B):
        done = cli(lumi, "create-teacher", name)
        assert done.returncode == 0 or "already taken" in done.stderr, done.stderr
    return {"a": TEACHER_A, "b": TEACHER_B}


@pytest.fixture
def new_context(browser, base_url):
    made = []

    def make(**options: Any):
        context = browser.new_context(
            base_url=base_url,
            locale=options.pop("locale", "en-GB"),
            viewport=options.pop("viewport", {"width": 1200, "height": 900}),
            **options,
        )
        made.append(context)
        return context

    yield make
    for context in made:
        context.close()


def sign_in(page, username: str) -> None:
    page.goto("/teacher/login")
    page.fill("#username", username)
    page.fill("#password", PASSWORD)
    page.click("#sign-in")
    page.wait_for_url(re.compile(r".*/teacher$"))


def check_axe(page, name: str, report: dict[str, Any]) -> None:
    serious = axe_check(page, name, report)
    assert serious == [], f"{name}: {serious}"


def play_class_story(page) -> list[str]:
    """From the class's stories on screen: play the first one to its end (first choices)."""
    clicked = [click_choice(page, index=0)]
    for _ in range(30):
        if page.locator("#log .celebration").count():
            return clicked
        assert page.locator("#choices button.choice").count(), "a story step without buttons"
        clicked.append(click_choice(page, index=0))
    raise AssertionError(f"no story_end after {len(clicked)} clicks: {clicked}")


def rest_child_plays(web_url: str, code: str) -> RestChild:
    """A third child, through the web app's own APIs (join, then the proxy to Rasa)."""
    child = RestChild(web_url)
    joined = requests.post(
        web_url + "/api/class/join",
        json={"sender": child.sender, "code": code, "lang": "en"},
        timeout=30,
    )
    assert joined.status_code == 200, joined.text
    reply = child.send(f'/start_story{{"story_id":"{STORY}"}}', language="en", class_code=code)
    for _ in range(30):
        if any((m.get("custom") or {}).get("kind") == "story_end" for m in reply):
            return child
        button = next(b for m in reply for b in m.get("buttons") or [])
        reply = child.send(button["payload"], class_code=code)
    raise AssertionError("the third child's story did not end")


def cell_text(page, table: str, row: str, column: int) -> str:
    return page.locator(f"{table} tr[{row}] td").nth(column).locator(".count").inner_text()


def wait_cell(page, table: str, row: str, column: int, expected: str) -> None:
    selector = f"{table} tr[{row}] td"
    page.wait_for_function(
        """([sel, col, want]) => {
             const cells = document.querySelectorAll(sel);
             return cells.length > col && cells[col].querySelector('.count')
               && cells[col].querySelector('.count').textContent === want;
           }""",
        arg=[selector, column, expected],
        timeout=REFRESH_WAIT_MS,
    )


def test_a_class_session_from_sign_in_to_the_lesson_plan(
    new_context, teachers, lumi, axe_report
) -> None:
    teacher = new_context().new_page()
    teacher.goto("/teacher/login")
    check_axe(teacher, "teacher: sign-in", axe_report)
    sign_in(teacher, teachers["a"])
    check_axe(teacher, "teacher: my classes", axe_report)

    # a session with one story, in English
    teacher.check(f"#story-{STORY}")
    teacher.check('input[name="language"][value="en"]')
    teacher.click("#start-session")
    teacher.wait_for_url(re.compile(r".*/teacher/class/[A-Z0-9]{6}$"))
    code = teacher.locator("#class-code").inner_text().strip()
    assert re.fullmatch(r"[ABCDEFGHJKMNPQRSTUVWXYZ2-9]{6}", code), code
    qr = teacher.locator("img.qr")
    assert qr.evaluate("img => img.complete && img.naturalWidth > 0")
    assert f"/?class={code}&lang=en" in teacher.locator(".join-url").inner_text()

    # child 1 follows the link (the QR code's address); child 2 types the code
    kid1 = new_context(viewport={"width": 800, "height": 900}).new_page()
    kid1.goto(f"/?class={code}&lang=en")
    kid1.wait_for_function("() => document.querySelectorAll('#class-stories button').length > 0")
    name1 = re.search(r"class name: (.+)\.$", kid1.locator("#class-status").inner_text()).group(1)
    kid2 = new_context(viewport={"width": 800, "height": 900}).new_page()
    kid2.goto("/?lang=en")
    wait_reply(kid2, 0)
    kid2.click("#class-summary")
    kid2.fill("#class-code", f"{code[:3].lower()}-{code[3:].lower()}")
    kid2.click("#class-join")
    kid2.wait_for_function("() => document.querySelectorAll('#class-stories button').length > 0")
    name2 = re.search(r"class name: (.+)\.$", kid2.locator("#class-status").inner_text()).group(1)
    assert name1 != name2
    for kid in (kid1, kid2):  # the class's stories come first, as choices
        titles = kid.locator("#choices button.choice").all_inner_texts()
        assert titles and all(texts.t(f"stories.{STORY}.title", "en") in t for t in titles)

    # the dashboard sees them join (by itself, no reload), with class names only
    teacher.wait_for_function(
        "() => document.getElementById('joined-count').textContent === '2'",
        timeout=REFRESH_WAIT_MS,
    )
    chips = teacher.locator("#pseudonyms li").all_inner_texts()
    assert sorted(chips) == sorted([name1, name2])

    for kid in (kid1, kid2):
        play_class_story(kid)
        assert kid.locator("#log .celebration").count() == 1

    # two children: counts of 1-2 are hidden
    wait_cell(teacher, "#stories-body", f'data-story="{STORY}"', 1, FEW)
    assert cell_text(teacher, "#stories-body", f'data-story="{STORY}"', 0) == FEW
    wait_cell(teacher, "#tactics-body", 'data-tactic="bribe"', 0, FEW)

    # a third child finishes the story: now the counts show
    third = rest_child_plays(lumi.web_url, code)
    wait_cell(teacher, "#stories-body", f'data-story="{STORY}"', 1, "3")
    assert cell_text(teacher, "#stories-body", f'data-story="{STORY}"', 0) == "3"
    wait_cell(teacher, "#tactics-body", 'data-tactic="bribe"', 0, "3")  # all chose "no thanks"
    assert teacher.locator("#joined-count").inner_text() == "3"
    page_text = teacher.locator("main").inner_text()
    assert "childAAAA" not in page_text and third.sender not in page_text
    check_axe(teacher, "teacher: dashboard", axe_report)
    screenshot(teacher, "dashboard.png")

    # projector mode: the class votes from their devices
    teacher.click("#projector-link")
    teacher.wait_for_url(re.compile(r".*/projector$"))
    check_axe(teacher, "teacher: projector (choose a story)", axe_report)
    teacher.click("#projector form button")
    teacher.wait_for_selector("#vote-list")
    for kid, index in ((kid1, 0), (kid2, 1)):
        kid.wait_for_selector("#vote-panel:not([hidden]) #vote-choices button", timeout=15_000)
        kid.wait_for_timeout(CLICK_PAUSE_MS)
        kid.locator("#vote-choices button").nth(index).click()
        kid.wait_for_selector("#vote-choices button[aria-pressed='true']", timeout=15_000)
    poll = requests.get(
        f"{lumi.web_url}/api/class/poll",
        params={"code": code, "learner": third.sender},
        timeout=30,
    ).json()
    voted = requests.post(
        f"{lumi.web_url}/api/class/vote",
        json={"sender": third.sender, "code": code, "round": poll["round"], "choice": "no_thanks"},
        timeout=30,
    )
    assert voted.status_code == 200, voted.text
    total = texts.t("teacher.projector.votes_total", "en", n=3)
    teacher.wait_for_function(
        "want => document.getElementById('vote-total').textContent === want",
        arg=total,
        timeout=REFRESH_WAIT_MS,
    )
    check_axe(teacher, "teacher: projector (votes)", axe_report)
    teacher.click("text=" + texts.t("teacher.projector.reveal", "en"))
    teacher.wait_for_selector(".vote-choice.is-safe")
    assert texts.t("teacher.projector.safe", "en") in teacher.locator("#vote-list").inner_text()
    kid1.wait_for_function(
        "want => document.getElementById('vote-status').textContent === want",
        arg=shown("web.js.vote_look", "en"),
        timeout=15_000,
    )
    check_axe(teacher, "teacher: projector (answers shown)", axe_report)
    screenshot(teacher, "dashboard-projector.png")
    teacher.click("#follow-vote")  # follow the class's vote
    teacher.wait_for_selector("#vote-list")
    assert texts.t(f"stories.{STORY}.steps.school.text", "en") in teacher.locator("h1").inner_text()

    # the lesson plan, in both languages, as printed
    for lang, country in (("en", "GB"), ("fr", "FR")):
        teacher.emulate_media(media="screen")
        teacher.goto(f"/teacher/class/{code}/plan?lang={lang}&country={country}")
        assert teacher.locator("html").get_attribute("lang") == lang
        assert shown("teacher.plan.heading", lang) in teacher.locator("h1").inner_text()
        coplay = shown(f"stories.{STORY}.steps.gift.coplay", lang)
        assert coplay in teacher.locator(".prompts").first.inner_text()
        check_axe(teacher, f"teacher: lesson plan ({lang})", axe_report)
        teacher.emulate_media(media="print")
        assert not teacher.locator("#print-button").is_visible()
        assert not teacher.locator(".teacher-header").is_visible()
        assert teacher.locator("#poster").is_visible()
        screenshot(teacher, f"lesson-plan-{lang}.png")
    teacher.emulate_media(media="screen")

    # ending the session closes it to new joins; the results stay
    teacher.goto(f"/teacher/class/{code}")
    teacher.click("#end-session")  # asks first
    teacher.wait_for_selector("#confirm-end")
    teacher.click("#confirm-end")
    teacher.wait_for_selector(".status-ended")
    late = new_context().new_page()
    late.goto("/?lang=en")
    wait_reply(late, 0)
    late.click("#class-summary")
    late.fill("#class-code", code)
    late.click("#class-join")
    late.wait_for_function(
        "want => document.getElementById('class-status').textContent === want",
        arg=shown("web.class.ended", "en"),
    )
    assert teacher.locator("#joined-count").inner_text() == "3"


def test_a_second_teacher_cannot_see_the_first_ones_class(new_context, teachers, lumi) -> None:
    from bot.storage import Store

    store = Store(lumi.env.get("DATABASE_URL") or f"sqlite:///{lumi.workdir / 'lumi.db'}")
    try:
        owner = store.verify_teacher(teachers["a"], PASSWORD)
        assert owner is not None
        code = store.create_class_session(owner, "fr", [STORY])
    finally:
        store.dispose()
    page = new_context(locale="fr-FR").new_page()
    sign_in(page, teachers["b"])
    assert code not in page.locator("main").inner_text()
    for path in ("", "/plan", "/projector"):
        response = page.goto(f"/teacher/class/{code}{path}")
        assert response.status == 404
        assert shown("teacher.errors.not_found", "fr") in page.locator("#message").inner_text()
    response = page.request.get(f"/teacher/class/{code}/data.json")
    assert response.status == 404
    # signed out, the same address asks to sign in
    anonymous = new_context().new_page()
    anonymous.goto(f"/teacher/class/{code}")
    assert "/teacher/login" in anonymous.url


def test_teacher_pages_in_french_pass_axe(new_context, teachers, axe_report) -> None:
    page = new_context(locale="fr-FR").new_page()
    page.goto("/teacher/login")
    assert page.locator("html").get_attribute("lang") == "fr"
    check_axe(page, "teacher: sign-in (fr)", axe_report)
    sign_in(page, teachers["b"])
    check_axe(page, "teacher: my classes (fr)", axe_report)


def test_ten_wrong_passwords_in_the_browser(new_context, teachers) -> None:
    """Last in this file: it pauses sign-in for one name (per address only after 50)."""
    page = new_context().new_page()
    page.goto("/teacher/login")
    for attempt in range(10):
        page.fill("#username", "nobody-" + str(os.getpid()) + "@school.test")
        page.fill("#password", f"wrong password {attempt}")
        page.click("#sign-in")
        page.wait_for_selector("#form-error")
    message = page.locator("#form-error").inner_text()
    assert message.startswith("Too many wrong passwords in a row.")
    assert "Traceback" not in page.content()
    # the same name again: still paused, even with any password
    page.fill("#username", "nobody-" + str(os.getpid()) + "@school.test")
    page.fill("#password", PASSWORD)
    page.click("#sign-in")
    page.wait_for_selector("#form-error")
    assert page.locator("#form-error").inner_text().startswith("Too many wrong passwords")
    # a colleague from the same address (a school shares one) is not locked out
    page.fill("#username", TEACHER_A)
    page.fill("#password", PASSWORD)
    page.click("#sign-in")
    page.wait_for_url(re.compile(r".*/teacher$"))
