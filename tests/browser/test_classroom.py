# ruff: noqa: F811  (pytest fixtures imported from test_teacher are redefined as arguments)
"""Issue 19 in Chromium, against the REAL stack (Rasa + actions + web app): a class
session is a space the pupils stay in, the projector fits 1920x1080 and 1280x720
without scrolling, ending asks to confirm and can be undone, the charts show
counts only, the CSV's figures equal the dashboard's, and (issue 16) a child's
yes to "tell my teacher" reaches the dashboard as a discreet alert. Screenshots
for docs/teachers.md; axe-core on every page."""

from __future__ import annotations

import csv
import io
import re

import pytest
import requests

from bot import text as texts
from tests.browser.conftest import RestChild, click_choice, screenshot, wait_reply
from tests.browser.test_teacher import (  # noqa: F401  (pytest fixtures)
    check_axe,
    new_context,
    sign_in,
    teachers,
)

CHOSEN = ("skin_gift", "secret_request")
WAIT_MS = 20_000


def start_session(page, stories=CHOSEN, **fields: str) -> str:
    page.goto("/teacher")
    for name, value in fields.items():
        if name == "title":
            page.fill("#session-title", value)
        elif name == "country":
            page.select_option("#session-country", value)
    page.check('input[name="age_band"][value="8-10"]')
    for story in stories:
        page.check(f"#story-{story}")
    page.check('input[name="language"][value="en"]')
    page.click("#start-session")
    page.wait_for_url(re.compile(r".*/teacher/class/[A-Z0-9]{6}$"))
    return page.locator("#class-code").inner_text().strip()


def join_by_link(context, code: str):
    kid = context.new_page()
    kid.goto(f"/?class={code}&lang=en")
    kid.wait_for_function("() => document.querySelectorAll('#class-stories button').length > 0")
    return kid


def rest_pupil(web_url: str, code: str) -> RestChild:
    child = RestChild(web_url)
    joined = requests.post(
        web_url + "/api/class/join",
        json={"sender": child.sender, "code": code, "lang": "en"},
        timeout=30,
    )
    assert joined.status_code == 200, joined.text
    return child


def story_titles(page) -> list[str]:
    return page.locator("#choices button.choice").all_inner_texts()


def fits(page, *selectors: str) -> None:
    """Nothing to scroll, and each element wholly inside the window."""
    size = page.evaluate(
        "() => [document.documentElement.scrollWidth, document.documentElement.scrollHeight,"
        " innerWidth, innerHeight]"
    )
    assert size[0] <= size[2] and size[1] <= size[3], size
    for selector in selectors:
        for box in [e.bounding_box() for e in page.locator(selector).all()]:
            assert box is not None, selector
            assert box["y"] >= 0 and box["y"] + box["height"] <= size[3] + 0.5, (selector, box)
            assert box["x"] >= 0 and box["x"] + box["width"] <= size[2] + 0.5, (selector, box)


def test_pupils_stay_in_the_teachers_selection(new_context, teachers, lumi, axe_report) -> None:
    teacher = new_context().new_page()
    sign_in(teacher, teachers["a"])
    code = start_session(teacher, title="Year 5 B, Tuesday", country="GB")
    assert teacher.locator("h1").inner_text() == "Year 5 B, Tuesday"
    wanted = {texts.t(f"stories.{s}.title", "en") for s in CHOSEN}

    kid = join_by_link(new_context(viewport={"width": 800, "height": 900}), code)
    assert not kid.locator("#class-form").is_visible()  # joined: no code form any more
    titles = story_titles(kid)
    assert len(titles) == 2 and all(any(w in t for w in wanted) for t in titles)
    # play the first story to its end, then ask for another one
    click_choice(kid, index=0)
    for _ in range(30):
        if kid.locator("#log .celebration").count():
            break
        click_choice(kid, index=0)
    assert kid.locator("#log .celebration").count() == 1
    click_choice(kid, texts.t("story_ui.buttons.list", "en"))
    titles = [t for t in story_titles(kid) if "(" in t]  # the story buttons (with their ages)
    assert len(titles) == 2 and all(any(w in t for w in wanted) for t in titles), titles

    # the teacher adds a story live: the pupil's panel and lists follow
    teacher.select_option("#add-story-select", "genuine_friend")
    teacher.click("#add-story-button")
    teacher.wait_for_selector("#notice")
    added = texts.t("stories.genuine_friend.title", "en")
    kid.wait_for_function(
        "want => document.getElementById('class-stories').textContent.includes(want)",
        arg=added,
        timeout=WAIT_MS,
    )
    kid.wait_for_timeout(6_000)  # the action server's view is at most 5 s old
    before = kid.locator("#log .msg-bot").count()
    kid.click("#menu-button")  # Lumi's menu, then its stories button
    wait_reply(kid, before)
    click_choice(kid, texts.t("menu.button_stories", "en"))
    titles = [t for t in story_titles(kid) if "(" in t]
    assert len(titles) == 3 and any(added in t for t in titles), titles
    check_axe(teacher, "teacher: dashboard with a session name", axe_report)


