"""The teachers' side of the web app (Starlette TestClient, SQLite, no Rasa): first-run
account, sign-in and its limits, CSRF, sessions of one's own only, class codes and
pseudonyms, the dashboard's counts, the lesson plan, the QR code, projector votes."""

from __future__ import annotations

import json
import os
import re
import stat
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from argon2 import PasswordHasher
from markupsafe import escape
from starlette.testclient import TestClient

from bot import text as texts
from bot.storage import Store
from bot.storage.pseudonyms import ANIMALS, COLOURS, pick_pseudonym
from bot.stories.model import get_story
from bot.tactics import TACTICS
from bot.web import auth, lessons, typography
from bot.web.app import create_app

SECRET = "test-secret-" + "k" * 40
PASSWORD = "a long password 1"
MARKS_SAFE = [{"mark": "safe", "tactic": "bribe"}, {"mark": "safe", "tactic": "secrecy"}]
MARKS_RISKY = [{"mark": "risky", "tactic": "bribe"}, {"mark": "safe", "tactic": "secrecy"}]
CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture(autouse=True)
def quick_hashes(monkeypatch: pytest.MonkeyPatch) -> None:
    """argon2 with small costs: the same code paths, a hundred times faster."""
    monkeypatch.setattr(
        Store, "_hasher", lambda self: PasswordHasher(time_cost=1, memory_cost=256, parallelism=1)
    )


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    s = Store(f"sqlite:///{tmp_path / 'lumi.db'}")
    yield s
    s.dispose()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def app(store: Store, clock: FakeClock) -> Any:
    application = create_app("http://rasa.invalid:5005", store=store, secret_key=SECRET)
    application.state.teacher.limiter = auth.LoginLimiter(clock=clock)
    return application


def client_for(app: Any) -> TestClient:
    return TestClient(app, follow_redirects=False)


@pytest.fixture
def anon(app: Any) -> TestClient:
    return client_for(app)


@pytest.fixture
def local(app: Any) -> TestClient:
    """A browser on the machine Lumi runs on (the first-run page needs no setup code)."""
    return TestClient(
        app, follow_redirects=False, base_url="http://localhost:8080", client=("127.0.0.1", 50000)
    )


def csrf(client: TestClient, url: str = "/teacher/login") -> str:
    found = CSRF_RE.search(client.get(url).text)
    assert found, f"no CSRF token on {url}"
    return found.group(1)


def login(client: TestClient, username: str, password: str = PASSWORD, **extra: str) -> Any:
    token = csrf(client)
    return client.post(
        "/teacher/login",
        data={"csrf_token": token, "username": username, "password": password, **extra},
    )


@pytest.fixture
def teacher(app: Any, store: Store) -> TestClient:
    store.create_teacher("prof.a@school.test", PASSWORD)
    client = client_for(app)
    assert login(client, "prof.a@school.test").status_code == 303
    return client


@pytest.fixture
def other_teacher(app: Any, store: Store) -> TestClient:
    store.create_teacher("prof.b@school.test", PASSWORD)
    client = client_for(app)
    assert login(client, "prof.b@school.test").status_code == 303
    return client


def start_session(client: TestClient, language: str = "en", stories: tuple = ("skin_gift",)):
    token = csrf(client, "/teacher")
    response = client.post(
        "/teacher/class",
        data={"csrf_token": token, "language": language, "story": list(stories)},
    )
    assert response.status_code == 303, response.text[:500]
    return response.headers["location"].rsplit("/", 1)[1]


def join(client: TestClient, code: str, sender: str, lang: str = "en") -> Any:
    return client.post("/api/class/join", json={"sender": sender, "code": code, "lang": lang})


def html_of(key: str, lang: str, **params: Any) -> str:
    """A text as the pages write it: escaped, with the language's typography."""
    return str(escape(typography.fix(texts.t(key, lang, **params), lang)))


# ----------------------------------------------------------------- first-run page


def test_first_run_page_works_once(local: TestClient, store: Store) -> None:
    anon = local
    assert anon.get("/teacher").headers["location"] == "/teacher/setup"
    assert anon.get("/teacher/login").headers["location"] == "/teacher/setup"
    page = anon.get("/teacher/setup")
    assert page.status_code == 200
    assert html_of("teacher.setup.title", "en") in page.text
    token = CSRF_RE.search(page.text).group(1)
    created = anon.post(
        "/teacher/setup",
        data={
            "csrf_token": token,
            "username": "First.Teacher@School.test",
            "password": PASSWORD,
            "password_again": PASSWORD,
        },
    )
    assert created.status_code == 303 and created.headers["location"] == "/teacher"
    home = anon.get("/teacher")  # signed in straight away
    assert home.status_code == 200
    assert "first.teacher@school.test" in home.text
    assert store.teacher_count() == 1
    # afterwards the page is gone, for GET and POST, signed in or not
    assert anon.get("/teacher/setup").status_code == 404
    stranger = client_for(anon.app)
    assert stranger.get("/teacher/setup").status_code == 404
    token = csrf(stranger)
    again = stranger.post(
        "/teacher/setup",
        data={
            "csrf_token": token,
            "username": "intruder",
            "password": PASSWORD,
            "password_again": PASSWORD,
        },
    )
    assert again.status_code == 404
    assert store.teacher_count() == 1
    assert store.verify_teacher("intruder", PASSWORD) is None


@pytest.mark.parametrize(
    ("username", "password", "again", "key"),
    [
        ("ok.name", PASSWORD, "something else 1", "teacher.setup.mismatch"),
        ("ok.name", "short", "short", "teacher.setup.bad_password"),
        ("no spaces allowed", PASSWORD, PASSWORD, "teacher.setup.bad_username"),
    ],
)
def test_first_run_page_checks_its_fields(local, store, username, password, again, key) -> None:
    anon = local
    token = csrf(anon, "/teacher/setup")
    response = anon.post(
        "/teacher/setup",
        data={
            "csrf_token": token,
            "username": username,
            "password": password,
            "password_again": again,
        },
    )
    assert response.status_code == 400
    assert html_of(key, "en") in response.text
    assert store.teacher_count() == 0


