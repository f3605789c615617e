# ruff: noqa: F811  (pytest fixtures imported from test_teacher are redefined as arguments)
"""The teacher's side of issue 19 through the real web app (SQLite, no Rasa): a
session's name, country, age band and time zone; a story added live; ending
asks to confirm and can be undone for a few minutes; the CSV export equals the
dashboard; the end-of-lesson summary; the projector page of its own with "a
few" everywhere and the winner shown once revealed; one typography helper;
the vendored chart library."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import re
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from markupsafe import escape

from bot import text as texts
from bot.paths import ROOT
from bot.web import lessons, typography
from bot.web.app import jinja_environment
from tests.unit.test_teacher import (  # noqa: F401  (pytest fixtures)
    MARKS_RISKY,
    MARKS_SAFE,
    PASSWORD,
    anon,
    app,
    clock,
    csrf,
    quick_hashes,
    store,
    teacher,
)

CHART_DIR = ROOT / "bot" / "web" / "static" / "vendor" / "chartjs"


def new_session(client, **fields: Any):
    token = csrf(client, "/teacher")
    data = {"csrf_token": token, "language": "en", "story": ["skin_gift"], **fields}
    return client.post("/teacher/class", data=data)


def code_of(response) -> str:
    assert response.status_code == 303, response.text[:400]
    return response.headers["location"].rsplit("/", 1)[1]


def tid(store) -> int:
    """The signed-in teacher's id."""
    found = store.verify_teacher("prof.a@school.test", PASSWORD)
    assert found is not None
    return int(found)


def post(client, url: str, **data: Any):
    return client.post(url, data={"csrf_token": csrf(client, "/teacher"), **data})


# ----------------------------------------------------------------- the session's settings


def test_a_session_has_a_name_a_country_an_age_band_and_a_time_zone(teacher, store) -> None:
    code = code_of(
        new_session(
            teacher,
            title="  Year 6 B,   Tuesday ",
            country="FR",
            age_band="8-10",
            time_zone="Europe/Paris",
            story=["skin_gift", "secret_request"],
        )
    )
    info = store.class_session(tid(store), code)
    assert info is not None
    assert (info["title"], info["country"], info["age_band"], info["time_zone"]) == (
        "Year 6 B, Tuesday",
        "FR",
        "8-10",
        "Europe/Paris",
    )
    page = teacher.get(f"/teacher/class/{code}").text
    assert "<h1>Year 6 B, Tuesday</h1>" in page
    created = dt.datetime.fromisoformat(info["created_at"])
    paris = created.astimezone(ZoneInfo("Europe/Paris"))
    assert paris.strftime("%Y-%m-%d %H:%M ") + paris.tzname() in page  # the school's time
    assert "UTC" not in page.split("session-meta")[1][:300]
    # the poster's country is the session's, without picking it again
    plan = teacher.get(f"/teacher/class/{code}/plan").text
    assert "3018" in plan  # France's helpline
    # and the pupils get it with their class (the page sends it with each message)
    reply = teacher.post("/api/class/join", json={"sender": "pupil00001", "code": code}).json()
    assert reply["country"] == "FR"


@pytest.mark.parametrize(
    ("fields", "error"),
    [
        ({"title": "x" * 61}, "teacher.lesson.bad_title"),
        ({"country": "XX"}, "teacher.lesson.bad_country"),
        ({"age_band": "11-13"}, "teacher.lesson.bad_band"),  # skin_gift is 8-10
        ({"age_band": "5-7"}, "teacher.lesson.bad_band"),
    ],
)
def test_bad_settings_are_refused_with_a_clear_sentence(teacher, fields, error) -> None:
    response = new_session(teacher, **fields)
    assert response.status_code == 400
    assert str(escape(texts.t(error, "en"))) in response.text


def test_an_unknown_time_zone_is_dropped_not_fatal(teacher, store) -> None:
    code = code_of(new_session(teacher, time_zone="Mars/Olympus_Mons"))
    assert store.class_session(tid(store), code)["time_zone"] is None
    assert "UTC" in teacher.get(f"/teacher/class/{code}").text


def test_the_form_offers_the_browsers_country(teacher) -> None:
    page = teacher.get("/teacher", headers={"accept-language": "fr-BE,fr;q=0.9"}).text
    assert '<option value="BE" selected>' in page


# ----------------------------------------------------------------- a story added live