@pytest.mark.parametrize(("width", "height"), [(1920, 1080), (1280, 720)])
def test_the_projector_fits_the_screen_without_scrolling(
    new_context, teachers, lumi, axe_report, width, height
) -> None:
    teacher = new_context(viewport={"width": width, "height": height}).new_page()
    sign_in(teacher, teachers["a"])
    code = start_session(teacher)
    pupils = [rest_pupil(lumi.web_url, code) for _ in range(4)]
    teacher.goto(f"/teacher/class/{code}/projector")
    fits(teacher, ".story-buttons button")
    check_axe(teacher, f"teacher: projector {width}x{height} (choose)", axe_report)
    teacher.keyboard.press("Space")  # the first story
    teacher.wait_for_selector("#vote-list")
    poll = requests.get(
        f"{lumi.web_url}/api/class/poll", params={"code": code, "learner": pupils[0].sender}
    ).json()
    for n, pupil in enumerate(pupils):
        choice = poll["choices"][0 if n < 3 else 1]["id"]
        body = {"sender": pupil.sender, "code": code, "round": poll["round"], "choice": choice}
        assert requests.post(f"{lumi.web_url}/api/class/vote", json=body).status_code == 200
    total = texts.t("teacher.projector.votes_total", "en", n=4)
    teacher.wait_for_function(
        "want => document.getElementById('vote-total').textContent === want",
        arg=total,
        timeout=WAIT_MS,
    )
    teacher.wait_for_function("() => window.Chart && Chart.getChart('vote-chart')")
    counts = teacher.locator("#vote-list .count").all_inner_texts()
    few = texts.t("teacher.dashboard.few", "en")
    assert counts[:2] == ["3", few] and set(counts[2:]) == {"0"}  # one vote reads "a few"
    fits(teacher, "#step-text", ".projector-question", ".vote-choice", "#vote-chart", "#reveal")
    # nothing of the teacher's account on the class screen
    text = teacher.locator("body").inner_text()
    assert teachers["a"] not in text and not teacher.locator("#logout").count()
    check_axe(teacher, f"teacher: projector {width}x{height} (votes)", axe_report)
    screenshot(teacher, f"projector-{width}x{height}.png", full_page=False)

    teacher.keyboard.press("r")  # show the answers
    teacher.wait_for_selector(".vote-choice.is-safe")
    leader = teacher.locator(".vote-choice.is-leader")
    assert (
        leader.count() == 1 and texts.t("teacher.lesson.class_choice", "en") in leader.inner_text()
    )
    fits(teacher, ".vote-choice", "#follow-vote")  # every choice and its feedback, too
    check_axe(teacher, f"teacher: projector {width}x{height} (answers)", axe_report)
    screenshot(teacher, f"projector-{width}x{height}-revealed.png", full_page=False)
    # the lesson timer runs across the page's reloads
    teacher.keyboard.press("t")
    teacher.wait_for_function(
        "() => document.getElementById('timer-value').textContent !== '00:00'", timeout=5_000
    )
    teacher.keyboard.press("ArrowRight")  # follow the class vote
    teacher.wait_for_function(
        "() => document.getElementById('projector').getAttribute('data-revealed') === '0'"
    )
    assert teacher.locator("#timer-value").inner_text() != "00:00"


def test_ending_asks_to_confirm_and_can_be_undone(new_context, teachers, lumi, axe_report) -> None:
    teacher = new_context().new_page()
    sign_in(teacher, teachers["a"])
    code = start_session(teacher)
    teacher.click("#end-session")
    teacher.wait_for_selector("#confirm-end")
    check_axe(teacher, "teacher: end the session?", axe_report)
    teacher.click("#cancel-end")  # changed my mind before
    teacher.wait_for_selector(".status-open")
    teacher.click("#end-session")
    teacher.click("#confirm-end")
    teacher.wait_for_selector(".status-ended")
    assert teacher.locator("#undo-end").is_visible()
    late = requests.post(
        lumi.web_url + "/api/class/join",
        json={"sender": "lateChild0001", "code": code, "lang": "en"},
        timeout=30,
    )
    assert late.status_code == 410
    teacher.click("#undo-end")
    teacher.wait_for_selector(".status-open")
    assert texts.t("teacher.lesson.reopened", "en") in teacher.locator("#notice").inner_text()
    again = requests.post(
        lumi.web_url + "/api/class/join",
        json={"sender": "lateChild0001", "code": code, "lang": "en"},
        timeout=30,
    )
    assert again.status_code == 200