def test_first_run_page_needs_the_csrf_token(anon: TestClient, store: Store) -> None:
    anon.get("/teacher/setup")
    response = anon.post(
        "/teacher/setup",
        data={"username": "x.y.z", "password": PASSWORD, "password_again": PASSWORD},
    )
    assert response.status_code == 403
    assert html_of("teacher.errors.csrf", "en") in response.text
    assert store.teacher_count() == 0


def test_cli_account_and_set_password(tmp_path: Path, monkeypatch, capsys) -> None:
    from bot.storage import cli

    url = f"sqlite:///{tmp_path / 'cli.db'}"
    monkeypatch.setenv("LUMI_TEACHER_PASSWORD", PASSWORD)
    assert cli.main(["--database-url", url, "create-teacher", "cli.teacher"]) == 0
    monkeypatch.setenv("LUMI_TEACHER_PASSWORD", "a brand new password")
    assert cli.main(["--database-url", url, "set-password", "cli.teacher"]) == 0
    assert cli.main(["--database-url", url, "set-password", "nobody.here"]) == 1
    out = capsys.readouterr()
    assert "password changed" in out.out and "no teacher" in out.err
    check = Store(url)
    try:
        assert check.verify_teacher("cli.teacher", "a brand new password") is not None
        assert check.verify_teacher("cli.teacher", PASSWORD) is None
    finally:
        check.dispose()


# ----------------------------------------------------------------- sign-in, sign-out


def test_login_sets_a_safe_cookie_and_logout_revokes_it(app, store, anon) -> None:
    store.create_teacher("prof.a@school.test", PASSWORD)
    response = login(anon, "Prof.A@School.test ")  # case and spaces do not matter
    assert response.status_code == 303 and response.headers["location"] == "/teacher"
    cookie = response.headers["set-cookie"]
    assert cookie.startswith(f"{auth.COOKIE}=")
    for flag in ("HttpOnly", "Path=/teacher", "SameSite=lax", "Max-Age=43200"):
        assert flag.lower() in cookie.lower(), flag
    assert PASSWORD not in cookie
    home = anon.get("/teacher")
    assert home.status_code == 200 and "prof.a@school.test" in home.text
    old_cookie = anon.cookies.get(auth.COOKIE)

    token = CSRF_RE.search(home.text).group(1)
    out = anon.post("/teacher/logout", data={"csrf_token": token})
    assert out.status_code == 303 and out.headers["location"] == "/teacher/login?out=1"
    assert anon.get("/teacher").headers["location"].startswith("/teacher/login")
    # the old cookie, replayed, no longer signs anyone in
    replay = client_for(app)
    replay.cookies.set(auth.COOKIE, old_cookie, path="/teacher")
    assert replay.get("/teacher").status_code == 303


def test_login_goes_back_to_the_page_asked_for_and_never_elsewhere(store, anon) -> None:
    store.create_teacher("prof.a@school.test", PASSWORD)
    asked = anon.get("/teacher/class/ABCDEF")
    assert asked.headers["location"] == "/teacher/login?next=%2Fteacher%2Fclass%2FABCDEF"
    response = login(anon, "prof.a@school.test", next="/teacher/class/ABCDEF")
    assert response.headers["location"] == "/teacher/class/ABCDEF"
    other = client_for(anon.app)
    response = login(other, "prof.a@school.test", next="https://evil.example/")
    assert response.headers["location"] == "/teacher"
    response = login(client_for(anon.app), "prof.a@school.test", next="/teacher//evil.example")
    assert response.headers["location"] == "/teacher"


def test_wrong_password(store, anon) -> None:
    store.create_teacher("prof.a@school.test", PASSWORD)
    response = login(anon, "prof.a@school.test", "not the password")
    assert response.status_code == 401
    assert html_of("teacher.login.wrong", "en") in response.text
    assert anon.get("/teacher").status_code == 303  # still signed out
    unknown = login(client_for(anon.app), "nobody@school.test", "not the password")
    assert unknown.status_code == 401
    assert html_of("teacher.login.wrong", "en") in unknown.text


def _error_text(response: Any) -> str:
    found = re.search(r'<p class="notice" role="alert" id="form-error">(.*?)</p>', response.text)
    assert found, response.text[:800]
    return found.group(1)


def test_ten_wrong_passwords_in_a_row_get_a_clear_safe_answer(store, anon, clock) -> None:
    store.create_teacher("prof.a@school.test", PASSWORD)
    statuses, messages = [], []
    for attempt in range(1, 11):
        response = login(anon, "prof.a@school.test", f"wrong password {attempt}")
        statuses.append(response.status_code)
        messages.append(_error_text(response))
        assert "Traceback" not in response.text
        clock.now += LOCKS.get(attempt, 0) + 1  # wait out each lock, then try again
    assert statuses == [401] * 4 + [429] * 6
    tenth = messages[-1]
    assert tenth == html_of(
        "teacher.login.locked", "en", wait=texts.t("teacher.login.wait_minutes", "en", n=15)
    )
    assert "prof.a" not in tenth  # the name is not repeated back
    # an unknown user name gets exactly the same answers (from a fresh limiter, as the
    # address above is locked now)
    anon.app.state.teacher.limiter = auth.LoginLimiter(clock=clock)
    other = client_for(anon.app)
    other_messages = []
    for attempt in range(1, 11):
        other_messages.append(_error_text(login(other, "nobody@school.test", "wrong")))
        clock.now += LOCKS.get(attempt, 0) + 1
    assert other_messages[-1] == tenth
    assert other_messages[:4] == messages[:4]


