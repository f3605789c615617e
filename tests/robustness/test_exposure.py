"""What the servers expose: Rasa's HTTP API needs the token, no CORS for a foreign
Origin, which interfaces the servers listen on, and the web app's security headers
(reported into var/robustness-results.json for docs/robustness.md)."""

from __future__ import annotations

import socket

import pytest
import requests

from tests.robustness.conftest import new_sender, send

FOREIGN = "https://evil.example"
# Rasa's HTTP API (enabled with --enable-api): every route but / and /version needs the token.
PROTECTED = [
    ("GET", "/status"),
    ("GET", "/domain"),
    ("GET", "/conversations/{sender}/tracker"),
    ("GET", "/conversations/{sender}/story"),
    ("POST", "/conversations/{sender}/messages"),
    ("POST", "/conversations/{sender}/tracker/events"),
    ("PUT", "/conversations/{sender}/tracker/events"),
    ("POST", "/conversations/{sender}/trigger_intent"),
    ("POST", "/conversations/{sender}/execute"),
    ("POST", "/conversations/{sender}/predict"),
    ("POST", "/model/parse"),
    ("POST", "/model/predict"),
    ("POST", "/model/train"),
    ("POST", "/model/test/intents"),
    ("POST", "/model/test/stories"),
    ("PUT", "/model"),
    ("DELETE", "/model"),
]
BODY = {"text": "hello", "event": "slot", "name": "country", "value": "XX", "sender": "user"}


@pytest.fixture(scope="module")
def victim(stack):
    """A conversation whose tracker an outsider would like to read or change."""
    sender = new_sender("victim")
    assert send(stack, sender, "/start", {"language": "fr", "country": "BE"}).status_code == 200
    return sender


@pytest.mark.parametrize(("method", "path"), PROTECTED)
@pytest.mark.parametrize("token", [None, "", "wrong-token", "test-token "])
def test_rasa_api_needs_the_token(stack, victim, method, path, token):
    params = {} if token is None else {"token": token}
    response = requests.request(
        method,
        stack.rasa_url + path.format(sender=victim),
        params=params,
        json=BODY,
        headers={"Authorization": "Bearer test-token"},  # a header is not the token
        timeout=30,
    )
    assert response.status_code in (401, 403), (method, path, response.status_code)


def test_the_token_opens_the_api_and_nothing_was_changed(stack, victim):
    assert stack.settings
    url = f"{stack.rasa_url}/conversations/{victim}/tracker"
    state = requests.get(url, params={"token": stack.settings.rasa_token}, timeout=30)
    assert state.status_code == 200
    assert state.json()["slots"]["country"] == "BE"  # the attempts above changed nothing
    parse = requests.post(
        stack.rasa_url + "/model/parse",
        params={"token": stack.settings.rasa_token},
        json={"text": "hello"},
        timeout=30,
    )
    assert parse.status_code == 200


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("OPTIONS", "/webhooks/rest/webhook"),
        ("POST", "/webhooks/rest/webhook"),
        ("OPTIONS", "/status"),
        ("GET", "/status?token=test-token"),
        ("GET", "/"),
        ("OPTIONS", "/model/parse"),
    ],
)
def test_rasa_sends_no_cors_header_to_a_foreign_origin(stack, method, path):
    response = requests.request(
        method,
        stack.rasa_url + path,
        headers={
            "Origin": FOREIGN,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type",
        },
        json={"sender": new_sender(), "message": "hi"} if method == "POST" else None,
        timeout=30,
    )
    leaked = {k: v for k, v in response.headers.items() if k.lower().startswith("access-control")}
    assert not leaked, leaked


def _outside_addresses() -> list[str]:
    """This machine's addresses other than loopback (where a school network would reach it)."""
    found = set()
    try:
        for info in socket.getaddrinfo(socket.gethostname(), None, socket.AF_INET):
            found.add(info[4][0])
    except OSError:
        pass
    try:  # the address of the default route, without sending anything
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
            probe.connect(("192.0.2.1", 9))
            found.add(probe.getsockname()[0])
    except OSError:
        pass
    return sorted(a for a in found if not a.startswith("127."))


def _reachable(address: str, port: int) -> bool:
    try:
        with socket.create_connection((address, port), timeout=2):
            return True
    except OSError:
        return False


def test_rasa_listens_on_loopback_only(stack):
    assert stack.settings
    addresses = _outside_addresses()
    if not addresses:
        pytest.skip("this machine has no address but loopback")
    assert not [a for a in addresses if _reachable(a, stack.settings.rasa_port)]


def test_action_server_listens_on_loopback_only(stack):
    assert stack.settings
    addresses = _outside_addresses()
    if not addresses:
        pytest.skip("this machine has no address but loopback")
    assert not [a for a in addresses if _reachable(a, stack.settings.action_port)]


WEB_HEADERS = (
    "content-security-policy",
    "x-content-type-options",
    "referrer-policy",
    "x-frame-options",
    "permissions-policy",
    "cross-origin-opener-policy",
    "cross-origin-resource-policy",
    "strict-transport-security",
    "server",
    "access-control-allow-origin",
)


def test_web_app_security_headers_are_reported(stack, results):
    if not getattr(stack, "web_ready", False):
        pytest.skip("no web app in this tree (bot/web) or it did not start")
    report = {}
    for path in ("/", "/parents", "/static/chat.js", "/no-such-page"):
        response = requests.get(stack.web_url + path, headers={"Origin": FOREIGN}, timeout=30)
        report[path] = {
            "status": response.status_code,
            **{h: response.headers.get(h) for h in WEB_HEADERS},
        }
    results.extra["web_security_headers"] = report
    page = report["/"]
    assert page["status"] == 200
    assert (
        page["content-security-policy"] and "script-src 'self'" in page["content-security-policy"]
    )
    assert page["x-content-type-options"] == "nosniff"
    assert page["access-control-allow-origin"] is None
    # A form post from another site is refused.
    post = requests.post(
        stack.web_url + "/api/message",
        headers={"Origin": FOREIGN},
        json={"sender": new_sender(), "message": "hi"},
        timeout=30,
    )
    results.extra["web_foreign_origin_post_status"] = post.status_code
    assert post.status_code in (400, 403)
