"""A class of tablets on the school Wi-Fi (issue 23), from a second machine.

The launcher runs as ``make class`` starts it; a network namespace plays the
pupils' tablets and the teacher's own device: it reaches the laptop only at
its address on that network (``tests.netns``). Runs before the fault tests
(same launcher).
"""

from __future__ import annotations

import json
import re
import textwrap
from typing import Any

import pytest
import requests

from bot import text as texts

PASSWORD = "a long password for the class"
TEACHER = "prof.wifi@school.test"
STORY = "skin_gift"


@pytest.fixture(scope="module")
def lan(launchers, results):
    if launchers.netns is None:
        pytest.skip(f"no network namespace: {launchers.netns_error}")
    main = launchers.main
    banner = main.output.read_text(errors="replace")
    pupils = re.search(r"Pupils open:\s+(http://\S+?)/?\s", banner)
    code = re.search(r"setup code ([A-Z0-9]{4}-[A-Z0-9]{4})", banner)
    assert pupils and code, banner[:2000]
    info = {
        "netns": launchers.netns,
        "pupils_url": pupils.group(1),
        "setup_code": code.group(1),
        "laptop": f"http://{launchers.netns.host_address}",
    }
    results.setdefault("classroom", {})["pupils_url_printed"] = info["pupils_url"]
    return info


def from_tablet(lan: dict[str, Any], code: str) -> Any:
    """Run ``code`` on the tablet (in the namespace); it prints one JSON value."""
    done = lan["netns"].python(textwrap.dedent(code))
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_the_launcher_prints_the_pupils_address_on_the_network(launchers, lan):
    assert lan["pupils_url"] == f"{lan['laptop']}:{launchers.main.ports['web']}"


def test_from_the_network_only_the_web_app_answers(launchers, lan, results):
    ports = launchers.main.ports
    found = from_tablet(
        lan,
        f"""
        import json, socket, urllib.request
        def reachable(port):
            try:
                socket.create_connection(("{launchers.netns.host_address}", port), 3).close()
                return True
            except OSError:
                return False
        page = urllib.request.urlopen("{lan["pupils_url"]}/?lang=fr", timeout=30)
        print(json.dumps({{
            "web": reachable({ports["web"]}), "rasa": reachable({ports["rasa"]}),
            "actions": reachable({ports["actions"]}), "page_status": page.status,
        }}))
        """,
    )
    results["classroom"]["reachable_from_the_network"] = found
    assert found == {"web": True, "rasa": False, "actions": False, "page_status": 200}


def test_from_the_network_the_first_run_page_creates_nothing_without_the_code(lan, results):
    found = from_tablet(
        lan,
        f"""
        import json, re, requests
        s = requests.Session()
        url = "{lan["pupils_url"]}/teacher/setup"
        statuses = []
        for code in (None, "AAAA-BBBB"):
            token = re.search(r'name="csrf_token" value="([^"]+)"', s.get(url).text).group(1)
            data = {{"csrf_token": token, "username": "pupil.was.here", "password": "x" * 12,
                     "password_again": "x" * 12}}
            if code:
                data["setup_code"] = code
            statuses.append(s.post(url, data=data, allow_redirects=False).status_code)
        print(json.dumps({{"statuses": statuses, "still_open": s.get(url).status_code}}))
        """,
    )
    results["classroom"]["setup_without_code"] = found
    assert found == {"statuses": [403, 403], "still_open": 200}  # no account was made


def test_teacher_and_pupil_in_a_browser_on_the_network(launchers, lan, results, tmp_path):
    from playwright.sync_api import sync_playwright

    wrapper = lan["netns"].browser_wrapper(tmp_path)
    base = lan["pupils_url"]
    seen: dict[str, Any] = {}
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(wrapper),
            headless=True,
            args=["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-sync"],
        )
        try:
            teacher = browser.new_context(base_url=base, locale="en-GB").new_page()
            # first run, from the teacher's own tablet: the code the launcher printed
            teacher.goto("/teacher/setup")
            teacher.fill("#setup_code", lan["setup_code"].lower())
            teacher.fill("#username", TEACHER)
            teacher.fill("#password", PASSWORD)
            teacher.fill("#password_again", PASSWORD)
            teacher.click("button[type=submit]")
            teacher.wait_for_url(re.compile(r".*/teacher$"))
            seen["secure_context"] = teacher.evaluate("() => window.isSecureContext")
            # a class session (a POST with its CSRF token, over plain HTTP)
            teacher.check(f"#story-{STORY}")
            teacher.check('input[name="language"][value="en"]')
            teacher.click("#start-session")
            teacher.wait_for_url(re.compile(r".*/teacher/class/[A-Z0-9]{6}$"))
            code = teacher.locator("#class-code").inner_text().strip()
            join = teacher.locator(".join-url").inner_text()
            url = re.search(r"https?://\S+", join).group(0)
            seen["join_url"] = url
            assert url == f"{base}/?class={code}&lang=en"
            assert teacher.locator("img.qr").evaluate("i => i.complete && i.naturalWidth > 0")
            results["classroom"]["class_code"] = code

            # a pupil scans the QR code: its address, on a tablet
            pupil = browser.new_context(locale="en-GB").new_page()
            pupil.goto(url)
            pupil.wait_for_function(
                "() => document.querySelectorAll('#class-stories button').length > 0"
            )
            status = pupil.locator("#class-status").inner_text()
            assert code in status
            before = pupil.locator("#log .msg-bot").count()
            pupil.locator("#class-stories button").first.click()
            pupil.wait_for_function(
                "n => document.querySelectorAll('#log .msg-bot').length > n", arg=before
            )
            pupil.wait_for_selector("#choices button.choice")
            pupil.wait_for_timeout(400)
            before = pupil.locator("#log .msg-bot").count()
            pupil.locator("#choices button.choice").first.click()
            pupil.wait_for_function(
                "n => document.querySelectorAll('#log .msg-bot').length > n", arg=before
            )
            seen["pupil_turns"] = pupil.locator("#log .msg-bot").count()
            assert not pupil.locator("#log .msg-error").count()
            # read-aloud is there (speechSynthesis needs no secure origin)
            seen["read_aloud_available"] = pupil.evaluate("() => 'speechSynthesis' in window")
            pupil.click("#quick-exit")
            pupil.wait_for_url(re.compile(r".*/weather"))
            seen["quick_exit"] = pupil.url.split("?")[0].removeprefix(base)
            seen["after_exit_log"] = pupil.evaluate(
                "() => [localStorage.getItem('lumi.log'), sessionStorage.getItem('lumi.log')]"
            )

            # the teacher signs out and in again over plain HTTP
            teacher.click("#logout")
            teacher.wait_for_url(re.compile(r".*/teacher/login.*"))
            teacher.fill("#username", TEACHER)
            teacher.fill("#password", PASSWORD)
            teacher.click("#sign-in")
            teacher.wait_for_url(re.compile(r".*/teacher$"))
            seen["teacher_signed_in_again"] = True
        finally:
            browser.close()
    results["classroom"]["browser"] = seen
    assert seen["quick_exit"] == "/weather"
    assert seen["after_exit_log"] == [None, None]
    assert seen["secure_context"] is False  # plain HTTP on a LAN: nothing needed one