LOCKS = {5: 30, 6: 60, 7: 120, 8: 240, 9: 480, 10: 900}


def test_locked_sign_in_checks_no_password_and_opens_again_later(store, anon, clock) -> None:
    store.create_teacher("prof.a@school.test", PASSWORD)
    calls = []
    real_verify = store.verify_teacher

    def counting_verify(username: str, password: str) -> Any:
        calls.append(username)
        return real_verify(username, password)

    store.verify_teacher = counting_verify  # type: ignore[method-assign]
    for _ in range(5):
        login(anon, "prof.a@school.test", "wrong password")
    assert len(calls) == 5
    locked = login(anon, "prof.a@school.test", PASSWORD)  # even the right password waits
    assert locked.status_code == 429
    assert int(locked.headers["retry-after"]) >= 29
    assert len(calls) == 5
    clock.now += 31
    assert login(anon, "prof.a@school.test", PASSWORD).status_code == 303
    # a success clears the counter: the next mistake is a plain "wrong password"
    assert login(client_for(anon.app), "prof.a@school.test", "oops").status_code == 401


def test_sign_in_is_limited_per_address_too(store, anon, clock) -> None:
    store.create_teacher("prof.a@school.test", PASSWORD)
    for n in range(50):  # fifty different names from one address (a school shares one)
        login(anon, f"guess{n}@school.test", "wrong")
    response = login(anon, "prof.a@school.test", PASSWORD)
    assert response.status_code == 429


def test_limiter_schedule_and_memory_bound() -> None:
    assert [auth.LoginLimiter().lock_seconds(n) for n in range(1, 12)] == [
        0,
        0,
        0,
        0,
        30,
        60,
        120,
        240,
        480,
        900,
        900,
    ]
    clock = FakeClock()
    limiter = auth.LoginLimiter(clock=clock)
    limiter.MAX_KEYS = 50  # type: ignore[misc]
    for n in range(200):
        limiter.failure(f"user:{n}")
    assert len(limiter._entries) <= 50
    limiter.failure("user:x")
    clock.now += auth.LoginLimiter.FORGET_AFTER + 1
    assert limiter.wait("user:x") == 0
    assert "user:x" not in limiter._entries


# ----------------------------------------------------------------- CSRF and origin


def test_forged_posts_without_the_token_get_403(teacher: TestClient, store: Store) -> None:
    code = start_session(teacher)
    for url, data in (
        ("/teacher/class", {"language": "en", "story": "skin_gift"}),
        (f"/teacher/class/{code}/end", {}),
        (f"/teacher/class/{code}/projector", {"action": "start", "story": "skin_gift"}),
        ("/teacher/logout", {}),
    ):
        for token in (None, "forged-token", ""):
            body = dict(data) if token is None else {**data, "csrf_token": token}
            response = teacher.post(url, data=body)
            assert response.status_code == 403, url
            assert html_of("teacher.errors.csrf", "en") in response.text
    # nothing happened
    assert len(store.teacher_sessions(1)) == 1
    assert store.class_status(code) == "open"
    assert store.projector(code)["step_id"] is None
    assert teacher.get("/teacher").status_code == 200  # still signed in


def test_a_token_from_another_session_does_not_work(app, teacher, other_teacher, store) -> None:
    code = start_session(teacher)
    token_b = CSRF_RE.search(other_teacher.get("/teacher").text).group(1)
    response = teacher.post(f"/teacher/class/{code}/end", data={"csrf_token": token_b})
    assert response.status_code == 403
    assert store.class_status(code) == "open"


def test_cross_site_post_is_refused_even_with_a_token(teacher, store) -> None:
    code = start_session(teacher)
    token = csrf(teacher, "/teacher")
    response = teacher.post(
        f"/teacher/class/{code}/end",
        data={"csrf_token": token},
        headers={"Origin": "https://evil.example"},
    )
    assert response.status_code == 403
    assert store.class_status(code) == "open"
    response = teacher.post(
        f"/teacher/class/{code}/end",
        data={"csrf_token": token},
        headers={"Origin": "http://testserver"},
    )
    assert response.status_code == 303
    assert store.class_status(code) == "ended"


# ----------------------------------------------------------------- own sessions only


def test_a_teacher_sees_only_their_own_classes(teacher, other_teacher, anon, store) -> None:
    code = start_session(teacher, stories=("skin_gift", "meet_up"))
    assert teacher.get(f"/teacher/class/{code}").status_code == 200
    base = f"/teacher/class/{code}"
    for url in (base, base + "/plan", base + "/projector", base + "/qr.svg"):
        response = other_teacher.get(url)
        assert response.status_code == 404, url
        assert code not in other_teacher.get("/teacher").text
    assert other_teacher.get(base + "/data.json").status_code == 404
    assert other_teacher.get(base + "/projector.json").status_code == 404
    token = csrf(other_teacher, "/teacher")
    assert other_teacher.post(base + "/end", data={"csrf_token": token}).status_code == 404
    assert store.class_status(code) == "open"
    # an unknown code reads the same as somebody else's
    assert other_teacher.get("/teacher/class/ZZZZZZ").text.count(
        html_of("teacher.errors.not_found", "en")
    )
    # signed out: pages go to the sign-in page, JSON and the QR code say 401
    assert anon.get(base).status_code == 303
    assert anon.get(base + "/data.json").status_code == 401
    assert anon.get(base + "/qr.svg").status_code == 401


# ----------------------------------------------------------------- sessions and joining


