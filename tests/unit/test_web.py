"""The web app without Rasa: pages, headers, the proxy (against a fake Rasa), the APIs."""

from __future__ import annotations

import json
import re
from typing import Any

import httpx
import pytest
from markupsafe import escape
from starlette.testclient import TestClient

from bot import helplines
from bot import text as texts
from bot.web import security, typography, views
from bot.web.app import MAX_MESSAGE_CHARS, create_app

SENDER = "abcDEF123_-xyz"


def html_of(key: str, lang: str, **params: Any) -> str:
    """A locale text as the escaped HTML of a page shows it (with its typography)."""
    return str(escape(typography.fix(texts.t(key, lang, **params), lang)))


XSS = "<img src=x onerror=alert(1)>"
PAGES = [
    "/",
    "/?lang=fr",
    "/?coplay=1",
    "/parents",
    "/parents?lang=fr&country=FR",
    "/print",
    f"/print?learner={SENDER}&country=GB",
    "/print?learner=bad!",
    "/weather",
    "/weather?lang=fr",
    "/does-not-exist",
    f"/certificate?learner={SENDER}",
    "/certificate?lang=fr",
    "/parents/guide",
    "/parents/guide?lang=fr",
    "/parents/agreement?lang=fr",
    "/parents/apps",
    "/parents/apps?lang=fr",
]
OTHER_RESPONSES = [
    "/healthz",
    "/api/strings?lang=fr",
    f"/api/progress?learner={SENDER}",
    "/static/lumi.css",
    "/static/chat.js",
    "/static/lumi-owl.svg",
    "/static/nope.js",
]


class FakeRasa:
    """Records what the proxy sends; answers what the test asks for."""

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.status = 200
        self.body: Any = None
        self.raise_error: Exception | None = None

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if self.raise_error is not None:
            raise self.raise_error
        sent = json.loads(request.content)
        self.requests.append({"url": str(request.url), **sent})
        body = self.body
        if body is None:
            body = [
                {"text": f"echo {sent['message']}", "buttons": [{"title": "OK", "payload": "/ok"}]},
                {"custom": {"kind": "story_end", "lang": "en", "story_id": "x", "score": 80}},
            ]
        return httpx.Response(self.status, json=body, headers={"Retry-After": "2"})


class FakeProgress:
    def __init__(self, value: dict[str, Any] | None = None) -> None:
        self.value = value
        self.asked: list[str] = []

    def __call__(self, learner: str) -> dict[str, Any] | None:
        self.asked.append(learner)
        return self.value


@pytest.fixture
def rasa():
    return FakeRasa()


@pytest.fixture
def progress():
    return FakeProgress(
        {
            "badges": ["badge_bribe", "badge_secrecy", "badge_unknown"],
            "stories": {"follower_bribe": {"best_score": 80, "times": 2}},
            "stories_finished": 1,
        }
    )


@pytest.fixture
def client(rasa, progress):
    app = create_app(
        "http://rasa.test:5005", transport=httpx.MockTransport(rasa), progress=progress
    )
    with TestClient(app) as test_client:
        yield test_client


def post(client, body: Any, **headers: str) -> httpx.Response:
    if isinstance(body, (bytes, str)):
        return client.post(
            "/api/message", content=body, headers={"Content-Type": "application/json", **headers}
        )
    return client.post("/api/message", json=body, headers=headers)


# ----------------------------------------------------------------- headers


def assert_security_headers(response: httpx.Response) -> None:
    csp = response.headers["content-security-policy"]
    for directive in (
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "object-src 'none'",
        "base-uri 'none'",
        "frame-ancestors 'none'",
        "form-action 'self'",
    ):
        assert directive in csp
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "same-origin"
    assert "camera=()" in response.headers["permissions-policy"]
    assert response.headers["x-frame-options"] == "DENY"
    assert not any(h.lower().startswith("access-control-") for h in response.headers)


