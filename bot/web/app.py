"""The Starlette app: pages, the proxy to Rasa's REST webhook, and small JSON APIs.

Routes (see ``docs/web.md``):

- ``GET /`` child chat page; ``GET /parents`` parents' corner; ``GET /print``
  printable badges + helplines; ``GET /weather`` the neutral page quick exit
  goes to; ``GET /healthz``; the certificate and the parents' kit
  (``bot.web.kit``).
- ``POST /api/message`` ``{"sender", "message", "metadata"?, "lang"?}`` is checked
  and sent on to ``$RASA_URL/webhooks/rest/webhook``; Rasa's JSON list comes back.
- ``GET /api/strings?lang=`` the texts the page's script needs;
  ``GET /api/progress?learner=&lang=`` badges and finished stories.

Nothing a child types is logged: log lines carry statuses and counts only.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import re
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

import httpx
from jinja2 import Environment, FileSystemLoader
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from bot import helplines, language
from bot import text as texts
from bot.web import auth, classroom, kit, security, teacher, typography, views

if TYPE_CHECKING:
    from bot.storage.store import Store

# Set on a reply to a child asking for the other language in words.
LANGUAGE_HEADER = "X-Lumi-Language"
logger = logging.getLogger("lumi.web")

WEB_DIR = Path(__file__).resolve().parent
TEMPLATES_DIR = WEB_DIR / "templates"
STATIC_DIR = WEB_DIR / "static"

# The chat box takes 1,000 characters (what the assistant reads); a pasted
# message may be longer, the proxy takes up to MAX_MESSAGE_CHARS.
INPUT_MAX_CHARS = 1000
MAX_MESSAGE_CHARS = 5000
MAX_API_BODY_BYTES = 16 * 1024
MAX_BODY_BYTES = 64 * 1024
RASA_TIMEOUT_SECONDS = 30.0
JSON_TYPES = ("application/json", "text/plain")  # text/plain: navigator.sendBeacon
_COUNTRY_CODE = re.compile(r"^[A-Za-z]{2}$")
_CLASS_CODE = re.compile(r"^[A-Za-z0-9]{4,8}$")
AGE_BANDS = ("8-10", "11-13")
ANY_AGE = "any"  # the child chose "I'd rather not say": no band

ProgressFn = Callable[[str], dict[str, Any] | None]


def _default_progress(learner_id: str) -> dict[str, Any] | None:
    from bot import storage

    return storage.progress(learner_id)


def _default_store() -> Store:
    from bot import storage

    return storage.store()


@dataclass
class WebConfig:
    rasa_url: str
    transport: httpx.AsyncBaseTransport | None = None
    progress: ProgressFn = _default_progress
    timeout: float = RASA_TIMEOUT_SECONDS
    client: httpx.AsyncClient | None = None
    _table: dict[str, dict[str, Any]] | None = field(default=None, repr=False)

    @property
    def webhook_url(self) -> str:
        return self.rasa_url.rstrip("/") + "/webhooks/rest/webhook"

    def http(self) -> httpx.AsyncClient:
        if self.client is None:
            self.client = httpx.AsyncClient(
                transport=self.transport, timeout=self.timeout, follow_redirects=False
            )
        return self.client

    def table(self) -> dict[str, dict[str, Any]]:
        """Every locale text, raw (read once, on first use)."""
        if self._table is None:
            self._table = texts.read_locale_files()
        return self._table


class BadInput(Exception):
    def __init__(self, status: int, key: str, **params: Any) -> None:
        super().__init__(key)
        self.status = status
        self.key = key
        self.params = params


# --------------------------------------------------------------------------- helpers


def config(request: Request) -> WebConfig:
    web: WebConfig = request.app.state.web
    return web


def page_language(request: Request) -> str:
    """``?lang=`` first, then ``Accept-Language``, then English."""
    return views.language(request.query_params.get("lang")) or security.accept_language(
        request.headers.get("accept-language")
    )


def page_country(request: Request) -> str | None:
    return helplines.known_country(request.query_params.get("country"))


def error_json(status: int, key: str, lang: str, **params: Any) -> JSONResponse:
    text = texts.t(key, lang, **params)
    return JSONResponse(
        {"error": text, "messages": [{"text": text}]},
        status_code=status,
        headers={"Cache-Control": "no-store"},
    )


def with_query(request: Request, **changes: str | None) -> str:
    """This page's URL with some query parameters changed (``None`` removes one)."""
    params = dict(request.query_params)
    for key, value in changes.items():
        if value is None:
            params.pop(key, None)
        else:
            params[key] = value
    query = urlencode(params)
    return request.url.path + (f"?{query}" if query else "")


