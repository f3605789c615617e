"""The children's side of a class session: join with a code, the projector's vote.

- ``POST /api/class/join`` ``{"sender", "code", "lang"}``: the code is checked
  (malformed 400, unknown 404, ended 410, each with a clear sentence in the
  child's language); an open session gives the child a pseudonym ("Blue Fox" /
  "Renard bleu", in the class language, unique in the session) and the
  session's stories. No name is ever asked. Wrong codes are limited per child
  and, generously, per client address (a class shares one address).
- ``GET /api/class/poll?code=&learner=``: what the vote panel shows (the step's
  question and choices while the teacher's projector waits for votes); never
  anyone's votes.
- ``POST /api/class/vote`` ``{"sender", "code", "round", "choice"}``: one vote per
  child per step (a second vote in the same round replaces the first).

Errors are ``{"error": ..., "messages": [{"text": ...}]}`` like the chat proxy.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from sqlalchemy.exc import SQLAlchemyError
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from bot import text as texts
from bot.conversation import payload
from bot.storage import validate
from bot.stories.model import get_story
from bot.web import auth, lessons, security, views

logger = logging.getLogger("lumi.web")

MAX_BODY = 2048


class JoinLimiter(auth.LoginLimiter):
    """Wrong class codes: 10 free per child (device), 300 per client address (a
    whole school may share one), then 1 to 5 minutes. Guessing one of the
    31**6 codes stays out of reach either way."""

    FREE_FAILURES = 10
    FREE_BY_PREFIX = {"ip:": 300}
    FIRST_LOCK = 60.0
    MAX_LOCK = 300.0
    FORGET_AFTER = 600.0


def _lang(request: Request, body: dict[str, Any] | None = None) -> str:
    asked = views.language((body or {}).get("lang")) or views.language(
        request.query_params.get("lang")
    )
    return asked or security.accept_language(request.headers.get("accept-language"))


def _error(http_status: int, key: str, lang: str, **extra: Any) -> JSONResponse:
    text = texts.t(key, lang)
    return JSONResponse(
        {"error": text, "messages": [{"text": text}], **extra},
        status_code=http_status,
        headers={"Cache-Control": "no-store"},
    )


def _ok(data: dict[str, Any]) -> JSONResponse:
    return JSONResponse(data, headers={"Cache-Control": "no-store"})


async def _body(request: Request) -> dict[str, Any] | None:
    raw = b""
    async for chunk in request.stream():
        raw += chunk
        if len(raw) > MAX_BODY:
            return None
    try:
        body = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        return None
    return body if isinstance(body, dict) else None


async def _store(request: Request, name: str, *args: Any, **kwargs: Any) -> Any:
    store = request.app.state.teacher.store()
    return await run_in_threadpool(getattr(store, name), *args, **kwargs)


def _limiter(request: Request) -> JoinLimiter:
    limiter: JoinLimiter = request.app.state.join_limiter
    return limiter


def class_stories(result: dict[str, Any]) -> list[dict[str, Any]]:
    """The session's stories as the class panel shows them, in the class language."""
    lang = result["language"]
    return [
        {
            "id": card["id"],
            "title": card["title"],
            "ages": card["ages"],
            "payload": payload("start_story", story_id=card["id"]),
        }
        for card in lessons.story_cards(lang, result.get("story_ids", []))
    ]


def join_reply(result: dict[str, Any]) -> dict[str, Any]:
    """What the page needs after joining: pseudonym, stories and the lesson's country."""
    lang = result["language"]
    return {
        "status": "open",
        "code": result["code"],
        "language": lang,
        "country": result.get("country"),
        "pseudonym": lessons.pseudonym_label(result["pseudonym"], lang),
        "stories": class_stories(result),
    }