def test_new_session_form_shows_stories_with_ages_and_tactics(teacher: TestClient) -> None:
    page = teacher.get("/teacher?lang=fr").text
    story = get_story("skin_gift")
    assert html_of("stories.skin_gift.title", "fr") in page
    assert html_of("teacher.home.ages", "fr", band=story.age_band) in page
    for tactic in story.tactics:
        assert html_of(f"tactics.{tactic}.name", "fr") in page
    assert page.count('name="story"') == len(lessons.known_story_ids()) == 15


def test_new_session_form_checks_its_fields(teacher: TestClient, store: Store) -> None:
    token = csrf(teacher, "/teacher")
    for data, key in (
        ({"language": "en"}, "teacher.errors.no_stories"),
        ({"language": "de", "story": "skin_gift"}, "teacher.errors.bad_language"),
        ({"language": "en", "story": "no_such_story"}, "teacher.errors.bad_stories"),
    ):
        response = teacher.post("/teacher/class", data={"csrf_token": token, **data})
        assert response.status_code == 400
        assert html_of(key, "en") in response.text
    assert store.teacher_sessions(1) == []


def test_joining_with_a_wrong_or_ended_code_gets_a_clear_message(teacher, anon) -> None:
    code = start_session(teacher, language="fr")
    for lang in ("en", "fr"):
        unknown = join(anon, "ZZZ999", "childAAAA1111", lang)
        assert unknown.status_code == 404
        assert unknown.json()["error"] == texts.t("web.class.unknown", lang)
        bad = join(anon, "no!", "childAAAA1111", lang)
        assert bad.status_code == 400
        assert bad.json()["messages"][0]["text"] == texts.t("web.class.bad_code", lang)
    joined = join(anon, f" {code[:3].lower()}-{code[3:]} ", "childAAAA1111", "en")
    assert joined.status_code == 200
    data = joined.json()
    assert data["code"] == code and data["language"] == "fr"
    assert [s["id"] for s in data["stories"]] == ["skin_gift"]
    assert data["stories"][0]["title"] == texts.t("stories.skin_gift.title", "fr")
    assert data["stories"][0]["payload"] == '/start_story{"story_id":"skin_gift"}'
    again = join(anon, code, "childAAAA1111")
    assert again.json()["pseudonym"] == data["pseudonym"]  # same device, same class name

    token = csrf(teacher, "/teacher")
    assert teacher.post(f"/teacher/class/{code}/end", data={"csrf_token": token}).status_code == 303
    for lang in ("en", "fr"):
        ended = join(anon, code, "childBBBB1111", lang)
        assert ended.status_code == 410
        assert ended.json()["error"] == texts.t("web.class.ended", lang)
    # the teacher still has the results, marked as ended
    page = teacher.get(f"/teacher/class/{code}")
    assert page.status_code == 200
    assert html_of("teacher.dashboard.status_ended", "en") in page.text
    assert 'id="end-session"' not in page.text


def test_join_needs_a_learner_id_and_limits_wrong_codes(app, teacher, anon) -> None:
    assert anon.post("/api/class/join", json={"code": "ABCDEF"}).status_code == 400
    assert anon.post("/api/class/join", content=b"not json").status_code == 400
    app.state.join_limiter.FREE_FAILURES = 3
    for _ in range(3):
        join(anon, "ZZZ999", "childAAAA1111")
    limited = join(anon, "ZZZ999", "childAAAA1111", "fr")
    assert limited.status_code == 429
    assert limited.json()["error"] == texts.t("web.class.too_many", "fr")


def test_chat_page_carries_a_valid_class_code_only(anon: TestClient) -> None:
    page = anon.get("/?class=abc234&lang=fr").text
    assert 'data-class-code="ABC234"' in page
    assert 'id="class-form"' in page and 'id="vote-panel"' in page
    page = anon.get('/?class="><script>alert(1)</script>').text
    assert 'data-class-code=""' in page and "<script>alert" not in page


# ----------------------------------------------------------------- pseudonyms


def test_pseudonyms_are_unique_in_a_session_and_kept_on_rejoin(teacher, anon, store) -> None:
    code = start_session(teacher)
    names = {join(anon, code, f"child{n:04d}xyz").json()["pseudonym"] for n in range(40)}
    assert len(names) == 40
    ids = store.class_dashboard(1, code)["pseudonyms"]
    assert len(set(ids)) == 40
    assert all(re.fullmatch(r"[a-z]+-[a-z]+", p) for p in ids)


def test_pseudonyms_past_every_pair_get_a_number() -> None:
    pairs = {f"{c}-{a}" for c in COLOURS for a in ANIMALS}
    extra = pick_pseudonym(pairs)
    assert extra.endswith("-2") and extra[:-2] in pairs
    assert lessons.pseudonym_label("blue-fox-2", "en") == "Blue Fox 2"


def test_pseudonyms_in_both_languages() -> None:
    assert lessons.pseudonym_label("blue-fox", "en") == "Blue Fox"
    assert lessons.pseudonym_label("blue-fox", "fr") == "Renard bleu"
    assert lessons.pseudonym_label("blue-turtle", "fr") == "Tortue bleue"
    assert lessons.pseudonym_label("silver-whale", "fr") == "Baleine argentée"
    for colour in COLOURS:
        for animal in ANIMALS:
            for lang in texts.LANGUAGES:
                label = lessons.pseudonym_label(f"{colour}-{animal}", lang)
                assert label and "%" not in label and "-" not in label
    for animal in ANIMALS:
        for lang in texts.LANGUAGES:
            assert texts.t(f"teacher.pseudonym.animals.{animal}.gender", lang) in ("m", "f")


# ----------------------------------------------------------------- the dashboard