def render(
    request: Request, template: str, lang: str, status: int = 200, **context: Any
) -> Response:
    env: Environment = request.app.state.jinja

    def t(key: str, **params: Any) -> str:
        return texts.t(key, lang, **params)

    other = views.other_language(lang)
    html = env.get_template(template).render(
        lang=lang,
        other_lang=other,
        t=t,
        switch_url=with_query(request, lang=other),
        path=request.url.path,
        **context,
    )
    return HTMLResponse(html, status_code=status, headers={"Cache-Control": "no-store"})


# --------------------------------------------------------------------------- pages


async def chat_page(request: Request) -> Response:
    lang = page_language(request)
    coplay = request.query_params.get("coplay") in ("1", "true", "on")
    from bot.storage.validate import class_code

    return render(
        request,
        "chat.html",
        lang,
        countries=views.countries(lang),
        coplay=coplay,
        class_code=class_code(request.query_params.get("class")) or "",
        input_max=INPUT_MAX_CHARS,
        other_country=views.OTHER_COUNTRY,
    )


async def parents_page(request: Request) -> Response:
    lang = page_language(request)
    country = page_country(request)
    return render(
        request,
        "parents.html",
        lang,
        sections=views.PARENT_SECTIONS,
        countries=views.countries(lang),
        country=country,
        country_name=texts.t(f"countries.{country}", lang) if country else None,
        cards=views.helpline_cards(country, lang),
        coplay_url="/?" + urlencode({"coplay": "1", "lang": lang}),
    )


async def print_page(request: Request) -> Response:
    lang = page_language(request)
    country = page_country(request)
    raw_learner = request.query_params.get("learner")
    learner = views.valid_learner(raw_learner)
    status = 200
    if raw_learner is not None and learner is None:
        status = 400
        progress = views.progress_view(None, lang)
    elif learner is None:
        progress = {"available": True, "badges": [], "stories": []}
    else:
        raw = await run_in_threadpool(config(request).progress, learner)
        progress = views.progress_view(raw, lang)
    return render(
        request,
        "print.html",
        lang,
        status=status,
        bad_learner=status == 400,
        learner=learner,
        progress=progress,
        countries=views.countries(lang),
        country=country,
        country_name=texts.t(f"countries.{country}", lang) if country else None,
        cards=views.helpline_cards(country, lang),
    )


async def weather_page(request: Request) -> Response:
    return render(request, "weather.html", page_language(request))


async def healthz(request: Request) -> Response:
    return JSONResponse({"status": "ok"}, headers={"Cache-Control": "no-store"})


async def not_found(request: Request, exc: Exception) -> Response:
    status = exc.status_code if isinstance(exc, HTTPException) else 404
    if status == 404 and request.url.path.startswith("/teacher/"):
        return await teacher.page_not_found(request)
    lang = page_language(request)
    if request.url.path.startswith("/api/") or status != 404:
        key = "web.errors.not_found" if status == 404 else "web.errors.rejected"
        return error_json(status, key, lang)
    return render(request, "error.html", lang, status=404)


# --------------------------------------------------------------------------- APIs


async def api_strings(request: Request) -> Response:
    lang = page_language(request)
    data = views.strings(lang, page_country(request), config(request).table())
    data["pictures"] = views.story_pictures(STATIC_DIR / "stories")
    return JSONResponse(data, headers={"Cache-Control": "no-store"})


async def api_progress(request: Request) -> Response:
    lang = page_language(request)
    learner = views.valid_learner(request.query_params.get("learner"))
    if learner is None:
        return error_json(400, "web.errors.bad_sender", lang)
    raw = await run_in_threadpool(config(request).progress, learner)
    return JSONResponse(views.progress_view(raw, lang), headers={"Cache-Control": "no-store"})


async def _read_body(request: Request, limit: int) -> bytes:
    chunks = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise BadInput(413, "web.errors.too_large")
        chunks.append(chunk)
    return b"".join(chunks)


