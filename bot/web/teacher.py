"""The teachers' pages: first-run account, sign-in, class sessions, the live
dashboard, the lesson plan, the QR code and projector mode.

Routes (``docs/teachers.md``):

==========================================  =========================================
``GET/POST /teacher/setup``                  first teacher account (only while none exists)
``GET/POST /teacher/login``, ``POST /teacher/logout``
``GET /teacher``                             my sessions + "start a class session" form
``POST /teacher/class``                      start a session -> its dashboard
``GET /teacher/class/<code>``                live dashboard (counts only)
``GET /teacher/class/<code>/data.json``      the dashboard's figures (polled by teacher.js)
``GET /teacher/class/<code>/qr.svg``         QR code to ``/?class=CODE&lang=..``
``GET /teacher/class/<code>/plan``           printable lesson plan (``?lang=``, ``?country=``)
``GET/POST /teacher/class/<code>/end``       confirm, then end the session (no new joins)
``POST /teacher/class/<code>/reopen``        undo the end, for :data:`UNDO_SECONDS`
``POST /teacher/class/<code>/stories``       add a story to the session, live
``GET /teacher/class/<code>/summary``        printable end-of-lesson summary (charts)
``GET /teacher/class/<code>/export.csv``     the dashboard's figures as CSV (counts only)
``POST /teacher/class/<code>/alerts/<id>/seen``  a child's "tell my teacher": seen
``GET/POST /teacher/class/<code>/projector`` projector mode; ``projector.json`` its votes
==========================================  =========================================

A teacher reaches only their own sessions: any other code is a 404 ("none of
your classes has this code"), whether or not it exists. Every POST needs the
session's CSRF token (``bot.web.auth``). Nothing a child typed is ever read here:
the store has no such thing (``docs/storage.md``).
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import logging
import os
import threading
import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from jinja2 import Environment
from sqlalchemy.exc import SQLAlchemyError
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from bot import helplines
from bot import text as texts
from bot.storage import validate
from bot.stories.model import get_story
from bot.web import auth, lessons, security, views

if TYPE_CHECKING:
    from bot.storage.store import Store

logger = logging.getLogger("lumi.web")

DASHBOARD_REFRESH_MS = 4000
PROJECTOR_REFRESH_MS = 2000
# "End the session" can be undone for this long.
UNDO_SECONDS = 10 * 60


class Unavailable(Exception):
    """The database could not be reached."""


@dataclasses.dataclass
class TeacherState:
    """What the teacher routes share (``app.state.teacher``)."""

    store: Callable[[], Store]
    secret: str | None = None
    clock: Callable[[], float] = time.monotonic
    limiter: auth.LoginLimiter = dataclasses.field(default_factory=auth.LoginLimiter)
    _sessions: auth.Sessions | None = None
    _lock: threading.Lock = dataclasses.field(default_factory=threading.Lock)
    setup_lock: asyncio.Lock = dataclasses.field(default_factory=asyncio.Lock)
    setup_code: str | None = None  # printed by the launcher (auth.SETUP_CODE_ENV)

    def sessions(self) -> auth.Sessions:
        if self._sessions is None:
            with self._lock:
                if self._sessions is None:
                    self._sessions = auth.Sessions(self.secret or auth.secret_key())
        return self._sessions


def state(request: Request) -> TeacherState:
    found: TeacherState = request.app.state.teacher
    return found


async def db(request: Request, name: str, *args: Any, **kwargs: Any) -> Any:
    """Call a store method off the event loop; database errors become :class:`Unavailable`."""
    store = state(request).store()
    try:
        return await run_in_threadpool(getattr(store, name), *args, **kwargs)
    except SQLAlchemyError as error:
        logger.warning("teacher page: database unavailable (%s)", type(error).__name__)
        raise Unavailable from None


# --------------------------------------------------------------------------- request context


@dataclasses.dataclass
class Ctx:
    session: auth.Session
    lang: str
    dirty: bool
    username: str | None = None

    @property
    def teacher_id(self) -> int | None:
        return self.session.teacher_id if self.username is not None else None


async def context(request: Request, *, remember_lang: bool = True) -> Ctx:
    """The visitor's session (a new anonymous one when missing), language and name."""
    sessions = state(request).sessions()
    session = sessions.load(request.cookies.get(auth.COOKIE))
    dirty = session is None
    if session is None:
        session = sessions.new()
    asked = views.language(request.query_params.get("lang"))
    if asked and remember_lang and asked != session.lang:
        session.lang = asked
        dirty = True
    lang = asked or session.lang or security.accept_language(request.headers.get("accept-language"))
    ctx = Ctx(session=session, lang=lang, dirty=dirty)
    if session.teacher_id is not None:
        ctx.username = await db(request, "teacher_username", session.teacher_id)
        if ctx.username is None:  # the account is gone
            ctx.session = sessions.new(lang=session.lang)
            ctx.dirty = True
    return ctx