ALLOWED_KEYS = {
    "code",
    "status",
    "language",
    "joined",
    "pseudonyms",
    "active",
    "count",
    "few",
    "stories",
    "id",
    "title",
    "started",
    "finished",
    "average_score",
    "tactics",
    "name",
    "spotted",
    "missed",
    "quiz",
    "learners",
    "right_percent",
    "bands",
    "high",
    "middle",
    "low",
    "by_tactic",
    # per-step counts (the steps chart): step ids, their labels, safe/risky counts
    "steps",
    "kind",
    "label",
    "safe",
    "risky",
    # a child's "I'd like to talk" (their class name and the time only)
    "alerts",
    "time",
}


def _walk(value: Any, keys: set[str], strings: list[str]) -> None:
    if isinstance(value, dict):
        for key, item in value.items():
            keys.add(key)
            _walk(item, keys, strings)
    elif isinstance(value, list):
        for item in value:
            _walk(item, keys, strings)
    elif isinstance(value, str):
        strings.append(value)
    else:
        assert value is None or isinstance(value, (int, bool)), value


def _play(store: Store, code: str, learner: str, marks: list, score: int, quiz: tuple = ()):
    store.join_class_as(code, learner)
    store.record_story_start(learner, "skin_gift")
    store.record_story_end(learner, "skin_gift", marks, score)
    for tactic, correct in quiz:
        store.record_quiz_answer(learner, tactic, correct)


def test_dashboard_json_has_counts_only_and_hides_ones_and_twos(teacher, store) -> None:
    code = start_session(teacher, stories=("skin_gift", "meet_up"))
    _play(store, code, "childAAAA1111", MARKS_SAFE, 100, (("bribe", True),))
    _play(store, code, "childBBBB1111", MARKS_RISKY, 50, (("bribe", False),))
    store.join_class_as(code, "childCCCC1111")  # joined, not playing
    data = teacher.get(f"/teacher/class/{code}/data.json").json()
    keys: set[str] = set()
    strings: list[str] = []
    _walk(data, keys, strings)
    assert keys <= ALLOWED_KEYS, keys - ALLOWED_KEYS
    assert not keys & {"text", "message", "messages", "reply", "body", "content", "learner_id"}
    titles = {texts.t(f"stories.{s}.title", "en") for s in ("skin_gift", "meet_up")}
    names = {texts.t(f"tactics.{x}.name", "en") for x in TACTICS}
    steps = set()
    for story_id in ("skin_gift", "meet_up"):
        story = get_story(story_id)
        for row in lessons.decision_rows(story, {}, "en"):
            steps |= {row["id"], row["label"], row["kind"]}
    allowed_strings = titles | names | steps | {code, "open", "en", "skin_gift", "meet_up"}
    allowed_strings |= set(TACTICS)
    pseudonyms = set(data["pseudonyms"])
    assert len(pseudonyms) == 3
    assert set(strings) - pseudonyms <= allowed_strings
    assert not any("childAAAA" in s for s in strings)

    assert data["joined"] == 3  # joining is seen by everyone in the room: exact
    assert data["active"] == {"count": None, "few": True}
    story = next(s for s in data["stories"] if s["id"] == "skin_gift")
    assert story["finished"] == {"count": None, "few": True}
    assert story["average_score"] is None  # one or two scores would be a child's own
    bribe = next(x for x in data["tactics"] if x["id"] == "bribe")
    assert bribe["spotted"]["few"] and bribe["missed"]["few"]
    assert data["quiz"]["right_percent"] is None

    _play(store, code, "childCCCC1111", MARKS_SAFE, 100, (("bribe", True),))
    data = teacher.get(f"/teacher/class/{code}/data.json").json()
    story = next(s for s in data["stories"] if s["id"] == "skin_gift")
    assert story["started"] == {"count": 3, "few": False}
    assert story["finished"] == {"count": 3, "few": False}
    assert story["average_score"] == 83
    secrecy = next(x for x in data["tactics"] if x["id"] == "secrecy")
    assert secrecy["spotted"] == {"count": 3, "few": False}
    assert secrecy["missed"] == {"count": 0, "few": False}
    assert data["quiz"]["learners"] == {"count": 3, "few": False}
    assert data["quiz"]["right_percent"] == 67
    meet_up = next(s for s in data["stories"] if s["id"] == "meet_up")
    assert meet_up["started"] == {"count": 0, "few": False}

    page = teacher.get(f"/teacher/class/{code}").text
    assert html_of("teacher.dashboard.privacy", "en") in page
    for name in pseudonyms:
        assert str(escape(name)) in page
    assert 'data-endpoint="/teacher/class/' + code + '/data.json"' in page


def test_dashboard_page_in_french(teacher, store) -> None:
    code = start_session(teacher)
    page = teacher.get(f"/teacher/class/{code}?lang=fr").text
    assert '<html lang="fr">' in page
    assert html_of("teacher.dashboard.tactics_title", "fr") in page
    assert html_of("stories.skin_gift.title", "fr") in page
    # the language is remembered for the next pages
    assert '<html lang="fr">' in teacher.get("/teacher").text


# ----------------------------------------------------------------- the lesson plan


def _plan_keys_without_params() -> list[str]:
    table = texts.read_locale_files()["en"]
    return [k for k in table if k.startswith("teacher.plan.") and "%{" not in str(table[k])]