@pytest.mark.parametrize("url", PAGES + OTHER_RESPONSES)
def test_security_headers_on_every_response(client, url):
    assert_security_headers(client.get(url))


def test_security_headers_on_api_errors_and_wrong_methods(client):
    assert_security_headers(post(client, b"{"))
    assert_security_headers(client.get("/api/message"))
    assert_security_headers(client.delete("/"))
    assert client.get("/api/message").status_code == 405


def test_security_headers_on_an_unexpected_error(rasa, progress):
    def broken(learner):
        raise RuntimeError("boom")

    app = create_app("http://rasa.test", transport=httpx.MockTransport(rasa), progress=broken)
    with TestClient(app, raise_server_exceptions=False) as c:
        response = c.get(f"/api/progress?learner={SENDER}")
    assert response.status_code == 500
    assert_security_headers(response)
    assert "error" in response.json()


@pytest.mark.parametrize("url", [u for u in PAGES])
def test_pages_have_no_inline_script_style_or_handlers(client, url):
    html = client.get(url).text
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html), "inline script"
    assert "<style" not in html
    assert not re.search(r"\sstyle=", html), "inline style attribute"
    assert not re.search(r"\son[a-z]+\s*=", html), "inline event handler"
    assert "javascript:" not in html


def test_pages_are_not_cached_and_static_files_are(client):
    assert client.get("/").headers["cache-control"] == "no-store"
    assert client.get("/static/lumi.css").status_code == 200


# ----------------------------------------------------------------- pages, languages


@pytest.mark.parametrize("lang", texts.LANGUAGES)
def test_chat_page_in_both_languages(client, lang):
    html = client.get(f"/?lang={lang}").text
    assert f'<html lang="{lang}">' in html
    assert html_of("web.chat.tagline", lang) in html
    assert html_of("web.common.quick_exit", lang) in html
    assert 'role="log"' in html and 'aria-live="polite"' in html
    assert f'maxlength="{1000}"' in html
    for code in helplines.countries():
        assert f'value="{code}"' in html
    assert 'value="other"' in html


def test_language_from_accept_language_then_query(client):
    assert '<html lang="fr">' in client.get("/", headers={"Accept-Language": "fr-BE,fr;q=0.9"}).text
    assert '<html lang="en">' in client.get("/", headers={"Accept-Language": "de, en;q=0.5"}).text
    assert '<html lang="en">' in client.get("/?lang=en", headers={"Accept-Language": "fr"}).text
    assert '<html lang="en">' in client.get("/?lang=xx").text


def test_accept_language_parser():
    assert security.accept_language("fr-CA;q=0.4, en;q=0.8") == "en"
    assert security.accept_language("de-DE, fr;q=0.7") == "fr"
    assert security.accept_language("fr;q=0") == "en"
    assert security.accept_language("") == "en"
    assert security.accept_language("fr;q=bad, en") == "en"


@pytest.mark.parametrize("lang", texts.LANGUAGES)
def test_parents_page_in_both_languages(client, lang):
    html = client.get(f"/parents?lang={lang}&country=FR").text
    assert html_of("web.parents.heading", lang) in html
    for name, items in views.PARENT_SECTIONS:
        assert html_of(f"web.parents.{name}.title", lang) in html
        for item in items:
            assert html_of(f"web.parents.{name}.{item}", lang) in html
    assert 'href="tel:3018"' in html
    assert "https://www.3018.fr" in html
    assert 'datetime="2026-11-01"' in html  # the verified date
    assert f"/?coplay=1&amp;lang={lang}" in html
    assert '<option value="FR" selected>' in html


def test_parents_page_without_country_shows_international_lines(client):
    html = client.get("/parents?lang=en").text
    assert html_of("web.parents.helplines.none_chosen", "en") in html
    assert "childhelplineinternational.org" in html
    assert "tel:3018" not in html