def test_a_story_added_live_reaches_the_pupils_panel(teacher, anon) -> None:
    code = code_of(new_session(teacher))
    assert (
        anon.post("/api/class/join", json={"sender": "pupil00001", "code": code}).status_code == 200
    )
    response = post(teacher, f"/teacher/class/{code}/stories", story="secret_request")
    assert response.status_code == 303 and "done=added" in response.headers["location"]
    poll = anon.get(f"/api/class/poll?code={code}&learner=pupil00001").json()
    assert [s["id"] for s in poll["stories"]] == ["skin_gift", "secret_request"]
    assert "secret_request" in teacher.get(f"/teacher/class/{code}").text
    # a story already in it, or one that does not exist, changes nothing
    post(teacher, f"/teacher/class/{code}/stories", story="secret_request")
    post(teacher, f"/teacher/class/{code}/stories", story="no_such_story")
    poll = anon.get(f"/api/class/poll?code={code}&learner=pupil00001").json()
    assert [s["id"] for s in poll["stories"]] == ["skin_gift", "secret_request"]


def test_a_live_story_keeps_the_age_band(teacher, store) -> None:
    code = code_of(new_session(teacher, age_band="8-10"))
    post(teacher, f"/teacher/class/{code}/stories", story="meet_up")  # 11-13
    teacher_id = tid(store)
    assert store.class_session(teacher_id, code)["story_ids"] == ["skin_gift"]


# ----------------------------------------------------------------- ending, and undoing it


def test_ending_asks_to_confirm_and_can_be_undone(teacher, store, anon) -> None:
    code = code_of(new_session(teacher))
    confirm = teacher.get(f"/teacher/class/{code}/end")
    assert confirm.status_code == 200
    assert 'id="confirm-end"' in confirm.text and 'id="cancel-end"' in confirm.text
    teacher_id = tid(store)
    assert store.class_session(teacher_id, code)["status"] == "open"  # a GET ends nothing

    post(teacher, f"/teacher/class/{code}/end")
    assert store.class_session(teacher_id, code)["status"] == "ended"
    page = teacher.get(f"/teacher/class/{code}").text
    assert 'id="undo-end"' in page
    joined = anon.post("/api/class/join", json={"sender": "pupil00001", "code": code})
    assert joined.status_code == 410

    response = post(teacher, f"/teacher/class/{code}/reopen")
    assert "done=reopened" in response.headers["location"]
    assert store.class_session(teacher_id, code)["status"] == "open"
    assert (
        anon.post("/api/class/join", json={"sender": "pupil00001", "code": code}).status_code == 200
    )


def test_undo_is_refused_after_the_delay(teacher, store) -> None:
    code = code_of(new_session(teacher))
    post(teacher, f"/teacher/class/{code}/end")
    later = dt.datetime.now(dt.timezone.utc) + dt.timedelta(minutes=11)
    store.clock = lambda: later
    assert 'id="undo-end"' not in teacher.get(f"/teacher/class/{code}").text
    response = post(teacher, f"/teacher/class/{code}/reopen")
    assert "done=too_late" in response.headers["location"]
    teacher_id = tid(store)
    assert store.class_session(teacher_id, code)["status"] == "ended"


# ----------------------------------------------------------------- export and summary


def _play(store, code: str, learner: str, marks: list, score: int) -> None:
    store.join_class_as(code, learner)
    store.record_story_start(learner, "skin_gift")
    store.record_story_end(learner, "skin_gift", marks, score)
    store.record_quiz_answer(learner, "bribe", score > 60)


def _with_step_ids(marks: list) -> list:
    return [{**m, "step_id": step} for m, step in zip(marks, ("gift", "school"), strict=False)]


