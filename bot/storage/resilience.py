"""Chat-path calls never raise: bounded retries, then skip with one log line.

A child's conversation must go on when the database is down, locked or slow.
Functions decorated with :func:`chat_safe` (the store's ``ensure_learner``,
``record_story_end``, ``award_badge``, ``record_quiz_answer``, ``progress``):

- retry transient database errors (down, locked, timeouts) a few times within
  a fixed budget (``Policy``: at most 3 attempts, 0.7 s in all by default);
- then give up: return their failure value (``None`` or ``False``) and write
  ONE warning line on the ``lumi.storage`` logger naming the call, the number
  of attempts, the time spent and the error class — never the error text
  (drivers quote parameters in it), never message text, and the learner id
  cut to its first 4 characters;
- after a failure the store stays "cooling down" for ``Policy.cooldown_s``:
  calls skip at once (still one line each) so a database outage does not add
  a second to every chat turn;
- refuse invalid input (``ValueError`` from ``bot.storage.validate``) at once,
  with one line, without retrying.

While a chat-path call runs, :func:`in_chat_path` is true and the store uses
short lock timeouts (``engine.CHAT_BUSY_MS``).
"""

from __future__ import annotations

import contextvars
import functools
import inspect
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar, cast

from sqlalchemy import exc as sa_exc

log = logging.getLogger("lumi.storage")

F = TypeVar("F", bound=Callable[..., Any])

_chat_path: contextvars.ContextVar[bool] = contextvars.ContextVar("lumi_chat_path", default=False)


def in_chat_path() -> bool:
    return _chat_path.get()


def short_id(value: object) -> str:
    """A learner id as it may appear in logs: its first 4 characters."""
    if not isinstance(value, str) or not value:
        return "-"
    return value[:4] + "…"


def is_transient(error: BaseException) -> bool:
    """Database down, locked, timed out or disconnected: worth another try."""
    if isinstance(error, sa_exc.DBAPIError) and error.connection_invalidated:
        return True
    return isinstance(
        error,
        (
            sa_exc.OperationalError,
            sa_exc.InterfaceError,
            sa_exc.TimeoutError,
            sa_exc.DisconnectionError,
        ),
    )


@dataclass(frozen=True)
class Policy:
    """Retry policy of chat-path calls.

    Another attempt is made only if it can end within ``budget_s`` even when
    it waits the full lock timeout (``attempt_s``, the chat-path
    ``engine.CHAT_BUSY_MS``): a locked database is given up after about 0.5 s,
    a refused connection after 3 quick attempts.
    """

    attempts: int = 3
    budget_s: float = 0.7
    attempt_s: float = 0.25
    backoff_s: tuple[float, ...] = (0.02, 0.05)
    cooldown_s: float = 2.0


class Resilience:
    """Retry policy plus the "cooling down" state after a failure (one per store)."""

    def __init__(self, policy: Policy | None = None) -> None:
        self.policy = policy or Policy()
        self._lock = threading.Lock()
        self._failed_at: float | None = None

    def cooling_down(self) -> float | None:
        """Seconds since the last failure while still cooling down, else None."""
        with self._lock:
            if self._failed_at is None:
                return None
            since = time.monotonic() - self._failed_at
            if since >= self.policy.cooldown_s:
                self._failed_at = None
                return None
            return since

    def failed(self) -> None:
        with self._lock:
            self._failed_at = time.monotonic()

    def succeeded(self) -> None:
        with self._lock:
            self._failed_at = None

    def call(
        self,
        name: str,
        func: Callable[..., Any],
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
        *,
        default: Any,
        learner: object = None,
    ) -> Any:
        who = f" for learner {short_id(learner)}" if learner is not None else ""
        since = self.cooling_down()
        if since is not None:
            log.warning(
                "storage unavailable: %s skipped%s (database failed %.1f s ago, "
                "next try in %.1f s)",
                name,
                who,
                since,
                self.policy.cooldown_s - since,
            )
            return default
        policy = self.policy
        start = time.monotonic()
        attempt = 0
        token = _chat_path.set(True)
        try:
            while True:
                attempt += 1
                try:
                    result = func(*args, **kwargs)
                except ValueError as error:
                    log.warning("storage refused %s%s: invalid input (%s)", name, who, error)
                    return default
                except Exception as error:  # noqa: BLE001 - the chat path never raises
                    elapsed = time.monotonic() - start
                    pause = policy.backoff_s[min(attempt - 1, len(policy.backoff_s) - 1)]
                    if (
                        is_transient(error)
                        and attempt < policy.attempts
                        and elapsed + pause + policy.attempt_s <= policy.budget_s
                    ):
                        time.sleep(pause)
                        continue
                    if is_transient(error):
                        self.failed()
                        log.warning(
                            "storage unavailable: %s skipped%s after %d attempt(s) in %.3f s "
                            "(%s); nothing saved, the conversation goes on",
                            name,
                            who,
                            attempt,
                            elapsed,
                            type(error).__name__,
                        )
                    else:
                        log.warning(
                            "storage error: %s skipped%s after %d attempt(s) in %.3f s (%s)",
                            name,
                            who,
                            attempt,
                            elapsed,
                            type(error).__name__,
                        )
                    return default
                else:
                    if attempt > 1:
                        log.debug("storage: %s succeeded on attempt %d", name, attempt)
                    self.succeeded()
                    return result
        finally:
            _chat_path.reset(token)


_shared = Resilience()


def chat_safe(default: Any = None) -> Callable[[F], F]:
    """Decorator for chat-path calls: never raises, returns ``default`` on failure.

    On a method, the instance's ``resilience`` attribute (a :class:`Resilience`)
    is used; on a plain function, one shared instance. The argument named
    ``learner_id`` (if any) is shown truncated in the log line.
    """

    def decorate(func: F) -> F:
        signature = inspect.signature(func)
        has_learner = "learner_id" in signature.parameters

        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            learner = None
            if has_learner:
                try:
                    learner = signature.bind_partial(*args, **kwargs).arguments.get("learner_id")
                except TypeError:
                    learner = None
            owner = getattr(args[0], "resilience", None) if args else None
            resilience = owner if isinstance(owner, Resilience) else _shared
            return resilience.call(
                func.__name__, func, args, kwargs, default=default, learner=learner
            )

        return cast(F, wrapper)

    return decorate