def test_print_page_shows_badges_and_helplines_not_chat(client, progress):
    html = client.get(f"/print?learner={SENDER}&lang=fr&country=BE").text
    assert progress.asked == [SENDER]
    assert html_of("tactics.bribe.name", "fr") in html
    assert html_of("web.badges.generic", "fr") in html  # an unknown badge id
    assert html_of("stories.follower_bribe.title", "fr") in html
    assert "116000" in html or "tel:" in html
    assert "@media print" in client.get("/static/lumi.css").text
    assert 'id="log"' not in html and "chat.js" not in html


def test_print_page_with_a_bad_learner_id(client, progress):
    response = client.get("/print?learner=../../etc")
    assert response.status_code == 400
    assert html_of("web.errors.bad_learner", "en") in response.text
    assert progress.asked == []


def test_print_page_when_storage_is_down(rasa):
    app = create_app(transport=httpx.MockTransport(rasa), progress=FakeProgress(None))
    with TestClient(app) as c:
        html = c.get(f"/print?learner={SENDER}").text
    assert html_of("web.print.unavailable", "en") in html


def test_weather_page_is_neutral(client):
    html = client.get("/weather").text
    assert "lumi" not in html.lower()
    assert texts.t("web.weather.heading", "en") in html
    assert "Météo" in client.get("/weather?lang=fr").text


def test_not_found_page_is_localised(client):
    response = client.get("/nope?lang=fr")
    assert response.status_code == 404
    assert html_of("web.errors.not_found", "fr") in response.text
    assert client.get("/api/nope").json()["error"]


def test_xss_in_query_parameters_is_escaped(client):
    for url in (
        f"/?lang={XSS}",
        f"/parents?country={XSS}&lang=fr",
        f"/print?learner={XSS}&country={XSS}",
        f"/weather?lang={XSS}",
        f"/nowhere/{XSS}",
    ):
        html = client.get(url).text
        assert XSS not in html
        assert "<img src=x" not in html


def test_switch_link_keeps_the_other_parameters_escaped(client):
    html = client.get(f"/parents?lang=en&country=FR&x={XSS}").text
    assert "/parents?lang=fr&amp;country=FR" in html
    assert XSS not in html


def test_helpline_names_are_escaped(client, monkeypatch):
    real = texts.t

    def fake_t(key, lang, **params):
        if key.startswith("helplines.") and key.endswith(".name"):
            return XSS
        return real(key, lang, **params)

    monkeypatch.setattr(texts, "t", fake_t)
    html = client.get("/parents?country=GB").text
    assert XSS not in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html


# ----------------------------------------------------------------- locales


def test_web_locales_parity():
    table = texts.read_locale_files()
    en = {k for k in table["en"] if k.startswith("web.")}
    fr = {k for k in table["fr"] if k.startswith("web.")}
    assert en, "no web texts"
    assert en == fr, f"only en: {sorted(en - fr)}; only fr: {sorted(fr - en)}"
    placeholder = re.compile(r"%\{(\w+)\}")
    for key in en:
        assert set(placeholder.findall(str(table["en"][key]))) == set(
            placeholder.findall(str(table["fr"][key]))
        ), key
        assert table["en"][key] and table["fr"][key], key


def test_templates_only_use_existing_keys():
    from bot.web.app import TEMPLATES_DIR

    used = set()
    for path in TEMPLATES_DIR.glob("*.html"):
        used |= set(re.findall(r"t\('(web\.[a-z_.]*[a-z_])'\s*[,)]", path.read_text()))
    for key in used:
        for lang in texts.LANGUAGES:
            assert texts.has(key, lang), f"{key} missing in {lang}"


def test_script_only_uses_existing_keys():
    from bot.web.app import STATIC_DIR, TEMPLATES_DIR

    script = (STATIC_DIR / "chat.js").read_text()
    keys = set(re.findall(r"""tr\("([a-z_]+\.[a-z_]+)""", script))
    keys |= set(
        re.findall(
            r'data-t(?:-label|-alt)?="([a-z_]+\.[a-z_]+)"',
            (TEMPLATES_DIR / "chat.html").read_text(),
        )
    )
    assert keys
    for key in keys:
        for lang in texts.LANGUAGES:
            assert texts.has(f"web.{key}", lang), f"web.{key} missing in {lang}"


