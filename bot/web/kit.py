"""The certificate and the parents' kit: printable family guide, family
agreement, and the settings of the apps children use (``docs/web.md``).

- ``GET /certificate?learner=&lang=`` the child's certificate: badges and
  stories from ``bot.storage.progress`` (pseudonymous id), the date, and a
  first name the child types on the page: the script puts it on the
  certificate and never sends or stores it (no form is submitted).
- ``GET /parents/guide``, ``/parents/agreement``, ``/parents/apps``: the kit,
  printable, in both languages (words from ``locales/web.*.yml``, tricks from
  ``locales/tactics.*.yml``, app settings from ``bot.app_settings``).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from bot import app_settings
from bot import text as texts
from bot.tactics import TACTICS
from bot.web import views

# The agreement's lines, in order (their words are in locales/web.*.yml).
CHILD_PROMISES = ("tell", "private", "photos", "apps", "meet", "gifts", "screenshots")
ADULT_PROMISES = ("calm", "blame", "device", "help", "settings", "play")
FOUR_REPLIES = ("boundary", "no", "trick", "leave")


def long_date(day: dt.date, lang: str) -> str:
    """ "6 December 2026" / "6 décembre 2026" (month names from the locales)."""
    months = texts.t("web.certificate.months", lang).split("|")
    return texts.t(
        "web.certificate.date_format",
        lang,
        day=str(day.day),
        month=months[day.month - 1],
        year=str(day.year),
    )


def tricks(lang: str) -> list[dict[str, str]]:
    """Every trick with its name, what it looks like and what to do."""
    return [
        {
            "id": t,
            "name": texts.t(f"tactics.{t}.name", lang),
            "explain": texts.t(f"tactics.{t}.explain", lang),
            "todo": texts.t(f"tactics.{t}.todo", lang),
        }
        for t in TACTICS
    ]


def _render(request: Request, template: str, status: int = 200, **context: Any) -> Response:
    from bot.web.app import page_language, render

    return render(request, template, page_language(request), status=status, **context)


async def certificate_page(request: Request) -> Response:
    from bot.web.app import config, page_language

    lang = page_language(request)
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
    today = dt.date.today()
    return _render(
        request,
        "certificate.html",
        status=status,
        bad_learner=status == 400,
        progress=progress,
        date_iso=today.isoformat(),
        date_text=long_date(today, lang),
    )


async def guide_page(request: Request) -> Response:
    from bot.web.app import page_language

    lang = page_language(request)
    return _render(
        request,
        "guide.html",
        tricks=tricks(lang),
        replies=FOUR_REPLIES,
        sections=views.PARENT_SECTIONS,
    )


async def agreement_page(request: Request) -> Response:
    return _render(
        request, "agreement.html", child_promises=CHILD_PROMISES, adult_promises=ADULT_PROMISES
    )


async def apps_page(request: Request) -> Response:
    from bot.web.app import page_language

    lang = page_language(request)
    apps = await run_in_threadpool(app_settings.views, lang)
    for app in apps:
        for setting in app["settings"]:
            setting["checked_text"] = long_date(dt.date.fromisoformat(setting["checked"]), lang)
    return _render(request, "apps.html", apps=apps)


def routes() -> list[Route]:
    return [
        Route("/certificate", certificate_page, methods=["GET"]),
        Route("/parents/guide", guide_page, methods=["GET"]),
        Route("/parents/agreement", agreement_page, methods=["GET"]),
        Route("/parents/apps", apps_page, methods=["GET"]),
    ]