def _metadata(raw: Any, sender: str) -> dict[str, Any]:
    """The metadata passed to Rasa: known keys with valid values only, plus ``learner_id``."""
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise BadInput(400, "web.errors.bad_body")
    meta: dict[str, Any] = {}
    lang = views.language(raw.get("language"))
    if lang:
        meta["language"] = lang
    # The browser's language: a hint for a first message that says nothing
    # clear about its language; never a choice (bot.language.reply_language).
    browser = views.language(raw.get("browser_language"))
    if browser:
        meta["browser_language"] = browser
    country = raw.get("country")
    if isinstance(country, str) and _COUNTRY_CODE.fullmatch(country):
        code = helplines.known_country(country)
        if code:
            meta["country"] = code
    if isinstance(raw.get("coplay"), bool):
        meta["coplay"] = raw["coplay"]
    if raw.get("age_band") in AGE_BANDS or raw.get("age_band") == ANY_AGE:
        meta["age_band"] = raw["age_band"]
    code = raw.get("class_code")
    if isinstance(code, str) and _CLASS_CODE.fullmatch(code):
        meta["class_code"] = code.upper()
    elif code == "":  # the child left their class: Lumi forgets the code
        meta["class_code"] = ""
    meta["learner_id"] = sender
    return meta


def _parse_message(raw: bytes) -> tuple[str, str, dict[str, Any]]:
    try:
        body = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise BadInput(400, "web.errors.bad_body") from None
    if not isinstance(body, dict):
        raise BadInput(400, "web.errors.bad_body")
    sender = views.valid_learner(body.get("sender"))
    if sender is None:
        raise BadInput(400, "web.errors.bad_sender")
    message = body.get("message")
    if not isinstance(message, str):
        raise BadInput(400, "web.errors.bad_message")
    if len(message) > MAX_MESSAGE_CHARS:
        raise BadInput(400, "web.errors.too_long", limit=MAX_MESSAGE_CHARS)
    return sender, message, _metadata(body.get("metadata"), sender)


def _error_language(request: Request, raw: bytes) -> tuple[str, str | None]:
    """The language and country for the proxy's own messages (best effort)."""
    lang = security.accept_language(request.headers.get("accept-language"))
    country = None
    try:
        body = json.loads(raw) if raw else None
    except (ValueError, UnicodeDecodeError):
        body = None
    if isinstance(body, dict):
        raw_meta = body.get("metadata")
        meta: dict[str, Any] = raw_meta if isinstance(raw_meta, dict) else {}
        lang = views.language(meta.get("language")) or views.language(body.get("lang")) or lang
        country = helplines.known_country(meta.get("country"))
    return lang, country


def _messages(value: Any) -> list[dict[str, Any]] | None:
    if isinstance(value, list) and all(isinstance(m, dict) for m in value):
        return value
    return None


async def api_message(request: Request) -> Response:
    cfg = config(request)
    raw = b""
    lang, country = security.accept_language(request.headers.get("accept-language")), None
    try:
        content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
        raw = await _read_body(request, MAX_API_BODY_BYTES)
        lang, country = _error_language(request, raw)
        if content_type not in JSON_TYPES:
            raise BadInput(415, "web.errors.unsupported_type")
        sender, message, metadata = _parse_message(raw)
    except BadInput as error:
        logger.info("message refused: %s (%d)", error.key.rsplit(".", 1)[-1], error.status)
        return error_json(error.status, error.key, lang, **error.params)

    country = metadata.get("country", country)
    body = {"sender": sender, "message": message, "metadata": metadata}
    try:
        answer = await cfg.http().post(cfg.webhook_url, json=body)
    except httpx.HTTPError as error:
        logger.warning("Rasa unreachable (%s)", type(error).__name__)
        return _rasa_down(lang, country)

    if answer.status_code >= 500:
        logger.warning("Rasa answered %d", answer.status_code)
        return _rasa_down(lang, country)
    try:
        data = answer.json()
    except ValueError:
        data = None
    if answer.status_code >= 400:
        logger.info("Rasa refused a message (%d)", answer.status_code)
        key = {429: "web.errors.slow_down", 413: "web.errors.too_large"}.get(
            answer.status_code, "web.errors.rejected"
        )
        text = texts.t(key, lang)
        headers = {"Cache-Control": "no-store"}
        if "retry-after" in answer.headers:
            headers["Retry-After"] = answer.headers["retry-after"]
        return JSONResponse(
            {
                "error": text,
                "detail": data.get("error") if isinstance(data, dict) else None,
                "messages": _messages(data) or [{"text": text}],
            },
            status_code=answer.status_code,
            headers=headers,
        )
    messages = _messages(data)
    if messages is None:
        logger.warning("Rasa answered something that is not a list of messages")
        return _rasa_down(lang, country)
    logger.info("message answered (%d replies)", len(messages))
    headers = {"Cache-Control": "no-store"}
    # "en français stp": Lumi switches (bot.language, the same rule as its NLU);
    # the header tells the page to switch its own words too.
    switched = None if message.startswith("/") else language.switch_request(message)
    if switched:
        headers[LANGUAGE_HEADER] = switched
    return JSONResponse(messages, headers=headers)