def test_strings_endpoint(client):
    data = client.get("/api/strings?lang=fr&country=FR").json()
    assert data["lang"] == "fr"
    assert data["t"]["chat.send"] == texts.t("web.chat.send", "fr")
    assert "%{phone}" in data["t"]["js.call"]  # the script fills placeholders itself
    assert data["countries"]["BE"] == texts.t("countries.BE", "fr")
    assert data["tactics"]["bribe"] == texts.t("tactics.bribe.name", "fr")
    assert data["stories"]["follower_bribe"] == texts.t("stories.follower_bribe.title", "fr")
    assert "3018" in data["main_helpline"]
    assert client.get("/api/strings").json()["lang"] == "en"
    # the page leaves at once on a safe word, even with Lumi unreachable
    assert {"banane bleue", "blue banana"} <= set(data["safe_words"])


def test_quick_exit_bar_sits_outside_the_scrolling_page(client):
    html = client.get("/?lang=en").text
    assert html.index('class="exit-bar"') < html.index('class="page-scroll"')
    assert html.index('id="quick-exit"') < html.index('class="page-scroll"')
    assert html.index('class="page-scroll"') < html.index('<main id="main"')


# ----------------------------------------------------------------- the proxy


@pytest.mark.parametrize(
    ("typed", "header"),
    [
        ("en français stp", "fr"),
        ("english please", "en"),
        ("parle francais", "fr"),
        ("hello", None),
        ('/set_language{"language":"fr"}', None),  # a button: the page switched itself
        ("i read a book in french at school yesterday with my class", None),
    ],
)
def test_a_language_asked_for_in_words_is_told_to_the_page(client, typed, header):
    response = post(client, {"sender": SENDER, "message": typed})
    assert response.status_code == 200
    assert response.headers.get("x-lumi-language") == header


def test_proxy_passes_message_payloads_and_metadata(client, rasa):
    response = post(
        client,
        {
            "sender": SENDER,
            "message": '/set_country{"country":"BE"}',
            "metadata": {
                "language": "fr",
                "browser_language": "en",
                "country": "be",
                "coplay": True,
                "age_band": "8-10",
                "class_code": "ab12cd",
                "learner_id": "someone-else-1234",
                "secret": "dropped",
            },
            "lang": "fr",
        },
    )
    assert response.status_code == 200
    assert response.json()[0]["text"] == 'echo /set_country{"country":"BE"}'
    assert response.json()[1]["custom"]["kind"] == "story_end"
    sent = rasa.requests[-1]
    assert sent["url"] == "http://rasa.test:5005/webhooks/rest/webhook"
    assert sent["sender"] == SENDER
    assert sent["message"] == '/set_country{"country":"BE"}'
    assert sent["metadata"] == {
        "language": "fr",
        "browser_language": "en",
        "country": "BE",
        "coplay": True,
        "age_band": "8-10",
        "class_code": "AB12CD",
        "learner_id": SENDER,
    }
    assert "lang" not in sent


def test_proxy_drops_invalid_metadata_values(client, rasa):
    post(
        client,
        {
            "sender": SENDER,
            "message": "hi",
            "metadata": {
                "language": "de",
                "browser_language": "fr-CA",
                "country": "ZZ",
                "coplay": "yes",
                "age_band": "5",
            },
        },
    )
    assert rasa.requests[-1]["metadata"] == {"learner_id": SENDER}
    post(client, {"sender": SENDER, "message": "hi"})
    assert rasa.requests[-1]["metadata"] == {"learner_id": SENDER}


def test_beacon_text_plain_body_is_accepted(client, rasa):
    body = json.dumps({"sender": SENDER, "message": "/exit", "metadata": {"learner_id": SENDER}})
    response = client.post(
        "/api/message", content=body, headers={"Content-Type": "text/plain;charset=UTF-8"}
    )
    assert response.status_code == 200
    assert rasa.requests[-1]["message"] == "/exit"