def secure_cookie(request: Request) -> bool:
    return request.url.scheme == "https" or os.environ.get("LUMI_COOKIE_SECURE") == "1"


def finish(request: Request, ctx: Ctx, response: Response) -> Response:
    """Set the session cookie when it changed; teacher pages are never cached."""
    if ctx.dirty:
        response.set_cookie(
            auth.COOKIE,
            state(request).sessions().dump(ctx.session),
            max_age=auth.SESSION_SECONDS,
            path=auth.COOKIE_PATH,
            httponly=True,
            samesite="lax",
            secure=secure_cookie(request),
        )
    response.headers["Cache-Control"] = "no-store"
    return response


def with_lang(request: Request, lang: str) -> str:
    params = dict(request.query_params)
    params["lang"] = lang
    return request.url.path + "?" + urlencode(params)


def page(
    request: Request,
    ctx: Ctx,
    template: str,
    *,
    status: int = 200,
    lang: str | None = None,
    **context_vars: Any,
) -> Response:
    env: Environment = request.app.state.jinja
    lang = lang or ctx.lang

    def t(key: str, **params: Any) -> str:
        return texts.t(key, lang, **params)

    other = views.other_language(lang)
    html = env.get_template(template).render(
        lang=lang,
        other_lang=other,
        t=t,
        switch_url=with_lang(request, other),
        path=request.url.path,
        csrf=ctx.session.csrf,
        csrf_field=auth.CSRF_FIELD,
        teacher_name=ctx.username,
        **context_vars,
    )
    return finish(request, ctx, HTMLResponse(html, status_code=status))


def redirect(request: Request, ctx: Ctx, url: str) -> Response:
    return finish(request, ctx, RedirectResponse(url, status_code=303))


def message_page(
    request: Request, ctx: Ctx, status: int, title_key: str, text_key: str, **params: Any
) -> Response:
    return page(
        request,
        ctx,
        "teacher/message.html",
        status=status,
        title_key=title_key,
        message=texts.t(text_key, ctx.lang, **params),
    )


def not_found_page(request: Request, ctx: Ctx) -> Response:
    return message_page(
        request, ctx, 404, "teacher.errors.not_found_title", "teacher.errors.not_found"
    )


async def checked_form(request: Request, ctx: Ctx) -> FormData | Response:
    """The POSTed form if its CSRF token and origin are right, else a 403 page."""
    form = await request.form()
    if not auth.SameOriginForms.allowed(request.scope) or not auth.csrf_ok(
        ctx.session, form.get(auth.CSRF_FIELD)
    ):
        logger.info("teacher form refused: bad CSRF token or origin")
        return message_page(request, ctx, 403, "teacher.errors.csrf_title", "teacher.errors.csrf")
    return form


def field(form: FormData, name: str) -> str:
    value = form.get(name)
    return value if isinstance(value, str) else ""


Handler = Callable[[Request, Ctx], Awaitable[Response]]


def handles_outage(handler: Callable[[Request], Awaitable[Response]]) -> Any:
    """A database outage becomes a clear 503 page (or JSON), never a stack trace."""

    async def wrapper(request: Request) -> Response:
        try:
            return await handler(request)
        except Unavailable:
            lang = views.language(request.query_params.get("lang")) or security.accept_language(
                request.headers.get("accept-language")
            )
            text = texts.t("teacher.errors.unavailable", lang)
            if request.url.path.endswith(".json"):
                return JSONResponse(
                    {"error": text}, status_code=503, headers={"Cache-Control": "no-store"}
                )
            ctx = Ctx(session=auth.Sessions.new(), lang=lang, dirty=False)
            return page(
                request,
                ctx,
                "teacher/message.html",
                status=503,
                title_key="teacher.errors.unavailable",
                message=text,
            )

    wrapper.__name__ = handler.__name__
    return wrapper