async def join(request: Request) -> Response:
    body = await _body(request)
    lang = _lang(request, body)
    if body is None:
        return _error(400, "web.errors.bad_body", lang)
    sender = views.valid_learner(body.get("sender"))
    if sender is None:
        return _error(400, "web.errors.bad_sender", lang)
    address = request.client.host if request.client else None
    keys = (f"ip:{address or 'unknown'}", f"learner:{sender}")
    limiter = _limiter(request)
    if limiter.wait(*keys) > 0:
        return _error(429, "web.class.too_many", lang)
    raw = body.get("code")
    code = validate.class_code(raw) if isinstance(raw, str) else None
    if code is None:
        limiter.failure(*keys)
        return _error(400, "web.class.bad_code", lang)
    try:
        result = await _store(request, "join_class_as", code, sender)
    except (SQLAlchemyError, RuntimeError) as error:
        logger.warning("class join failed (%s)", type(error).__name__)
        return _error(503, "web.class.unavailable", lang)
    if result["status"] == "unknown":
        limiter.failure(*keys)
        logger.info("class join refused: unknown code")
        return _error(404, "web.class.unknown", lang, status="unknown")
    if result["status"] == "ended":
        logger.info("class join refused: session ended")
        return _error(410, "web.class.ended", lang, status="ended")
    logger.info("a child joined a class session")
    return _ok(join_reply(result))


async def poll(request: Request) -> Response:
    lang = _lang(request)
    learner = views.valid_learner(request.query_params.get("learner"))
    code = validate.class_code(request.query_params.get("code") or "")
    if learner is None or code is None:
        return _error(400, "web.errors.bad_sender", lang)
    try:
        member = await _store(request, "membership", code, learner)
        if member is None:
            return _error(404, "web.class.not_member", lang, status="not_member")
        if member["status"] != "open":
            return _ok({"status": "ended"})
        current = await _store(request, "projector", code)
        voted = None
        if current and current.get("step_id"):
            voted = await _store(request, "my_vote", code, learner, current["round"])
    except SQLAlchemyError as error:
        logger.warning("class poll failed (%s)", type(error).__name__)
        return _error(503, "web.class.unavailable", lang)
    view = lessons.poll_view(current or {}, voted, member["language"])
    view["stories"] = class_stories(member)  # a story added live reaches the class panel
    return _ok(view)


async def vote(request: Request) -> Response:
    body = await _body(request)
    lang = _lang(request, body)
    if body is None:
        return _error(400, "web.errors.bad_body", lang)
    sender = views.valid_learner(body.get("sender"))
    raw_code = body.get("code")
    code = validate.class_code(raw_code) if isinstance(raw_code, str) else None
    poll_round = body.get("round")
    choice = body.get("choice")
    if sender is None or code is None:
        return _error(400, "web.errors.bad_sender", lang)
    bad_round = isinstance(poll_round, bool) or not isinstance(poll_round, int)
    if bad_round or not isinstance(choice, str):
        return _error(400, "web.class.bad_vote", lang)
    try:
        current = await _store(request, "projector", code)
        story = get_story(current.get("story_id")) if current else None
        step = story.step(current.get("step_id")) if story and current else None
        if step is None or step.choice(choice) is None:
            return _error(409, "web.class.vote_closed", lang, status="closed")
        outcome = await _store(request, "cast_vote", code, sender, poll_round, choice)
    except SQLAlchemyError as error:
        logger.warning("class vote failed (%s)", type(error).__name__)
        return _error(503, "web.class.unavailable", lang)
    if outcome == "ok":
        return _ok({"status": "ok", "round": poll_round, "voted": choice})
    http_status, key = {
        "unknown": (404, "web.class.unknown"),
        "ended": (410, "web.class.ended"),
        "not_member": (403, "web.class.not_member"),
    }.get(outcome, (409, "web.class.vote_closed"))
    return _error(http_status, key, lang, status=outcome)


def routes() -> list[Route]:
    return [
        Route("/api/class/join", join, methods=["POST"]),
        Route("/api/class/poll", poll, methods=["GET"]),
        Route("/api/class/vote", vote, methods=["POST"]),
    ]