@pytest.mark.parametrize(
    ("body", "key"),
    [
        (b"", "web.errors.bad_body"),
        (b"{", "web.errors.bad_body"),
        (b"[]", "web.errors.bad_body"),
        (b"null", "web.errors.bad_body"),
        (b"42", "web.errors.bad_body"),
        (b'"hi"', "web.errors.bad_body"),
        (b'{"message": "hi"}', "web.errors.bad_sender"),
        (b'{"sender": "short", "message": "hi"}', "web.errors.bad_sender"),
        (b'{"sender": "has space in it", "message": "hi"}', "web.errors.bad_sender"),
        (('{"sender": "' + "a" * 65 + '", "message": "hi"}').encode(), "web.errors.bad_sender"),
        (b'{"sender": "../../../etc/x", "message": "hi"}', "web.errors.bad_sender"),
        (f'{{"sender": "{SENDER}"}}'.encode(), "web.errors.bad_message"),
        (f'{{"sender": "{SENDER}", "message": 5}}'.encode(), "web.errors.bad_message"),
        (
            f'{{"sender": "{SENDER}", "message": "hi", "metadata": []}}'.encode(),
            "web.errors.bad_body",
        ),
        (b"\xff\xfe", "web.errors.bad_body"),
    ],
)
def test_bad_bodies_get_400_with_a_clear_message(client, rasa, body, key):
    response = post(client, body)
    assert response.status_code == 400
    assert response.json()["error"] == texts.t(key, "en")
    assert response.json()["messages"] == [{"text": texts.t(key, "en")}]
    assert rasa.requests == []


def test_bad_body_message_in_the_childs_language(client):
    response = post(client, {"sender": "x", "message": "hi", "metadata": {"language": "fr"}})
    assert response.json()["error"] == texts.t("web.errors.bad_sender", "fr")
    response = post(client, b"{", **{"Accept-Language": "fr-FR"})
    assert response.json()["error"] == texts.t("web.errors.bad_body", "fr")


def test_too_long_message_and_too_large_body(client, rasa):
    response = post(client, {"sender": SENDER, "message": "a" * (MAX_MESSAGE_CHARS + 1)})
    assert response.status_code == 400
    assert str(MAX_MESSAGE_CHARS) in response.json()["error"]
    response = post(client, {"sender": SENDER, "message": "é" * 9000})
    assert response.status_code == 413
    assert response.json()["error"] == texts.t("web.errors.too_large", "en")
    response = client.post("/api/message", content=b"x" * 100_000)
    assert response.status_code == 413
    assert rasa.requests == []


def test_wrong_content_type_is_refused(client, rasa):
    body = json.dumps({"sender": SENDER, "message": "hi"})
    response = client.post(
        "/api/message", content=body, headers={"Content-Type": "application/x-www-form-urlencoded"}
    )
    assert response.status_code == 415
    assert response.json()["error"] == texts.t("web.errors.unsupported_type", "en")
    assert rasa.requests == []


def test_cross_site_requests_are_refused(client, rasa):
    body = {"sender": SENDER, "message": "hi"}
    response = post(client, body, Origin="https://evil.example")
    assert response.status_code == 403
    response = post(client, body, **{"Sec-Fetch-Site": "cross-site"})
    assert response.status_code == 403
    assert rasa.requests == []
    assert post(client, body, Origin="http://testserver").status_code == 200
    assert post(client, body, **{"Sec-Fetch-Site": "same-origin"}).status_code == 200
    options = client.options("/api/message", headers={"Origin": "https://evil.example"})
    assert "access-control-allow-origin" not in options.headers