@pytest.mark.parametrize("lang", ["en", "fr"])
def test_lesson_plan_in_both_languages(teacher, lang: str) -> None:
    stories = ("skin_gift", "scare_trick", "genuine_friend")  # the last one has no trick
    code = start_session(teacher, language="fr", stories=stories)
    page = teacher.get(f"/teacher/class/{code}/plan?lang={lang}&country=FR")
    assert page.status_code == 200
    html = page.text
    assert f'<html lang="{lang}">' in html
    missing = [key for key in _plan_keys_without_params() if html_of(key, lang) not in html]
    assert missing == []
    for story_id in stories:
        story = get_story(story_id)
        assert html_of(f"stories.{story_id}.title", lang) in html
        for step in story.steps.values():  # each co-play question is a discussion prompt
            assert html_of(f"stories.{story_id}.steps.{step.id}.coplay", lang) in html
        for tactic in story.tactics:
            assert html_of(f"tactics.{tactic}.todo", lang) in html
    assert "3018" in html  # France's helpline on the poster
    assert html.count(">5<") >= 3 and ">25<" in html and ">10<" in html and ">50<" in html
    assert 'class="poster"' in html and 'id="print-button"' in html
    # the plan's language is a choice for this page only
    assert '<html lang="en">' in teacher.get("/teacher").text


# The stories of issue 22: the recorded call, the live (and its 8-10 version), the group chat.
NEW_STORIES = ("recorded_call", "live_gifts", "live_coins", "group_chat")


@pytest.mark.parametrize("lang", ["en", "fr"])
def test_new_stories_can_be_picked_and_the_plan_prints_them(teacher, store, lang: str) -> None:
    page = teacher.get(f"/teacher?lang={lang}").text
    for story_id in NEW_STORIES:
        assert f'value="{story_id}"' in page
        assert html_of(f"stories.{story_id}.title", lang) in page
    code = start_session(teacher, language=lang, stories=NEW_STORIES)
    assert store.class_session(1, code)["story_ids"] == list(NEW_STORIES)
    html = teacher.get(f"/teacher/class/{code}/plan?lang={lang}").text
    for story_id in NEW_STORIES:
        story = get_story(story_id)
        assert f'data-story="{story_id}"' in html
        steps = lessons.story_card(story, lang)["steps"]
        assert html_of("teacher.plan.story_meta", lang, band=story.age_band, steps=steps) in html
        for step in story.steps.values():
            assert html_of(f"stories.{story_id}.steps.{step.id}.coplay", lang) in html
        for tactic in story.tactics:
            assert html_of(f"tactics.{tactic}.name", lang) in html
    # the order a teacher chose is the plan's order
    positions = [html.index(f'data-story="{s}"') for s in NEW_STORIES]
    assert positions == sorted(positions)
    # a story's note for the teacher (the sextortion story: the safeguarding lead)
    assert html_of("stories.recorded_call.teacher_note", lang) in html
    assert html.count('class="story-note"') == len(NEW_STORIES)


def test_a_story_without_a_teacher_note_prints_none(teacher) -> None:
    code = start_session(teacher, stories=("skin_gift",))
    html = teacher.get(f"/teacher/class/{code}/plan").text
    assert not texts.has("stories.skin_gift.teacher_note", "en")
    assert 'class="story-note"' not in html
    assert html_of("teacher.plan.story_note", "en") not in html


def test_lesson_plan_prints_without_the_page_tools() -> None:
    css = (Path(__file__).parents[2] / "bot/web/static/teacher.css").read_text()
    print_block = css[css.index("@media print") :]
    for selector in (".teacher-header", ".plan-tools", ".back"):
        assert selector in print_block
    assert "break-before: page" in print_block


# ----------------------------------------------------------------- QR code


def test_qr_route_returns_svg(teacher: TestClient) -> None:
    code = start_session(teacher, language="fr")
    response = teacher.get(f"/teacher/class/{code}/qr.svg")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("image/svg+xml")
    root = ET.fromstring(response.text)
    assert root.tag.endswith("svg")
    assert "<script" not in response.text and "style=" not in response.text
    assert response.headers["content-security-policy"]
    page = teacher.get(f"/teacher/class/{code}").text
    assert f'src="/teacher/class/{code}/qr.svg"' in page
    assert f"http://testserver/?class={code}&amp;lang=fr" in page


# ----------------------------------------------------------------- projector and votes


def _projector_post(client: TestClient, code: str, **data: str) -> Any:
    token = csrf(client, "/teacher")  # the session's token (an ended projector has no form)
    return client.post(f"/teacher/class/{code}/projector", data={"csrf_token": token, **data})


def _poll(client: TestClient, code: str, learner: str) -> dict[str, Any]:
    response = client.get(f"/api/class/poll?code={code}&learner={learner}")
    assert response.status_code == 200, response.text
    return response.json()


def _vote(client: TestClient, code: str, learner: str, round_: int, choice: str) -> Any:
    return client.post(
        "/api/class/vote",
        json={"sender": learner, "code": code, "round": round_, "choice": choice},
    )