@handles_outage
async def page_not_found(request: Request) -> Response:
    """The 404 of an unknown ``/teacher/...`` address (called by the app's handler)."""
    ctx = await context(request)
    return message_page(
        request,
        ctx,
        404,
        "teacher.errors.page_not_found_title",
        "teacher.errors.page_not_found",
    )


def signed_in(handler: Handler | None = None, *, remember_lang: bool = True) -> Any:
    """Pages for a signed-in teacher; others go to the sign-in (or first-run) page.

    ``remember_lang=False``: a ``?lang=`` of this page does not become the
    teacher's language (the lesson plan is printed in either language).
    """

    def decorate(inner: Handler) -> Any:
        @handles_outage
        async def wrapper(request: Request) -> Response:
            ctx = await context(request, remember_lang=remember_lang)
            if ctx.teacher_id is None:
                path = request.url.path
                if path.endswith((".json", ".svg")):
                    return JSONResponse(
                        {"error": texts.t("teacher.errors.login_needed", ctx.lang)},
                        status_code=401,
                        headers={"Cache-Control": "no-store"},
                    )
                if request.method != "GET":
                    return redirect(request, ctx, "/teacher/login")
                if await db(request, "teacher_count") == 0:
                    return redirect(request, ctx, "/teacher/setup")
                return redirect(request, ctx, "/teacher/login?" + urlencode({"next": path}))
            return await inner(request, ctx)

        wrapper.__name__ = inner.__name__
        return wrapper

    return decorate(handler) if handler is not None else decorate


async def own_session(request: Request, ctx: Ctx) -> dict[str, Any] | None:
    code = validate.class_code(request.path_params.get("code", ""))
    if code is None or ctx.teacher_id is None:
        return None
    found: dict[str, Any] | None = await db(request, "class_session", ctx.teacher_id, code)
    return found


# --------------------------------------------------------------------------- setup, login


@handles_outage
async def setup_page(request: Request) -> Response:
    ctx = await context(request)
    if await db(request, "teacher_count") > 0:
        return message_page(
            request,
            ctx,
            404,
            "teacher.errors.page_not_found_title",
            "teacher.errors.page_not_found",
        )
    error = None
    username = ""
    status = 200
    client = request.client.host if request.client else None
    needs_code = not auth.on_this_machine(client, request.headers.get("host"))
    if request.method == "POST":
        form = await checked_form(request, ctx)
        if isinstance(form, Response):
            return form
        username = field(form, "username")
        password, again = field(form, "password"), field(form, "password_again")
        status = 400
        if needs_code:
            limiter, keys = state(request).limiter, ("setup", f"ip:{client or 'unknown'}")
            if limiter.wait(*keys) > 0:
                return _setup_page(request, ctx, 429, "teacher.setup.code_wait", username, True)
            if not auth.setup_code_ok(state(request).setup_code, field(form, "setup_code")):
                limiter.failure(*keys)
                logger.info("first-run page: wrong or missing setup code")
                known = state(request).setup_code
                key = "teacher.setup.bad_code" if known else "teacher.setup.no_code"
                return _setup_page(request, ctx, 403, key, username, True)
        try:
            validate.username(username)
        except ValueError:
            error = "teacher.setup.bad_username"
        if error is None:
            try:
                validate.password(password)
            except ValueError:
                error = "teacher.setup.bad_password"
        if error is None and password != again:
            error = "teacher.setup.mismatch"
        if error is None:
            async with state(request).setup_lock:  # one first account, even with two tabs
                if await db(request, "teacher_count") > 0:
                    return not_found_page(request, ctx)
                try:
                    teacher_id = await db(request, "create_teacher", username, password)
                except ValueError:
                    error = "teacher.setup.taken"
            if error is None:
                ctx.session = auth.Sessions.new(teacher_id=teacher_id, lang=ctx.session.lang)
                ctx.dirty = True
                logger.info("first teacher account created")
                return redirect(request, ctx, "/teacher")
    return _setup_page(request, ctx, status, error, username, needs_code)


def _setup_page(
    request: Request, ctx: Ctx, status: int, error: str | None, username: str, needs_code: bool
) -> Response:
    return page(
        request,
        ctx,
        "teacher/setup.html",
        status=status,
        error=texts.t(error, ctx.lang) if error else None,
        username=username,
        needs_code=needs_code,
    )