def test_charts_show_counts_only_and_the_csv_equals_the_dashboard(
    new_context, teachers, lumi, axe_report
) -> None:
    teacher = new_context(accept_downloads=True).new_page()
    sign_in(teacher, teachers["a"])
    code = start_session(teacher, stories=("skin_gift",))
    for _ in range(3):
        pupil = rest_pupil(lumi.web_url, code)
        reply = pupil.send('/start_story{"story_id":"skin_gift"}', language="en", class_code=code)
        for _ in range(30):
            if any((m.get("custom") or {}).get("kind") == "story_end" for m in reply):
                break
            button = next(b for m in reply for b in m.get("buttons") or [])
            reply = pupil.send(button["payload"], class_code=code)
    rest_pupil(lumi.web_url, code)  # joined, not playing
    teacher.reload()
    teacher.wait_for_function(
        "() => document.querySelector('#stories-body tr[data-story=\"skin_gift\"] td .count')"
        ".textContent === '3'",
        timeout=WAIT_MS,
    )
    teacher.wait_for_function(
        "() => Number(document.getElementById('dashboard').dataset.charts) > 0"
    )
    # the charts hold the same counts as the tables, and no text but titles and names
    charted = teacher.evaluate(
        """() => ['chart-progress', 'chart-tactics', 'chart-steps-skin_gift'].map(id => {
             const c = Chart.getChart(id);
             return {labels: c.data.labels.map(l => [].concat(l).join(' ')),
                     data: c.data.datasets.map(d => d.data),
                     shown: c.data.datasets.map(d => d.lumiLabels)};
           })"""
    )
    data = teacher.request.get(f"/teacher/class/{code}/data.json").json()
    progress = charted[0]
    assert progress["shown"] == [
        [
            str(s["started"]["count"]) if not s["started"]["few"] else "a few"
            for s in data["stories"]
        ],
        [
            str(s["finished"]["count"]) if not s["finished"]["few"] else "a few"
            for s in data["stories"]
        ],
    ]
    allowed = {s["title"] for s in data["stories"]} | {x["name"] for x in data["tactics"]}
    allowed |= {step["label"] for story in data["steps"] for step in story["steps"]}
    for chart in charted:
        assert set(chart["labels"]) <= allowed
        for series in chart["data"]:
            assert all(isinstance(v, (int, float)) for v in series)
    check_axe(teacher, "teacher: dashboard with charts", axe_report)
    screenshot(teacher, "dashboard-charts.png")

    with teacher.expect_download() as download:
        teacher.click("#export-link")
    rows = list(csv.reader(io.StringIO(download.value.path().read_text("utf-8-sig"))))
    cells = {(r[0], r[1], r[2]): r[3] for r in rows[1:]}
    assert cells[("class", "joined", "children")] == teacher.locator("#joined-count").inner_text()
    assert (
        cells[("class", "started playing", "children")]
        == teacher.locator("#active-count").inner_text()
    )
    for tr in teacher.locator("#stories-body tr").all():
        title = tr.locator("th").inner_text()
        shown = tr.locator(".count").all_inner_texts()
        assert [cells[("story", title, "started")], cells[("story", title, "finished")]] == shown
    for tr in teacher.locator("#tactics-body tr[data-tactic]").all():
        name = tr.locator("th").inner_text()
        shown = tr.locator(".count").all_inner_texts()
        assert [cells[("trick", name, "spotted")], cells[("trick", name, "missed")]] == shown

    teacher.click("#summary-link")
    teacher.wait_for_function("() => Number(document.getElementById('summary').dataset.charts) > 0")
    check_axe(teacher, "teacher: end-of-lesson summary", axe_report)
    teacher.emulate_media(media="print")
    assert not teacher.locator("#print-button").is_visible()
    assert teacher.locator("#chart-tactics").is_visible()
    screenshot(teacher, "summary-print.png")
    teacher.emulate_media(media="screen")


def test_a_childs_yes_reaches_the_teacher_as_a_discreet_alert(
    new_context, teachers, lumi, axe_report
) -> None:
    teacher = new_context().new_page()
    sign_in(teacher, teachers["a"])
    code = start_session(teacher)
    pupil = rest_pupil(lumi.web_url, code)
    typed = "a man online wants me to send photos and says to keep it secret"
    reply = pupil.send(typed, language="en", class_code=code)
    offer = texts.t("adult_in_room.teacher_offer", "en")
    assert any(m.get("text") == offer for m in reply), [m.get("text") for m in reply]
    teacher.wait_for_timeout(4_500)  # a refresh of the dashboard: nothing before the yes
    assert teacher.locator("#alerts").is_hidden()
    pupil.send("/accept_adult_offer", class_code=code)
    teacher.wait_for_selector("#alerts:not([hidden])", timeout=WAIT_MS)
    teacher.click("#alerts-summary")  # folded until the teacher opens it
    text = teacher.locator("#alert-list").inner_text()
    assert "would like to talk to you" in text
    assert typed not in teacher.locator("main").inner_text()
    check_axe(teacher, "teacher: dashboard with an alert", axe_report)
    screenshot(teacher, "dashboard-alert.png", full_page=False)
    teacher.click("#alert-list button")
    teacher.wait_for_selector("#alerts[hidden]", state="attached")
    assert teacher.locator("#alert-list li").count() == 0