def test_the_laptops_own_browser_gets_the_lan_address_in_the_qr_code(launchers, lan, results):
    web = f"http://localhost:{launchers.main.ports['web']}"
    session = requests.Session()
    token = re.search(
        r'name="csrf_token" value="([^"]+)"', session.get(web + "/teacher/login").text
    ).group(1)
    done = session.post(
        web + "/teacher/login",
        data={"csrf_token": token, "username": TEACHER, "password": PASSWORD},
        allow_redirects=False,
    )
    assert done.status_code == 303
    code = results["classroom"]["class_code"]
    page = session.get(f"{web}/teacher/class/{code}").text
    expected = f"{lan['pupils_url']}/?class={code}&amp;lang=en"
    results["classroom"]["qr_url_from_localhost"] = expected.replace("&amp;", "&")
    assert expected in page


def test_thirty_pupils_behind_one_address_join_and_play_without_a_429(lan, results):
    code = results["classroom"]["class_code"]
    found = from_tablet(
        lan,
        f"""
        import json, threading, time, requests
        base, code = "{lan["pupils_url"]}", "{code}"
        statuses, lock = [], threading.Lock()
        def pupil(n):
            sender = f"tablet{{n:02d}}pupil{{time.time_ns() % 100000}}"
            s = requests.Session()
            def record(r):
                with lock:
                    statuses.append(r.status_code)
                return r
            joined = record(s.post(base + "/api/class/join",
                                   json={{"sender": sender, "code": code, "lang": "en"}},
                                   timeout=60))
            if n % 5 == 0:  # some mistype the code first
                record(s.post(base + "/api/class/join",
                              json={{"sender": sender, "code": "ZZZZZZ"}}, timeout=60))
            meta = {{"language": "en", "country": "GB", "class_code": code}}
            reply = record(s.post(base + "/api/message", json={{"sender": sender,
                "message": '/start_story{{"story_id":"{STORY}"}}', "metadata": meta}},
                timeout=60)).json()
            for _ in range(3):
                time.sleep(0.7)
                buttons = [b["payload"] for m in reply if isinstance(m, dict)
                           for b in m.get("buttons") or []]
                if not buttons:
                    break
                reply = record(s.post(base + "/api/message", json={{"sender": sender,
                    "message": buttons[0], "metadata": meta}}, timeout=60)).json()
        threads = [threading.Thread(target=pupil, args=(n,)) for n in range(30)]
        for t in threads:
            t.start()
            time.sleep(0.1)
        for t in threads:
            t.join(120)
        counts = {{}}
        for s in statuses:
            counts[str(s)] = counts.get(str(s), 0) + 1
        print(json.dumps(counts))
        """,
    )
    results["classroom"]["thirty_pupils_statuses"] = found
    assert "429" not in found
    assert found.get("200", 0) >= 30 * 3  # joined and played
    assert set(found) <= {"200", "404"}  # 404: the mistyped codes


def test_twenty_wrong_passwords_from_the_network_are_slowed(lan, results):
    found = from_tablet(
        lan,
        f"""
        import json, re, requests
        s = requests.Session()
        url = "{lan["pupils_url"]}/teacher/login"
        statuses = []
        for n in range(20):
            token = re.search(r'name="csrf_token" value="([^"]+)"', s.get(url).text).group(1)
            statuses.append(s.post(url, data={{"csrf_token": token, "username": "{TEACHER}",
                "password": f"guess number {{n}}"}}, allow_redirects=False).status_code)
        print(json.dumps(statuses))
        """,
    )
    results["classroom"]["twenty_wrong_passwords"] = found
    assert found[:4] == [401] * 4
    assert found.count(429) >= 16
    locked = texts.t("teacher.login.locked", "en", wait="X").split("X")[0]
    assert locked  # the page says why (tests/unit/test_classroom_network.py checks the text)