def _wait_text(seconds: float, lang: str) -> str:
    whole = max(1, int(-(-seconds // 1)))
    if whole < 60:
        return texts.t("teacher.login.wait_seconds", lang, n=whole)
    minutes = -(-whole // 60)
    if minutes == 1:
        return texts.t("teacher.login.wait_minute", lang)
    return texts.t("teacher.login.wait_minutes", lang, n=minutes)


def _safe_next(value: str) -> str:
    """Only a path of this site's teacher pages (no open redirect)."""
    if value.startswith("/teacher") and "//" not in value and "\\" not in value:
        return value
    return "/teacher"


@handles_outage
async def login_page(request: Request) -> Response:
    ctx = await context(request)
    if request.method == "GET":
        if ctx.teacher_id is not None:
            return redirect(request, ctx, "/teacher")
        if await db(request, "teacher_count") == 0:
            return redirect(request, ctx, "/teacher/setup")
        return page(
            request,
            ctx,
            "teacher/login.html",
            next=_safe_next(request.query_params.get("next", "/teacher")),
            notice=texts.t("teacher.login.signed_out", ctx.lang)
            if request.query_params.get("out") == "1"
            else None,
        )
    form = await checked_form(request, ctx)
    if isinstance(form, Response):
        return form
    username = field(form, "username")[:300]
    password = field(form, "password")[:1024]
    target = _safe_next(field(form, "next") or "/teacher")
    limiter = state(request).limiter
    keys = auth.login_keys(username, request.client.host if request.client else None)

    def refuse(status: int, key: str, **params: Any) -> Response:
        response = page(
            request,
            ctx,
            "teacher/login.html",
            status=status,
            error=texts.t(key, ctx.lang, **params),
            username=username,
            next=target,
        )
        if status == 429:
            response.headers["Retry-After"] = str(int(limiter.wait(*keys)) + 1)
        return response

    wait = limiter.wait(*keys)
    if wait > 0:  # locked: no password is checked at all
        logger.info("teacher sign-in refused: locked")
        return refuse(429, "teacher.login.locked", wait=_wait_text(wait, ctx.lang))
    teacher_id = await db(request, "verify_teacher", username, password)
    if teacher_id is None:
        failures, lock = limiter.failure(*keys)
        logger.info("teacher sign-in failed (%d in a row)", failures)
        if lock > 0:
            return refuse(429, "teacher.login.locked", wait=_wait_text(lock, ctx.lang))
        return refuse(401, "teacher.login.wrong")
    limiter.success(*keys)
    ctx.session = auth.Sessions.new(teacher_id=teacher_id, lang=ctx.session.lang)
    ctx.dirty = True
    logger.info("teacher signed in")
    return redirect(request, ctx, target)


@handles_outage
async def logout(request: Request) -> Response:
    ctx = await context(request)
    form = await checked_form(request, ctx)
    if isinstance(form, Response):
        return form
    state(request).sessions().revoke(ctx.session)
    ctx.session = auth.Sessions.new(lang=ctx.session.lang)
    ctx.dirty = True
    ctx.username = None
    return redirect(request, ctx, "/teacher/login?out=1")


# --------------------------------------------------------------------------- home, new session


def region(request: Request) -> str | None:
    """The country of the teacher's browser (``fr-BE`` -> ``BE``) if Lumi has its helplines."""
    for part in request.headers.get("accept-language", "").split(","):
        tag = part.split(";")[0].strip()
        if "-" in tag:
            found = helplines.known_country(tag.rsplit("-", 1)[-1].upper())
            if found and found != helplines.INTERNATIONAL:
                return found
    return None


async def _home(
    request: Request,
    ctx: Ctx,
    error: str | None = None,
    form: dict[str, Any] | None = None,
) -> Response:
    assert ctx.teacher_id is not None
    sessions = await db(request, "teacher_sessions", ctx.teacher_id)
    rows = [
        {
            **s,
            "label": lessons.session_label(s, ctx.lang),
            "date": lessons.short_date(s.get("created_at"), s.get("time_zone")),
            "language_name": lessons.language_name(s["language"], ctx.lang),
        }
        for s in sessions
    ]
    form = form or {"country": region(request), "language": ctx.lang}
    return page(
        request,
        ctx,
        "teacher/home.html",
        status=400 if error else 200,
        stories=lessons.story_cards(ctx.lang),
        sessions=rows,
        error=error,
        form=form,
        countries=views.countries(ctx.lang),
        age_bands=lessons.AGE_BANDS,
    )


@signed_in
async def home(request: Request, ctx: Ctx) -> Response:
    return await _home(request, ctx)


@signed_in
async def new_session(request: Request, ctx: Ctx) -> Response:
    assert ctx.teacher_id is not None
    form = await checked_form(request, ctx)
    if isinstance(form, Response):
        return form
    language = views.language(field(form, "language"))
    chosen = [s for s in form.getlist("story") if isinstance(s, str)]
    band = field(form, "age_band") or None
    raw_country = field(form, "country")
    country = helplines.known_country(raw_country) if raw_country else None
    title = field(form, "title")
    known = lessons.known_story_ids()
    error = None
    try:
        clean_title = validate.session_title(title)
    except ValueError:
        clean_title, error = None, "teacher.lesson.bad_title"
    if error:
        pass
    elif language is None:
        error = "teacher.errors.bad_language"
    elif band is not None and band not in lessons.AGE_BANDS:
        error = "teacher.lesson.bad_band"
    elif raw_country and country is None:
        error = "teacher.lesson.bad_country"
    elif not chosen:
        error = "teacher.errors.no_stories"
    elif any(s not in known for s in chosen) or len(chosen) > 20:
        error = "teacher.errors.bad_stories"
    elif band is not None and not lessons.stories_in_band(chosen, band):
        error = "teacher.lesson.bad_band"
    if error:
        kept = {
            "title": title[:80],
            "language": language,
            "country": country,
            "age_band": band,
            "stories": chosen,
        }
        return await _home(request, ctx, texts.t(error, ctx.lang), kept)
    code = await db(
        request,
        "create_class_session",
        ctx.teacher_id,
        language,
        chosen,
        title=clean_title,
        country=country,
        age_band=band,
        time_zone=field(form, "time_zone") or None,
    )
    logger.info("class session started (%d stories)", len(chosen))
    return redirect(request, ctx, f"/teacher/class/{code}")


# --------------------------------------------------------------------------- dashboard


def pupils_base(request: Request) -> str:
    """Where pupils' devices reach this web app: ``LUMI_PUBLIC_URL`` behind a proxy;
    the laptop's network address (``LUMI_LAN_URL``, found by the launcher) when the
    teacher's own browser is on ``localhost``; else the address the browser used."""
    public = os.environ.get("LUMI_PUBLIC_URL", "").strip().rstrip("/")
    if public.startswith(("http://", "https://")):
        return public
    lan = os.environ.get("LUMI_LAN_URL", "").strip().rstrip("/")
    host = (request.url.hostname or "").lower()
    local = host in ("localhost", "::1") or host.startswith("127.")
    if local and lan.startswith(("http://", "https://")):
        return lan
    return str(request.base_url).rstrip("/")


def join_url(request: Request, code: str, lang: str) -> str:
    """The address children open (and the QR code holds): :func:`pupils_base`."""
    return pupils_base(request) + "/?" + urlencode({"class": code, "lang": lang})


def undo_until(info: dict[str, Any], now: dt.datetime) -> dt.datetime | None:
    """Until when an ended session can still be opened again (None: open, or too late)."""
    if info["status"] != "ended" or not info.get("ended_at"):
        return None
    until = dt.datetime.fromisoformat(info["ended_at"]) + dt.timedelta(seconds=UNDO_SECONDS)
    return until if until > now else None


async def _dashboard_data(request: Request, ctx: Ctx, info: dict[str, Any]) -> dict[str, Any]:
    assert ctx.teacher_id is not None
    lang = views.language(request.query_params.get("lang")) or ctx.lang
    raw = await db(request, "class_dashboard", ctx.teacher_id, info["code"])
    alerts = await db(request, "class_alerts", ctx.teacher_id, info["code"])
    view = lessons.dashboard_view(raw, lang)
    view["alerts"] = lessons.alerts_view(alerts or [], info, lang)
    return view


@signed_in
async def dashboard(request: Request, ctx: Ctx) -> Response:
    assert ctx.teacher_id is not None
    info = await own_session(request, ctx)
    if info is None:
        return not_found_page(request, ctx)
    view = await _dashboard_data(request, ctx, info)
    until = undo_until(info, await db(request, "now"))
    done = request.query_params.get("done")
    notice = None
    if done in ("reopened", "too_late"):
        notice = texts.t(f"teacher.lesson.{done}", ctx.lang, minutes=UNDO_SECONDS // 60)
    elif done == "added":
        story = get_story(request.query_params.get("story"))
        if story is not None:
            notice = texts.t(
                "teacher.lesson.added", ctx.lang, title=texts.t(story.key("title"), ctx.lang)
            )
    zone = info.get("time_zone")
    return page(
        request,
        ctx,
        "teacher/dashboard.html",
        info=info,
        view=view,
        label=lessons.session_label(info, ctx.lang),
        meta=lessons.session_meta(info, ctx.lang),
        join_url=join_url(request, info["code"], info["language"]),
        refresh_ms=DASHBOARD_REFRESH_MS,
        cell_label=lambda c: lessons.cell_label(c, ctx.lang),
        date=lessons.short_date(info.get("created_at"), zone),
        addable=lessons.addable_stories(info, ctx.lang),
        class_stories=lessons.story_cards(ctx.lang, info["story_ids"]),
        undo_until=lessons.short_time(until.isoformat(), zone) if until else None,
        ended_time=lessons.short_time(info.get("ended_at"), zone),
        notice=notice,
    )


@signed_in
async def end_confirm(request: Request, ctx: Ctx) -> Response:
    """``GET .../end``: "End the session?" (a one-click accident is not possible)."""
    info = await own_session(request, ctx)
    if info is None:
        return not_found_page(request, ctx)
    if info["status"] != "open":
        return redirect(request, ctx, f"/teacher/class/{info['code']}")
    return page(
        request,
        ctx,
        "teacher/end.html",
        info=info,
        label=lessons.session_label(info, ctx.lang),
        minutes=UNDO_SECONDS // 60,
    )


@signed_in
async def reopen_session(request: Request, ctx: Ctx) -> Response:
    assert ctx.teacher_id is not None
    form = await checked_form(request, ctx)
    if isinstance(form, Response):
        return form
    info = await own_session(request, ctx)
    if info is None:
        return not_found_page(request, ctx)
    done = "reopened"
    if info["status"] == "ended":
        if await db(request, "reopen_class_session", ctx.teacher_id, info["code"], UNDO_SECONDS):
            logger.info("class session opened again (undo)")
        else:
            done = "too_late"
    return redirect(request, ctx, f"/teacher/class/{info['code']}?done={done}")


@signed_in
async def add_story(request: Request, ctx: Ctx) -> Response:
    assert ctx.teacher_id is not None
    form = await checked_form(request, ctx)
    if isinstance(form, Response):
        return form
    info = await own_session(request, ctx)
    if info is None:
        return not_found_page(request, ctx)
    story_id = field(form, "story")
    allowed = {card["id"] for card in lessons.addable_stories(info, ctx.lang)}
    back = f"/teacher/class/{info['code']}"
    if story_id in allowed and await db(
        request, "add_class_story", ctx.teacher_id, info["code"], story_id
    ):
        logger.info("a story was added to a class session")
        return redirect(request, ctx, back + "?" + urlencode({"done": "added", "story": story_id}))
    return redirect(request, ctx, back)


@signed_in
async def alert_seen(request: Request, ctx: Ctx) -> Response:
    """The teacher marks a child's "I'd like to talk" as seen: it leaves the dashboard."""
    assert ctx.teacher_id is not None
    form = await checked_form(request, ctx)
    if isinstance(form, Response):
        return form
    info = await own_session(request, ctx)
    if info is None:
        return not_found_page(request, ctx)
    raw = request.path_params.get("alert", "")
    if raw.isdigit() and len(raw) < 12:
        await db(request, "mark_alert_seen", ctx.teacher_id, info["code"], int(raw))
    return redirect(request, ctx, f"/teacher/class/{info['code']}")


@signed_in(remember_lang=False)
async def summary(request: Request, ctx: Ctx) -> Response:
    """The printable end-of-lesson summary: the dashboard's charts and tables."""
    assert ctx.teacher_id is not None
    info = await own_session(request, ctx)
    if info is None:
        return not_found_page(request, ctx)
    lang = views.language(request.query_params.get("lang")) or ctx.lang
    raw = await db(request, "class_dashboard", ctx.teacher_id, info["code"])
    view = lessons.dashboard_view(raw, lang)
    zone = info.get("time_zone")
    now = await db(request, "now")
    return page(
        request,
        ctx,
        "teacher/summary.html",
        lang=lang,
        info=info,
        view=view,
        label=lessons.session_label(info, lang),
        language_name=lessons.language_name(info["language"], lang),
        date=lessons.short_date(info.get("created_at"), zone),
        at=lessons.short_date(now.isoformat(), zone),
        cell_label=lambda c: lessons.cell_label(c, lang),
    )


@signed_in(remember_lang=False)
async def export_csv(request: Request, ctx: Ctx) -> Response:
    """The dashboard's figures as CSV: the same masked counts, never a child's words."""
    assert ctx.teacher_id is not None
    info = await own_session(request, ctx)
    if info is None:
        return not_found_page(request, ctx)
    lang = views.language(request.query_params.get("lang")) or ctx.lang
    raw = await db(request, "class_dashboard", ctx.teacher_id, info["code"])
    body = lessons.csv_text(lessons.export_rows(lessons.dashboard_view(raw, lang), lang))
    response = Response(
        body,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="lumi-class-{info["code"]}.csv"'},
    )
    return finish(request, ctx, response)


@signed_in(remember_lang=False)
async def dashboard_json(request: Request, ctx: Ctx) -> Response:
    assert ctx.teacher_id is not None
    info = await own_session(request, ctx)
    if info is None:
        return JSONResponse(
            {"error": texts.t("teacher.errors.not_found", ctx.lang)},
            status_code=404,
            headers={"Cache-Control": "no-store"},
        )
    return finish(request, ctx, JSONResponse(await _dashboard_data(request, ctx, info)))


@signed_in
async def qr_svg(request: Request, ctx: Ctx) -> Response:
    info = await own_session(request, ctx)
    if info is None:
        return not_found_page(request, ctx)
    import qrcode
    import qrcode.image.svg

    maker = qrcode.QRCode(
        error_correction=qrcode.constants.ERROR_CORRECT_M,
        box_size=10,
        border=2,
        image_factory=qrcode.image.svg.SvgPathFillImage,
    )
    maker.add_data(join_url(request, info["code"], info["language"]))
    maker.make(fit=True)
    svg = maker.make_image().to_string(encoding="unicode")
    return finish(request, ctx, Response(svg, media_type="image/svg+xml"))


@signed_in
async def end_session(request: Request, ctx: Ctx) -> Response:
    assert ctx.teacher_id is not None
    form = await checked_form(request, ctx)
    if isinstance(form, Response):
        return form
    info = await own_session(request, ctx)
    if info is None:
        return not_found_page(request, ctx)
    if await db(request, "end_class_session", ctx.teacher_id, info["code"]):
        logger.info("class session ended")
    return redirect(request, ctx, f"/teacher/class/{info['code']}")


# --------------------------------------------------------------------------- lesson plan


@signed_in(remember_lang=False)
async def plan(request: Request, ctx: Ctx) -> Response:
    info = await own_session(request, ctx)
    if info is None:
        return not_found_page(request, ctx)
    lang = views.language(request.query_params.get("lang")) or info["language"]
    asked = request.query_params.get("country")
    # the poster shows the session's country unless the teacher picks another one
    country = helplines.known_country(asked) if asked is not None else info.get("country")
    return page(
        request,
        ctx,
        "teacher/plan.html",
        lang=lang,
        info=info,
        plan=lessons.plan_view(info, lang),
        date=lessons.short_date(info.get("created_at"), info.get("time_zone"))[:10],
        countries=views.countries(lang),
        country=country,
        country_name=texts.t(f"countries.{country}", lang) if country else None,
        cards=views.helpline_cards(country, lang),
        join_url=join_url(request, info["code"], info["language"]),
    )


# --------------------------------------------------------------------------- projector


async def _projector_state(
    request: Request, ctx: Ctx, info: dict[str, Any], lang: str
) -> dict[str, Any]:
    assert ctx.teacher_id is not None
    current = await db(request, "projector", info["code"])
    votes: dict[str, int] = {}
    if current.get("step_id"):
        votes = await db(request, "vote_counts", ctx.teacher_id, info["code"], current["round"])
    return lessons.projector_view(current, votes, lang)


@signed_in(remember_lang=False)
async def projector(request: Request, ctx: Ctx) -> Response:
    info = await own_session(request, ctx)
    if info is None:
        return not_found_page(request, ctx)
    if request.method == "POST":
        return await _projector_action(request, ctx, info)
    lang = views.language(request.query_params.get("lang")) or info["language"]
    view = await _projector_state(request, ctx, info, lang)
    return page(
        request,
        ctx,
        "teacher/projector.html",
        lang=lang,
        info=info,
        view=view,
        refresh_ms=PROJECTOR_REFRESH_MS,
        cell_label=lambda c: lessons.cell_label(c, lang),
        join_url=join_url(request, info["code"], info["language"]),
    )


async def _projector_action(request: Request, ctx: Ctx, info: dict[str, Any]) -> Response:
    assert ctx.teacher_id is not None
    form = await checked_form(request, ctx)
    if isinstance(form, Response):
        return form
    back = f"/teacher/class/{info['code']}/projector"
    asked = views.language(request.query_params.get("lang"))
    if asked:
        back += f"?lang={asked}"
    if info["status"] != "open":
        return message_page(request, ctx, 409, "teacher.projector.ended", "teacher.errors.ended")
    action = field(form, "action")
    current = await db(request, "projector", info["code"])
    if action == "start":
        story_id = field(form, "story")
        story = get_story(story_id) if story_id in info["story_ids"] else None
        if story is not None:
            await db(request, "projector_show", ctx.teacher_id, info["code"], story.id, story.start)
    elif action == "reveal":
        await db(request, "projector_reveal", ctx.teacher_id, info["code"])
    elif action == "next" and current.get("step_id"):
        choice = field(form, "choice")
        if choice == "majority":
            votes = await db(request, "vote_counts", ctx.teacher_id, info["code"], current["round"])
            story = get_story(current["story_id"])
            step = story.step(current["step_id"]) if story else None
            if step is not None:
                choice = lessons.majority(step, votes) or (
                    step.choices[0].id if step.choices else ""
                )
        target = lessons.next_step(current, choice)
        if target is not None:
            await db(request, "projector_show", ctx.teacher_id, info["code"], *target)
    elif action == "stop":
        await db(request, "projector_show", ctx.teacher_id, info["code"], None, None)
    return redirect(request, ctx, back)


@signed_in(remember_lang=False)
async def projector_json(request: Request, ctx: Ctx) -> Response:
    info = await own_session(request, ctx)
    if info is None:
        return JSONResponse(
            {"error": texts.t("teacher.errors.not_found", ctx.lang)},
            status_code=404,
            headers={"Cache-Control": "no-store"},
        )
    lang = views.language(request.query_params.get("lang")) or info["language"]
    view = await _projector_state(request, ctx, info, lang)
    data = {
        "round": view["round"],
        "revealed": view["revealed"],
        "step_id": view.get("step_id"),
        "total": view.get("total"),
        "total_label": _votes_label(view.get("total"), lang),
        "leaders": view.get("leaders", []) if view["revealed"] else [],
        "choices": [
            {
                "id": c["id"],
                "letter": c["letter"],
                "votes": c["votes"],
                "label": lessons.cell_label(c["votes"], lang),
                "bar": c["bar"],
            }
            for c in view.get("choices", [])
        ],
    }
    return finish(request, ctx, JSONResponse(data))


def _votes_label(total: dict[str, Any] | None, lang: str) -> str:
    if not total:
        return ""
    if total["few"]:
        return texts.t("teacher.projector.votes_few", lang)
    return texts.t("teacher.projector.votes_total", lang, n=total["count"])


def routes() -> list[Route]:
    code = "/teacher/class/{code:str}"
    return [
        Route("/teacher", home, methods=["GET"]),
        Route("/teacher/", home, methods=["GET"]),
        Route("/teacher/setup", setup_page, methods=["GET", "POST"]),
        Route("/teacher/login", login_page, methods=["GET", "POST"]),
        Route("/teacher/logout", logout, methods=["POST"]),
        Route("/teacher/class", new_session, methods=["POST"]),
        Route(code, dashboard, methods=["GET"]),
        Route(code + "/data.json", dashboard_json, methods=["GET"]),
        Route(code + "/qr.svg", qr_svg, methods=["GET"]),
        Route(code + "/plan", plan, methods=["GET"]),
        Route(code + "/end", end_confirm, methods=["GET"]),
        Route(code + "/end", end_session, methods=["POST"]),
        Route(code + "/reopen", reopen_session, methods=["POST"]),
        Route(code + "/stories", add_story, methods=["POST"]),
        Route(code + "/summary", summary, methods=["GET"]),
        Route(code + "/export.csv", export_csv, methods=["GET"]),
        Route(code + "/alerts/{alert:str}/seen", alert_seen, methods=["POST"]),
        Route(code + "/projector", projector, methods=["GET", "POST"]),
        Route(code + "/projector.json", projector_json, methods=["GET"]),
    ]


__all__ = ["TeacherState", "page_not_found", "routes"]