def test_projector_votes_reveal_and_next_step(teacher, anon, store) -> None:
    code = start_session(teacher, language="en", stories=("skin_gift",))
    kids = [f"kid{n:04d}abcdef" for n in range(4)]
    for kid in kids:
        join(anon, code, kid)
    assert _poll(anon, code, kids[0])["showing"] is False
    page = teacher.get(f"/teacher/class/{code}/projector").text
    title = texts.t("stories.skin_gift.title", "en")
    assert html_of("teacher.projector.play", "en", title=title) in page
    assert f'src="/teacher/class/{code}/qr.svg"' in page

    assert _projector_post(teacher, code, action="start", story="skin_gift").status_code == 303
    poll = _poll(anon, code, kids[0])
    assert poll["active"] and poll["question"] == texts.t("story_ui.question", "en", name="Leo")
    assert [c["id"] for c in poll["choices"]] == ["no_thanks", "show_mum", "take_gems"]
    assert "votes" not in json.dumps(poll)  # children never see the counts
    round_ = poll["round"]
    assert _vote(anon, code, kids[0], round_, "take_gems").status_code == 200
    assert _vote(anon, code, kids[0], round_, "no_thanks").status_code == 200  # changed mind
    for kid in kids[1:3]:
        assert _vote(anon, code, kid, round_, "no_thanks").status_code == 200
    assert _vote(anon, code, kids[3], round_, "show_mum").status_code == 200
    assert _poll(anon, code, kids[0])["voted"] == "no_thanks"
    assert store.vote_counts(1, code, round_) == {"no_thanks": 3, "show_mum": 1}

    counts = teacher.get(f"/teacher/class/{code}/projector.json").json()
    by_choice = {c["id"]: c for c in counts["choices"]}
    assert by_choice["no_thanks"]["votes"] == {"count": 3, "few": False}
    assert by_choice["show_mum"]["votes"] == {"count": None, "few": True}
    assert by_choice["show_mum"]["label"] == texts.t("teacher.dashboard.few", "en")
    assert counts["total_label"] == texts.t("teacher.projector.votes_total", "en", n=4)

    # a stranger cannot vote; a wrong choice or round is refused
    assert _vote(anon, code, "strangerXYZ123", round_, "no_thanks").status_code == 403
    assert _vote(anon, code, kids[0], round_, "not_a_choice").status_code == 409
    assert _vote(anon, code, kids[0], round_ + 5, "no_thanks").status_code == 409

    assert _projector_post(teacher, code, action="reveal").status_code == 303
    revealed = teacher.get(f"/teacher/class/{code}/projector").text
    assert html_of("stories.skin_gift.steps.gift.choices.take_gems.feedback", "en") in revealed
    assert html_of("teacher.projector.safe", "en") in revealed
    assert html_of("stories.skin_gift.steps.gift.coplay", "en") in revealed
    assert _vote(anon, code, kids[1], round_, "show_mum").status_code == 409  # votes closed
    assert _poll(anon, code, kids[0])["active"] is False

    assert _projector_post(teacher, code, action="next", choice="majority").status_code == 303
    state = store.projector(code)
    assert state["step_id"] == "school" and state["round"] == round_ + 1  # no_thanks -> school
    # the teacher may move on without revealing (their choice of the next step)
    assert _projector_post(teacher, code, action="next", choice="tell_dad").status_code == 303
    state = store.projector(code)
    assert state["step_id"] == "grown_up" and state["round"] == round_ + 2
    assert _projector_post(teacher, code, action="stop").status_code == 303
    assert store.projector(code)["step_id"] is None


@pytest.mark.parametrize("story_id", ["skin_gift", "recorded_call"])
def test_projector_walks_a_story_to_its_end(teacher, store, story_id) -> None:
    code = start_session(teacher, language="fr", stories=(story_id,))
    _projector_post(teacher, code, action="start", story=story_id)
    for _ in range(12):
        state = store.projector(code)
        story = get_story(state["story_id"])
        step = story.step(state["step_id"])
        page = teacher.get(f"/teacher/class/{code}/projector")
        assert page.status_code == 200
        assert html_of(f"stories.{story_id}.steps.{step.id}.text", "fr") in page.text
        if step.kind == "end":
            assert html_of(f"stories.{story_id}.recap", "fr") in page.text
            # what works against the threats, shown with the recap (only some stories have it)
            works = f"stories.{story_id}.what_works"
            assert (texts.has(works, "fr") and html_of(works, "fr") in page.text) == (
                story_id == "recorded_call"
            )
            break
        _projector_post(teacher, code, action="reveal")
        choice = step.choices[0].id if step.choices else ""
        _projector_post(teacher, code, action="next", choice=choice)
    else:
        raise AssertionError("the projector never reached the end")
    _projector_post(teacher, code, action="stop")
    assert store.projector(code)["story_id"] is None


def test_projector_on_an_ended_session(teacher, store) -> None:
    code = start_session(teacher)
    token = csrf(teacher, "/teacher")
    teacher.post(f"/teacher/class/{code}/end", data={"csrf_token": token})
    response = _projector_post(teacher, code, action="start", story="skin_gift")
    assert response.status_code == 409
    assert html_of("teacher.errors.ended", "en") in response.text
    assert store.projector(code)["step_id"] is None


# ----------------------------------------------------------------- pages, words, headers


def _teacher_pages(client: TestClient, code: str) -> list[str]:
    base = f"/teacher/class/{code}"
    return [
        "/teacher",
        "/teacher?lang=fr",
        base,
        base + "/plan",
        base + "/plan?lang=fr&country=BE",
        base + "/projector",
        "/teacher/class/ZZZZZZ",
        "/teacher/nope",
    ]


def test_teacher_pages_have_no_inline_script_or_style(teacher, anon, store) -> None:
    store.create_teacher("x.y.z", PASSWORD)
    code = start_session(teacher)
    _projector_post(teacher, code, action="start", story="skin_gift")
    urls = _teacher_pages(teacher, code)
    pages = [teacher.get(u) for u in urls] + [anon.get("/teacher/login")]
    for response in pages:
        html = response.text
        assert "unsafe-inline" not in response.headers["content-security-policy"]
        assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html), "inline script"
        assert "<style" not in html, "inline style element"
        assert not re.search(r"\sstyle=", html), "inline style attribute"
        assert not re.search(r"\son[a-z]+\s*=", html), "inline event handler"
        assert response.headers["cache-control"] == "no-store"
    assert teacher.get("/teacher/nope").status_code == 404


def test_teacher_templates_and_script_use_existing_keys() -> None:
    from bot.web.app import STATIC_DIR, TEMPLATES_DIR

    used = set()
    for path in (TEMPLATES_DIR / "teacher").glob("*.html"):
        used |= set(re.findall(r"t\('((?:teacher|web)\.[a-z_.]*[a-z_])'\s*[,)]", path.read_text()))
    assert len(used) > 100
    for key in used:
        for lang in texts.LANGUAGES:
            assert texts.has(key, lang), f"{key} missing in {lang}"
    script = (STATIC_DIR / "chat.js").read_text()
    for key in re.findall(r"""tr\("([a-z_]+\.[a-z_]+)""", script):
        for lang in texts.LANGUAGES:
            assert texts.has(f"web.{key}", lang), key