@pytest.mark.parametrize(
    "error",
    [httpx.ConnectError("refused"), httpx.ReadTimeout("slow"), httpx.RemoteProtocolError("x")],
)
def test_rasa_down_gives_503_naming_the_main_helpline(client, rasa, error):
    rasa.raise_error = error
    response = post(
        client, {"sender": SENDER, "message": "hi", "metadata": {"language": "fr", "country": "FR"}}
    )
    assert response.status_code == 503
    message = response.json()["error"]
    assert message == texts.t(
        "web.errors.rasa_down", "fr", helpline=views.main_helpline_text("FR", "fr")
    )
    assert "3018" in message
    first, cards = response.json()["messages"]
    assert first == {"text": message}
    # every helpline of the country, from data/helplines.yml, as the page's cards
    assert cards["custom"]["kind"] == "helplines" and cards["custom"]["country"] == "FR"
    assert cards["custom"]["helplines"] == [
        e.payload("fr") for e in helplines.for_country("FR", "concern")
    ]
    assert "3018" in [h["phone"] for h in cards["custom"]["helplines"]]


def test_rasa_down_without_country_names_the_international_helpline(client, rasa):
    rasa.raise_error = httpx.ConnectError("refused")
    response = post(client, {"sender": SENDER, "message": "hi"})
    assert response.status_code == 503
    main = helplines.main_helpline(None)
    assert texts.t(f"helplines.{main.id}.name", "en") in response.json()["error"]


def test_rasa_500_or_garbage_is_a_503(client, rasa):
    rasa.status = 500
    rasa.body = {"oops": True}
    assert post(client, {"sender": SENDER, "message": "hi"}).status_code == 503
    rasa.status = 200
    rasa.body = {"not": "a list"}
    assert post(client, {"sender": SENDER, "message": "hi"}).status_code == 503


def test_rasa_4xx_is_passed_through_with_a_clear_message(client, rasa):
    rasa.status = 400
    rasa.body = {"error": "'message' must be a string"}
    response = post(client, {"sender": SENDER, "message": "hi", "metadata": {"language": "fr"}})
    assert response.status_code == 400
    assert response.json()["error"] == texts.t("web.errors.rejected", "fr")
    assert response.json()["detail"] == "'message' must be a string"
    rasa.status = 429
    rasa.body = [{"text": texts.t("menu.errors_slow_down", "en")}]
    response = post(client, {"sender": SENDER, "message": "hi"})
    assert response.status_code == 429
    assert response.headers["retry-after"] == "2"
    assert response.json()["messages"] == rasa.body
    assert response.json()["error"] == texts.t("web.errors.slow_down", "en")


def test_message_text_is_never_logged(client, rasa, caplog):
    caplog.set_level("DEBUG")
    secret = "my-secret-words-42"
    post(client, {"sender": SENDER, "message": secret})
    rasa.raise_error = httpx.ConnectError(secret)
    post(client, {"sender": SENDER, "message": secret})
    post(client, {"sender": "bad", "message": secret})
    assert secret not in caplog.text
    assert SENDER not in caplog.text