def test_the_csv_export_equals_the_dashboard_counts_only(teacher, store) -> None:
    code = code_of(new_session(teacher))
    for n, marks in enumerate((MARKS_SAFE, MARKS_SAFE, MARKS_RISKY, MARKS_SAFE)):
        _play(store, code, f"pupilCSV{n:04d}", _with_step_ids(marks), 100 if n != 2 else 50)
    store.join_class_as(code, "pupilCSV9999")
    data = teacher.get(f"/teacher/class/{code}/data.json").json()
    response = teacher.get(f"/teacher/class/{code}/export.csv")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert f"lumi-class-{code}.csv" in response.headers["content-disposition"]
    rows = list(csv.reader(io.StringIO(response.text.lstrip("\ufeff"))))
    header, body = rows[0], rows[1:]
    assert header == ["section", "item", "measure", "value"]
    cells = {(r[0], r[1], r[2]): r[3] for r in body}
    few = texts.t("teacher.dashboard.few", "en")

    def shown(cell: dict) -> str:
        return few if cell["few"] else str(cell["count"])

    assert cells[("class", "joined", "children")] == str(data["joined"]) == "5"
    assert cells[("class", "started playing", "children")] == shown(data["active"]) == "4"
    for s in data["stories"]:
        assert cells[("story", s["title"], "started")] == shown(s["started"])
        assert cells[("story", s["title"], "finished")] == shown(s["finished"])
    for x in data["tactics"]:
        assert cells[("trick", x["name"], "spotted")] == shown(x["spotted"])
        assert cells[("trick", x["name"], "missed")] == shown(x["missed"])
    bribe = next(x for x in data["tactics"] if x["id"] == "bribe")
    assert shown(bribe["spotted"]) == "3" and shown(bribe["missed"]) == few
    steps = next(s for s in data["steps"] if s["id"] == "skin_gift")["steps"]
    gift = next(s for s in steps if s["id"] == "gift")
    assert (
        cells[
            ("step", f"{texts.t('stories.skin_gift.title', 'en')} · {gift['label']}", "safe choice")
        ]
        == "3"
    )
    # counts, titles and names only: no learner id, no pseudonym, nothing typed
    assert "pupilCSV" not in response.text
    for pseudonym in data["pseudonyms"]:
        assert pseudonym not in response.text
    view = lessons.dashboard_view(store.class_dashboard(tid(store), code), "en")
    assert len(body) == len(lessons.export_rows(view, "en")) - 1


def test_a_formula_cannot_ride_in_the_csv() -> None:
    text = lessons.csv_text([["a", "=HYPERLINK(1)", "+1", "-2", "@x", "ok"]])
    assert text == "\ufeffa,'=HYPERLINK(1),'+1,'-2,'@x,ok\r\n"


def test_the_summary_is_printable_with_charts_and_tables(teacher, store) -> None:
    code = code_of(new_session(teacher, title="6B"))
    for n in range(3):
        _play(store, code, f"pupilSUM{n:04d}", _with_step_ids(MARKS_SAFE), 100)
    page = teacher.get(f"/teacher/class/{code}/summary").text
    assert texts.t("teacher.lesson.summary_heading", "en", name="6B") in page
    for canvas in ("chart-progress", "chart-tactics", "chart-steps-skin_gift"):
        assert f'id="{canvas}"' in page
    assert "/static/vendor/chartjs/chart.umd.min.js" in page
    assert 'id="print-button"' in page and 'class="data steps-table"' in page
    french = teacher.get(f"/teacher/class/{code}/summary?lang=fr").text
    assert '<html lang="fr">' in french


# ----------------------------------------------------------------- projector


def _projector(client, code: str, **data: str):
    return client.post(
        f"/teacher/class/{code}/projector", data={"csrf_token": csrf(client, "/teacher"), **data}
    )


def test_the_projector_shows_nothing_of_the_teachers_account(teacher) -> None:
    code = code_of(new_session(teacher))
    _projector(teacher, code, action="start", story="skin_gift")
    page = teacher.get(f"/teacher/class/{code}/projector").text
    assert "prof.a@school.test" not in page
    assert "/teacher/logout" not in page and 'id="logout"' not in page
    assert 'id="reveal"' in page and 'data-key="1"' in page  # Space / -> target
    assert 'id="timer-toggle"' in page and 'id="vote-chart"' in page


def test_a_few_votes_read_a_few_everywhere_and_the_winner_shows_once_revealed(
    teacher, store, anon
) -> None:
    code = code_of(new_session(teacher))
    _projector(teacher, code, action="start", story="skin_gift")
    for n, choice in enumerate(("no_thanks", "no_thanks")):
        sender = f"pupilVOTE{n:03d}"
        anon.post("/api/class/join", json={"sender": sender, "code": code})
        poll = anon.get(f"/api/class/poll?code={code}&learner={sender}").json()
        anon.post(
            "/api/class/vote",
            json={"sender": sender, "code": code, "round": poll["round"], "choice": choice},
        )
    data = teacher.get(f"/teacher/class/{code}/projector.json").json()
    few = texts.t("teacher.dashboard.few", "en")
    assert data["total_label"] == texts.t("teacher.projector.votes_few", "en")
    assert few in data["total_label"]
    chosen = next(c for c in data["choices"] if c["id"] == "no_thanks")
    assert chosen["label"] == few and chosen["votes"] == {"count": None, "few": True}
    assert data["leaders"] == []  # hidden until the answers are shown
    _projector(teacher, code, action="reveal")
    data = teacher.get(f"/teacher/class/{code}/projector.json").json()
    assert data["leaders"] == ["no_thanks"]
    page = teacher.get(f"/teacher/class/{code}/projector").text
    leader = re.search(r'<li class="vote-choice[^"]*is-leader[^"]*" data-choice="([a-z_]+)"', page)
    assert leader and leader.group(1) == "no_thanks"
    assert texts.t("teacher.lesson.class_choice", "en") in page