def _rasa_down(lang: str, country: str | None) -> Response:
    """Rasa cannot answer (down, restarting, broken): a clear message and the
    country's helplines, straight from ``data/helplines.yml`` (the page shows
    them as cards, like Lumi's own ``/help``)."""
    helpline = views.main_helpline_text(country, lang)
    text = texts.t("web.errors.rasa_down", lang, helpline=helpline)
    code = helplines.known_country(country)
    cards = {
        "custom": {
            "kind": "helplines",
            "lang": lang,
            "country": code,
            "helplines": [entry.payload(lang) for entry in helplines.for_country(code, "concern")],
        }
    }
    return JSONResponse(
        {"error": text, "messages": [{"text": text}, cards]},
        status_code=503,
        headers={"Cache-Control": "no-store", "Retry-After": "5"},
    )


# --------------------------------------------------------------------------- the app


def default_rasa_url() -> str:
    """``RASA_URL`` (set by the launcher), else Rasa on loopback at ``RASA_PORT``."""
    url = os.environ.get("RASA_URL", "").strip()
    if url.startswith(("http://", "https://")):
        return url
    port = os.environ.get("RASA_PORT", "5005")
    return f"http://127.0.0.1:{port}"


def create_app(
    rasa_url: str | None = None,
    *,
    transport: httpx.AsyncBaseTransport | None = None,
    progress: ProgressFn | None = None,
    timeout: float = RASA_TIMEOUT_SECONDS,
    store: Store | None = None,
    secret_key: str | None = None,
    setup_code: str | None = None,
) -> Starlette:
    """The web app. ``transport``, ``progress`` and ``store`` replace Rasa and storage in
    tests; ``secret_key`` signs teacher sessions (default: env ``LUMI_SECRET_KEY``, else
    ``var/secret_key``, read on the first teacher request); ``setup_code`` opens the
    first-run page from other devices (default: env ``LUMI_SETUP_CODE``)."""
    web = WebConfig(
        rasa_url=rasa_url or default_rasa_url(),
        transport=transport,
        progress=progress or _default_progress,
        timeout=timeout,
    )

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        web.http()
        try:
            yield
        finally:
            if web.client is not None:
                await web.client.aclose()
                web.client = None

    routes = [
        Route("/", chat_page, methods=["GET"]),
        Route("/parents", parents_page, methods=["GET"]),
        Route("/print", print_page, methods=["GET"]),
        Route("/weather", weather_page, methods=["GET"]),
        Route("/healthz", healthz, methods=["GET"]),
        Route("/api/message", api_message, methods=["POST"]),
        Route("/api/strings", api_strings, methods=["GET"]),
        Route("/api/progress", api_progress, methods=["GET"]),
        *classroom.routes(),
        *kit.routes(),
        *teacher.routes(),
        Mount("/static", StaticFiles(directory=STATIC_DIR), name="static"),
    ]
    middleware = [
        Middleware(security.SecurityHeaders),
        Middleware(security.BodyLimit, max_bytes=MAX_BODY_BYTES),
        Middleware(auth.SameOriginForms),  # security.SameOrigin + this site's own forms
    ]
    app = Starlette(
        routes=routes,
        middleware=middleware,
        exception_handlers={404: not_found, 405: not_found},
        lifespan=lifespan,
    )
    app.state.web = web
    app.state.teacher = teacher.TeacherState(
        store=(lambda: store) if store is not None else _default_store,
        secret=secret_key,
        setup_code=setup_code if setup_code is not None else os.environ.get(auth.SETUP_CODE_ENV),
    )
    app.state.join_limiter = classroom.JoinLimiter()
    app.state.jinja = jinja_environment()
    return app


def jinja_environment() -> Environment:
    """The pages' templates; every ``{{ }}`` goes through :func:`typography.finalize`
    (French spacing before ``: ; ! ?`` and inside ``« »``)."""
    env = Environment(
        loader=FileSystemLoader(str(TEMPLATES_DIR)),
        autoescape=True,
        trim_blocks=True,
        lstrip_blocks=True,
        finalize=typography.finalize,
    )
    env.globals["colon"] = typography.template_colon
    return env