def test_healthz(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


# ----------------------------------------------------------------- progress API


def test_progress_api(client, progress):
    data = client.get(f"/api/progress?learner={SENDER}&lang=fr").json()
    assert data["available"] is True
    assert [b["id"] for b in data["badges"]] == ["badge_bribe", "badge_secrecy", "badge_unknown"]
    assert data["badges"][0]["name"] == texts.t("tactics.bribe.name", "fr")
    assert data["stories"] == [
        {
            "id": "follower_bribe",
            "title": texts.t("stories.follower_bribe.title", "fr"),
            "best_score": 80,
            "times": 2,
        }
    ]


@pytest.mark.parametrize("learner", ["", "short", "a b c d e f g h", "x" * 65, XSS])
def test_progress_api_validates_the_learner_id(client, progress, learner):
    response = client.get("/api/progress", params={"learner": learner})
    assert response.status_code == 400
    assert progress.asked == []


def test_progress_api_when_storage_is_down(rasa):
    app = create_app(transport=httpx.MockTransport(rasa), progress=FakeProgress(None))
    with TestClient(app) as c:
        data = c.get(f"/api/progress?learner={SENDER}").json()
    assert data == {"available": False, "badges": [], "stories": []}


def test_default_rasa_url_comes_from_rasa_port(monkeypatch):
    monkeypatch.setenv("RASA_PORT", "6123")
    app = create_app()
    assert app.state.web.webhook_url == "http://127.0.0.1:6123/webhooks/rest/webhook"


def test_main_rejects_a_bad_port(capsys):
    from bot.web.__main__ import main

    assert main(["--port", "0"]) == 2
    assert "port" in capsys.readouterr().err


# --- issue 20: certificate, parents' kit, strings for the play payloads -----------


def test_certificate_shows_badges_stories_and_the_date(client, progress):
    import datetime as dt

    from bot.web import kit

    for lang in ("en", "fr"):
        html = client.get(f"/certificate?learner={SENDER}&lang={lang}").text
        assert html_of("web.certificate.heading", lang) in html
        assert html_of("tactics.bribe.name", lang) in html
        assert html_of("stories.follower_bribe.title", lang) in html
        assert html_of("web.certificate.name_label", lang) in html
        assert str(escape(kit.long_date(dt.date.today(), lang))) in html
        assert "<form" not in html  # the name is never submitted anywhere
        assert 'name="' not in html.split('id="cert-name"')[1].split(">")[0]
        assert "/static/certificate.js" in html
    assert progress.asked == [SENDER, SENDER]
    assert kit.long_date(dt.date(2026, 12, 6), "fr") == "6 décembre 2026"
    assert kit.long_date(dt.date(2026, 1, 31), "en") == "31 January 2026"


def test_certificate_with_a_bad_learner_or_storage_down(client, rasa):
    response = client.get("/certificate?learner=bad!")
    assert response.status_code == 400
    assert html_of("web.errors.bad_learner", "en") in response.text
    app = create_app(transport=httpx.MockTransport(rasa), progress=FakeProgress(None))
    with TestClient(app) as c:
        html = c.get(f"/certificate?learner={SENDER}&lang=fr").text
    assert html_of("web.certificate.unavailable", "fr") in html


@pytest.mark.parametrize("lang", ["en", "fr"])
def test_parents_kit_pages(client, lang):
    from bot import app_settings
    from bot.tactics import TACTICS

    parents = client.get(f"/parents?lang={lang}").text
    for link in ("/parents/guide", "/parents/agreement", "/parents/apps"):
        assert f"{link}?lang={lang}" in parents
    guide = client.get(f"/parents/guide?lang={lang}").text
    for tactic in TACTICS:
        assert html_of(f"tactics.{tactic}.name", lang) in guide
        assert html_of(f"tactics.{tactic}.todo", lang) in guide
    for reply in ("boundary", "no", "trick", "leave"):
        assert html_of(f"web.guide.reply_{reply}", lang) in guide
    assert html_of("web.parents.signs.bedwetting", lang) in guide
    agreement = client.get(f"/parents/agreement?lang={lang}").text
    assert html_of("web.agreement.child_tell", lang) in agreement
    assert html_of("web.agreement.adult_device", lang) in agreement
    assert "<input" not in agreement  # signed by hand on paper, nothing typed
    apps = client.get(f"/parents/apps?lang={lang}").text
    for app in app_settings.directory():
        assert f'id="{app.id}"' in apps
        for setting in app.settings:
            assert html_of(f"app_settings.settings.{setting.id}.where", lang) in apps
            assert f'href="{setting.source}"' in apps
            assert f'datetime="{setting.checked.isoformat()}"' in apps


def test_app_settings_directory() -> None:
    import datetime as dt

    from bot import app_settings

    apps = app_settings.directory()
    assert [a.id for a in apps] == list(app_settings.APPS)
    for app in apps:
        assert len(app.settings) >= 2
        for setting in app.settings:
            assert setting.source.startswith("https://")
            assert setting.checked_against in app_settings.CHECKED_AGAINST
    assert app_settings.stale(dt.date(2026, 12, 7)) == []
    assert len(app_settings.stale(dt.date(2028, 1, 1))) == sum(len(a.settings) for a in apps)
    assert app_settings.main(["--today", "2026-12-07"]) == 0
    assert app_settings.main(["--today", "2028-01-01"]) == 1
    with pytest.raises(app_settings.AppSettingsError) as caught:
        app_settings.parse(
            {
                "apps": [
                    {"id": "myspace", "settings": []},
                    {
                        "id": "roblox",
                        "settings": [
                            {
                                "id": "x",
                                "source": "http://x",
                                "checked": "soon",
                                "checked_against": "?",
                            }
                        ],
                    },
                ]
            }
        )
    message = str(caught.value)
    for part in (
        "unknown app 'myspace'",
        "source must be an https://",
        "checked must be a date",
        "checked_against is one of",
        "no 'what' text",
        "apps missing: discord, fortnite",
    ):
        assert part in message, part


def test_strings_carry_tactic_shorts_and_pictures(client):
    from bot.stories import stories

    data = client.get("/api/strings?lang=fr").json()
    assert data["tactic_short"]["bribe"] == texts.t("tactics.bribe.short", "fr")
    assert "default" in data["pictures"]
    assert set(stories()) <= set(data["pictures"])
    for key in ("js.spot_right", "js.mockup_label", "chat.read_choices", "chat.age_title"):
        assert data["t"][key]


def test_every_story_picture_has_alt_text_and_a_file() -> None:
    """A story's own alt text describes its own SVG; without one, the default."""
    from bot.stories import stories
    from bot.web.app import STATIC_DIR
    from bot.web.views import story_pictures

    files = set(story_pictures(STATIC_DIR / "stories"))
    for story in stories().values():
        has_alt = texts.has(story.key("picture"), "en")
        assert (story.id in files) == has_alt, story.id
    for path in (STATIC_DIR / "stories").glob("*.svg"):
        svg = path.read_text(encoding="utf-8")
        assert "<script" not in svg and "href" not in svg and 'aria-hidden="true"' in svg


def test_every_app_kind_of_the_mock_ups_has_a_name_an_icon_and_a_bar() -> None:
    """The page draws every app kind a story may name (bot.stories.model.APPS)."""
    from bot.stories.model import APPS, DEFAULT_APP
    from bot.web.app import STATIC_DIR

    js = (STATIC_DIR / "play.js").read_text(encoding="utf-8")
    css = (STATIC_DIR / "lumi.css").read_text(encoding="utf-8")
    [listed] = re.findall(r"var APPS = \[([^\]]*)\];", js)
    assert re.findall(r'"(\w+)"', listed) == list(APPS)
    [icons] = re.findall(r"var APP_ICONS = \{([^}]*)\};", js)
    assert re.findall(r"(\w+): \"", icons) == list(APPS)
    for app in APPS:
        for lang in ("en", "fr"):
            assert texts.has(f"story_ui.chat.{app}", lang), (app, lang)
        if app != DEFAULT_APP:  # the default bar is the plain .mockup-bar
            assert f".mockup-{app} .mockup-bar {{ background:" in css, app


def test_age_band_any_passes_the_proxy_and_clears_the_slot(client, rasa):
    from bot.session import slots_from_metadata

    for band in ("8-10", "11-13", "any"):
        client.post(
            "/api/message", json={"sender": SENDER, "message": "hi", "metadata": {"age_band": band}}
        )
        assert rasa.requests[-1]["metadata"]["age_band"] == band
    client.post(
        "/api/message", json={"sender": SENDER, "message": "hi", "metadata": {"age_band": "9"}}
    )
    assert "age_band" not in rasa.requests[-1]["metadata"]
    assert slots_from_metadata({"age_band": "any"}, {"age_band": "8-10"}) == {"age_band": None}
    assert slots_from_metadata({"age_band": "any"}, {}) == {}
    assert slots_from_metadata({"age_band": "11-13"}, {"age_band": "8-10"}) == {"age_band": "11-13"}