def test_teacher_locales_parity() -> None:
    table = texts.read_locale_files()
    en = {k for k in table["en"] if k.startswith("teacher.")}
    fr = {k for k in table["fr"] if k.startswith("teacher.")}
    assert en and en == fr


def test_database_down_gives_a_clear_page(tmp_path: Path) -> None:
    down = Store("postgresql+psycopg2://lumi:x@127.0.0.1:9/lumi", auto_migrate=False)
    client = client_for(create_app("http://rasa.invalid", store=down, secret_key=SECRET))
    response = client.get("/teacher/login")
    assert response.status_code == 503
    assert html_of("teacher.errors.unavailable", "en") in response.text
    assert "Traceback" not in response.text and "psycopg2" not in response.text
    joined = client.post("/api/class/join", json={"sender": "childAAAA1111", "code": "ABCDEF"})
    assert joined.status_code == 503
    assert joined.json()["error"] == texts.t("web.class.unavailable", "en")


# ----------------------------------------------------------------- the secret key


def test_secret_key_from_env_or_a_private_file(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.delenv(auth.SECRET_ENV, raising=False)
    key = auth.secret_key(tmp_path)
    path = tmp_path / auth.SECRET_FILE
    assert path.is_file() and len(key) >= 32
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert auth.secret_key(tmp_path) == key  # kept
    os.chmod(path, 0o644)
    assert auth.secret_key(tmp_path) == key
    assert stat.S_IMODE(path.stat().st_mode) == 0o600  # tightened again
    monkeypatch.setenv(auth.SECRET_ENV, "e" * 40)
    assert auth.secret_key(tmp_path) == "e" * 40
    monkeypatch.setenv(auth.SECRET_ENV, "too-short")
    with pytest.raises(auth.SecretKeyError):
        auth.secret_key(tmp_path)


def test_app_reads_the_key_file_lazily(tmp_path: Path, monkeypatch, store) -> None:
    monkeypatch.delenv(auth.SECRET_ENV, raising=False)
    monkeypatch.setenv("LUMI_VAR_DIR", str(tmp_path / "var"))
    application = create_app("http://rasa.invalid", store=store)
    client = client_for(application)
    assert client.get("/healthz").status_code == 200
    assert not (tmp_path / "var" / auth.SECRET_FILE).exists()
    client.get("/teacher/login")
    assert (tmp_path / "var" / auth.SECRET_FILE).exists()


def test_cookies_signed_with_another_key_are_ignored(app, store, teacher) -> None:
    forged = auth.Sessions("another-secret-" + "z" * 40)
    cookie = forged.dump(auth.Sessions.new(teacher_id=1))
    intruder = client_for(app)
    intruder.cookies.set(auth.COOKIE, cookie, path="/teacher")
    assert intruder.get("/teacher").status_code == 303
    tampered = teacher.cookies.get(auth.COOKIE)[:-3] + "abc"
    intruder.cookies.set(auth.COOKIE, tampered, path="/teacher")
    assert intruder.get("/teacher").status_code == 303


# ----------------------------------------------------------------- story starts reach the store


def test_story_start_is_recorded_for_a_child_in_a_class(store: Store, monkeypatch) -> None:
    from bot import progress, storage
    from bot.conversation import Turn
    from bot.stories import start_story

    monkeypatch.setattr(storage, "_store", store)
    teacher_id = store.create_teacher("prof.z", PASSWORD)
    code = store.create_class_session(teacher_id, "en", ["skin_gift"])
    store.join_class_as(code, "childAAAA1111")
    turn = Turn(intent="start_story", slots={"learner_id": "childAAAA1111"})
    reply = start_story(turn, "skin_gift")
    assert {"kind": "story_start", "story_id": "skin_gift"} in reply.progress
    assert progress.save(turn, reply) == 1
    outside = Turn(intent="start_story", slots={"learner_id": "nobodyAAAA11"})
    assert progress.save(outside, start_story(outside, "skin_gift")) == 1  # nothing to keep
    assert store.class_dashboard(teacher_id, code)["stories"]["skin_gift"]["started"] == 1


def test_own_forms_with_origin_null_pass_only_from_the_same_site(teacher, store) -> None:
    """With Referrer-Policy no-referrer, browsers send ``Origin: null`` for form posts."""
    code = start_session(teacher)
    token = csrf(teacher, "/teacher")
    refused = teacher.post(
        f"/teacher/class/{code}/end",
        data={"csrf_token": token},
        headers={"Origin": "null", "Sec-Fetch-Site": "cross-site"},
    )
    assert refused.status_code == 403
    refused = teacher.post(
        f"/teacher/class/{code}/end", data={"csrf_token": token}, headers={"Origin": "null"}
    )
    assert refused.status_code == 403  # no Sec-Fetch-Site: not trusted
    assert store.class_status(code) == "open"
    allowed = teacher.post(
        f"/teacher/class/{code}/end",
        data={"csrf_token": token},
        headers={"Origin": "null", "Sec-Fetch-Site": "same-origin"},
    )
    assert allowed.status_code == 303
    assert store.class_status(code) == "ended"


def test_public_address_for_the_qr_code(teacher, monkeypatch) -> None:
    code = start_session(teacher)
    monkeypatch.setenv("LUMI_PUBLIC_URL", "https://lumi.school.example/")
    page = teacher.get(f"/teacher/class/{code}").text
    assert f"https://lumi.school.example/?class={code}&amp;lang=en" in page
