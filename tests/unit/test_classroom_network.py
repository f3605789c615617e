"""A class on the school Wi-Fi: the first-run page wants the setup code from
other devices, limits that a whole class behind one address does not trip,
while guessing one teacher's password is still slowed, plain-HTTP cookies, and
the pupils' address in the QR code when the teacher browses on localhost."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from argon2 import PasswordHasher
from starlette.testclient import TestClient

from bot.storage.store import Store
from bot.web import auth
from bot.web.app import create_app

SECRET = "k" * 40
PASSWORD = "a long password 1"
CODE = "ABCD-2345"
CSRF_RE = re.compile(r'name="csrf_token" value="([^"]+)"')
SCHOOL_NAT = ("10.20.30.40", 40000)  # every device of the school, seen from the laptop


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture(autouse=True)
def quick_hashes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(
        Store, "_hasher", lambda self: PasswordHasher(time_cost=1, memory_cost=256, parallelism=1)
    )


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    s = Store(f"sqlite:///{tmp_path / 'lumi.db'}")
    yield s
    s.dispose()


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def app(store: Store, clock: Clock) -> Any:
    application = create_app(
        "http://rasa.invalid:5005", store=store, secret_key=SECRET, setup_code=CODE
    )
    application.state.teacher.limiter = auth.LoginLimiter(clock=clock)
    application.state.join_limiter.__init__(clock=clock)  # type: ignore[misc]
    return application


def device(app: Any, address: tuple[str, int] = SCHOOL_NAT, https: bool = False) -> TestClient:
    base = ("https" if https else "http") + "://192.168.1.20:8080"
    return TestClient(app, follow_redirects=False, base_url=base, client=address)


def setup(client: TestClient, code: str | None, name: str = "prof.lan@school.test") -> Any:
    token = CSRF_RE.search(client.get("/teacher/setup").text).group(1)
    data = {"csrf_token": token, "username": name, "password": PASSWORD}
    data["password_again"] = PASSWORD
    if code is not None:
        data["setup_code"] = code
    return client.post("/teacher/setup", data=data)


def login(client: TestClient, name: str, password: str) -> Any:
    token = CSRF_RE.search(client.get("/teacher/login").text).group(1)
    return client.post(
        "/teacher/login", data={"csrf_token": token, "username": name, "password": password}
    )


# ----------------------------------------------------------------- the setup code


def test_from_another_device_the_first_run_page_needs_the_setup_code(app, store) -> None:
    pupil = device(app)
    page = pupil.get("/teacher/setup")
    assert page.status_code == 200 and 'name="setup_code"' in page.text
    assert setup(pupil, None).status_code == 403
    assert setup(pupil, "WXYZ-9999").status_code == 403
    assert store.teacher_count() == 0
    created = setup(device(app, ("10.20.30.41", 1)), "abcd 2345")  # case and spaces ignored
    assert created.status_code == 303 and store.teacher_count() == 1


def test_on_the_laptop_itself_no_code_is_asked(app, store) -> None:
    laptop = TestClient(
        app, follow_redirects=False, base_url="http://localhost:8080", client=("127.0.0.1", 1)
    )
    assert 'name="setup_code"' not in laptop.get("/teacher/setup").text
    assert setup(laptop, None).status_code == 303 and store.teacher_count() == 1


def test_a_local_proxy_does_not_count_as_the_laptop(app, store, monkeypatch) -> None:
    monkeypatch.setenv("LUMI_PUBLIC_URL", "https://lumi.school.example")
    proxied = TestClient(
        app, follow_redirects=False, base_url="http://localhost:8080", client=("127.0.0.1", 1)
    )
    assert setup(proxied, None).status_code == 403 and store.teacher_count() == 0
    proxied = TestClient(
        app, follow_redirects=False, base_url="http://lumi.school.example", client=("127.0.0.1", 1)
    )
    monkeypatch.delenv("LUMI_PUBLIC_URL")
    assert setup(proxied, None).status_code == 403 and store.teacher_count() == 0


def test_guessing_the_setup_code_is_slowed(app, store) -> None:
    pupil = device(app)
    statuses = [setup(pupil, f"WRNG-{n:04d}").status_code for n in range(7)]
    assert statuses[:5] == [403] * 5 and 429 in statuses[5:]
    assert setup(pupil, CODE).status_code == 429  # locked: not even the right one is checked
    assert store.teacher_count() == 0


def test_without_a_code_from_the_launcher_only_the_laptop_can_set_up(store) -> None:
    app = create_app("http://rasa.invalid:5005", store=store, secret_key=SECRET, setup_code="")
    response = setup(device(app), "")
    assert response.status_code == 403 and store.teacher_count() == 0
    assert "create-teacher" in response.text


# ----------------------------------------------------------------- one address, a whole class


def test_thirty_children_behind_one_address_with_typos_are_not_blocked(app, store) -> None:
    store.create_teacher("prof@school.test", PASSWORD)
    school = device(app)
    statuses = []
    for n in range(30):
        sender = f"childNumber{n:04d}"
        for wrong in ("ZZZ999", "YYY888"):  # two typos each: 60 wrong codes from one address
            statuses.append(
                school.post("/api/class/join", json={"sender": sender, "code": wrong}).status_code
            )
    assert 429 not in statuses and set(statuses) == {404}


def test_one_child_guessing_codes_is_slowed(app) -> None:
    school = device(app)
    statuses = [
        school.post("/api/class/join", json={"sender": "guesser0001", "code": f"ZZZ{n:03d}"})
        for n in range(12)
    ]
    assert 429 in [r.status_code for r in statuses[10:]]
    other = school.post("/api/class/join", json={"sender": "childOther01", "code": "ZZZ999"})
    assert other.status_code == 404  # the rest of the class is not


def test_twenty_wrong_passwords_for_one_account_are_slowed(app, store, clock) -> None:
    store.create_teacher("prof@school.test", PASSWORD)
    attacker = device(app)
    statuses = [login(attacker, "prof@school.test", f"guess {n}").status_code for n in range(20)]
    assert statuses[:4] == [401] * 4
    assert statuses.count(429) >= 16  # the fifth failure locks, and every try after it
    # locked tries are not even checked; each failure after a lock doubles it
    clock.now += 31
    assert login(attacker, "prof@school.test", "guess again").status_code == 429  # now 60 s
    clock.now += 31
    assert login(attacker, "prof@school.test", PASSWORD).status_code == 429  # still waiting
    clock.now += 30
    assert login(attacker, "prof@school.test", PASSWORD).status_code == 303


def test_colleagues_behind_the_same_address_can_still_sign_in(app, store) -> None:
    store.create_teacher("prof@school.test", PASSWORD)
    store.create_teacher("colleague@school.test", PASSWORD)
    attacker = device(app)
    for n in range(20):
        login(attacker, "prof@school.test", f"guess {n}")
    colleague = device(app)  # another laptop of the same school (same address)
    assert login(colleague, "colleague@school.test", PASSWORD).status_code == 303


def test_one_address_trying_many_accounts_is_slowed_too(app, store) -> None:
    store.create_teacher("prof@school.test", PASSWORD)
    attacker = device(app)
    statuses = [login(attacker, f"user{n}@x.test", "guess one").status_code for n in range(55)]
    assert statuses[:49] == [401] * 49 and 429 in statuses[49:]


# ----------------------------------------------------------------- plain HTTP


def test_cookies_over_plain_http_are_not_secure_and_over_https_are(app, store) -> None:
    store.create_teacher("prof@school.test", PASSWORD)
    plain = login(device(app), "prof@school.test", PASSWORD)
    assert plain.status_code == 303
    cookie = plain.headers["set-cookie"]
    assert "httponly" in cookie.lower() and "samesite=lax" in cookie.lower()
    assert "secure" not in cookie.lower()
    secure = login(device(app, https=True), "prof@school.test", PASSWORD)
    assert "secure" in secure.headers["set-cookie"].lower()


def test_forms_over_plain_http_carry_their_origin(app, store) -> None:
    """Browsers send no Sec-Fetch-Site to a plain-HTTP address: the check rests on
    Origin, which Referrer-Policy same-origin keeps real (not "null")."""
    store.create_teacher("prof@school.test", PASSWORD)
    page = device(app).get("/teacher/login")
    assert page.headers["referrer-policy"] == "same-origin"
    assert '<meta name="referrer" content="same-origin">' in page.text


# ----------------------------------------------------------------- the pupils' address


def test_the_qr_code_holds_the_lan_address_when_the_teacher_is_on_localhost(
    app, store, monkeypatch
) -> None:
    from bot.web import teacher

    monkeypatch.setenv("LUMI_LAN_URL", "http://192.168.1.20:8080")
    monkeypatch.delenv("LUMI_PUBLIC_URL", raising=False)

    class Req:
        def __init__(self, base: str) -> None:
            from starlette.datastructures import URL

            self.url = URL(base + "/teacher/class/ABC234")
            self.base_url = URL(base + "/")

    assert teacher.join_url(Req("http://localhost:8080"), "ABC234", "fr") == (
        "http://192.168.1.20:8080/?class=ABC234&lang=fr"
    )
    assert teacher.join_url(Req("http://127.0.0.1:8080"), "ABC234", "fr").startswith(
        "http://192.168.1.20:8080/"
    )
    # a teacher who opened the LAN address keeps it; a proxy's public URL wins
    assert teacher.join_url(Req("http://10.0.0.9:8080"), "ABC234", "en").startswith(
        "http://10.0.0.9:8080/"
    )
    monkeypatch.setenv("LUMI_PUBLIC_URL", "https://lumi.school.example")
    assert teacher.join_url(Req("http://localhost:8080"), "X", "en").startswith(
        "https://lumi.school.example/"
    )