# ----------------------------------------------------------------- typography, chart library


@pytest.mark.parametrize(
    ("raw", "fixed"),
    [
        ("Votes: 3", "Votes\u00a0: 3"),
        ("Votes : 3", "Votes\u00a0: 3"),
        ("Bravo !", "Bravo\u202f!"),
        ("Quoi?", "Quoi\u202f?"),
        ("« Salut »", "«\u00a0Salut\u00a0»"),
        ("«Salut»", "«\u00a0Salut\u00a0»"),
        ("80 %", "80\u202f%"),
        ("Site web : https://x.fr/a?b=c", "Site web\u00a0: https://x.fr/a?b=c"),
        ("à 10:30", "à 10:30"),
        ("/teacher?lang=fr", "/teacher?lang=fr"),
    ],
)
def test_french_spacing(raw: str, fixed: str) -> None:
    assert typography.fix(raw, "fr") == fixed
    assert typography.fix(raw, "en") == raw


def test_every_template_goes_through_the_one_helper() -> None:
    env = jinja_environment()
    page = env.from_string("<p title='{{ a }}'>{{ a }}</p>{{ colon() }}").render(
        lang="fr", a="Prêt ?"
    )
    assert page == "<p title='Prêt\u202f?'>Prêt\u202f?</p>\u00a0: "
    assert env.from_string("{{ a }}").render(lang="en", a="Ready ?") == "Ready ?"
    templates = sorted((ROOT / "bot" / "web" / "templates").rglob("*.html"))
    assert len(templates) >= 15
    for path in templates:
        source = path.read_text(encoding="utf-8")
        # a colon written in a template goes through colon(): none glued to a tag
        assert not re.search(r"</strong>: |}}: ", source), path
        # an imported macro sees the page's language
        for line in re.findall(r"{%\s*from .* import .*%}", source):
            assert "with context" in line, (path, line)


def test_a_french_page_has_no_space_glitches(teacher) -> None:
    code = code_of(new_session(teacher, language="fr", country="FR"))
    page = teacher.get(f"/teacher/class/{code}/plan?lang=fr").text
    assert re.search(r"[^\s\u00a0\u202f>]:\s", re.sub(r"<[^>]+>|https?://\S+", " ", page)) is None
    assert " »" not in page and "« " not in page


def test_the_print_layout_keeps_a_space_before_a_printed_address() -> None:
    css = (ROOT / "bot" / "web" / "static" / "lumi.css").read_text()
    assert re.search(r"\.print-url \{ display: inline; margin-left: [0-9.]+em;", css)


def test_the_chart_library_is_vendored_with_its_licence_version_and_checksum() -> None:
    notes = (CHART_DIR / "VENDOR.md").read_text()
    bundle = (CHART_DIR / "chart.umd.min.js").read_bytes()
    version = re.search(r"\| version \| ([0-9.]+) \|", notes).group(1)
    assert bundle.startswith(f"/*!\n * Chart.js v{version}\n".encode())
    assert hashlib.sha256(bundle).hexdigest() in notes
    assert "MIT License" in (CHART_DIR / "LICENSE.md").read_text()
    # served from the site, never a CDN
    for path in (ROOT / "bot" / "web" / "templates").rglob("*.html"):
        assert "cdn" not in path.read_text().lower(), path


def test_charts_get_counts_only(teacher, store) -> None:
    code = code_of(new_session(teacher))
    _play(store, code, "pupilCHART01", _with_step_ids(MARKS_SAFE), 100)
    data = teacher.get(f"/teacher/class/{code}/data.json").json()
    story = next(s for s in data["steps"] if s["id"] == "skin_gift")
    gift = next(s for s in story["steps"] if s["id"] == "gift")
    assert gift["safe"] == {"count": None, "few": True}
    assert gift["risky"] == {"count": 0, "few": False}
    assert set(gift) == {"id", "kind", "label", "safe", "risky"}


def test_vendor_dir_is_served(anon) -> None:
    response = anon.get("/static/vendor/chartjs/chart.umd.min.js")
    assert response.status_code == 200
    assert Path(CHART_DIR / "chart.umd.min.js").stat().st_size == len(response.content)
