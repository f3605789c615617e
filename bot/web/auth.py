"""Teachers' sign-in: the secret key, signed session cookies, CSRF tokens, login limits.

- **Secret key**: env ``LUMI_SECRET_KEY`` (32 characters or more), else the file
  ``var/secret_key``, generated at first use with 0600 permissions (written to a
  temporary file, then linked into place, so two processes starting at once end
  up with the same key). Never in the code, never logged.
- **Sessions**: one cookie, ``lumi_teacher``, signed with the key
  (``itsdangerous``, timestamped, 12 hours), ``HttpOnly``, ``SameSite=Lax``,
  ``Path=/teacher``, ``Secure`` over HTTPS (or with ``LUMI_COOKIE_SECURE=1``
  behind a proxy). It holds a random session id, the CSRF token, the teacher's
  id once signed in, and the page language; nothing else. Signing in gives a
  new session id and token (no fixation); signing out revokes the id (kept in
  memory until it would have expired anyway).
- **CSRF**: every form carries the session's token in a hidden field
  (``csrf_token``); every POST is checked against it in constant time (and the
  app's ``SameOrigin`` middleware refuses another site's ``Origin``).
- **Login limits**: per user name (whether or not it exists) and, far more
  generously, per client address, since a whole school can share one address.
  Five failures in a row for one account are free; each further one locks
  signing in to it for 30 s, then 60 s, 2, 4, 8 minutes, at most 15 minutes
  (a guessing attack on one teacher gets about 20 tries an hour). One address
  gets 50 free failures (many accounts tried from one machine), then the same
  growing locks. While locked no password is checked. A success clears both
  counters; failures are forgotten an hour after the last one.
- **Setup code**: the first-run page creates an account only from the machine
  Lumi runs on, or with the one-time code the launcher prints
  (``LUMI_SETUP_CODE``), the way Jupyter prints its token.
"""

from __future__ import annotations

import dataclasses
import hmac
import logging
import os
import secrets
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from itsdangerous import BadSignature, URLSafeTimedSerializer

from bot.paths import var_dir
from bot.web import security

logger = logging.getLogger("lumi.web")

SECRET_ENV = "LUMI_SECRET_KEY"  # noqa: S105 (the name of the variable, not a secret)
SECRET_FILE = "secret_key"  # noqa: S105 (a file name)
MIN_SECRET_CHARS = 32
COOKIE = "lumi_teacher"
COOKIE_PATH = "/teacher"
SESSION_SECONDS = 12 * 3600  # a school day
CSRF_FIELD = "csrf_token"
_SALT = "lumi.teacher.session.v1"


# --------------------------------------------------------------------------- secret key


class SecretKeyError(RuntimeError):
    pass


def secret_key(directory: Path | None = None) -> str:
    """``LUMI_SECRET_KEY``, else ``var/secret_key`` (made at first use, mode 0600)."""
    from_env = os.environ.get(SECRET_ENV, "").strip()
    if from_env:
        if len(from_env) < MIN_SECRET_CHARS:
            raise SecretKeyError(f"{SECRET_ENV} must be at least {MIN_SECRET_CHARS} characters")
        return from_env
    folder = directory or var_dir()
    path = folder / SECRET_FILE
    if not path.exists():
        _create_secret_file(path)
    mode = path.stat().st_mode & 0o777
    if mode & 0o077:
        logger.warning("secret key file was readable by others; setting its mode to 600")
        os.chmod(path, 0o600)
    key = path.read_text(encoding="ascii").strip()
    if len(key) < MIN_SECRET_CHARS:
        raise SecretKeyError(f"{path} holds no usable key: delete it to make a new one")
    return key


def _create_secret_file(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temp = path.with_name(f".{SECRET_FILE}.{os.getpid()}.{secrets.token_hex(4)}")
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="ascii") as out:
            out.write(secrets.token_urlsafe(48) + "\n")
        try:
            os.link(temp, path)  # atomic: fails if another process made it first
            logger.info("made a new secret key file in the var directory")
        except FileExistsError:
            pass
    finally:
        temp.unlink(missing_ok=True)


# --------------------------------------------------------------------------- sessions


@dataclasses.dataclass
class Session:
    sid: str
    csrf: str
    teacher_id: int | None = None
    lang: str | None = None


class Sessions:
    """Signed cookie sessions (see the module docstring)."""

    def __init__(
        self,
        secret: str,
        *,
        max_age: int = SESSION_SECONDS,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._serializer = URLSafeTimedSerializer(secret, salt=_SALT)
        self.max_age = max_age
        self._clock = clock
        self._revoked: dict[str, float] = {}
        self._lock = threading.Lock()

    @staticmethod
    def new(teacher_id: int | None = None, lang: str | None = None) -> Session:
        return Session(
            sid=secrets.token_urlsafe(18),
            csrf=secrets.token_urlsafe(32),
            teacher_id=teacher_id,
            lang=lang,
        )

    def dump(self, session: Session) -> str:
        data = {"s": session.sid, "c": session.csrf, "t": session.teacher_id, "l": session.lang}
        return str(self._serializer.dumps(data))

    def load(self, raw: str | None) -> Session | None:
        if not raw or len(raw) > 4096:
            return None
        try:
            data: Any = self._serializer.loads(raw, max_age=self.max_age)
        except (BadSignature, ValueError, TypeError):
            return None
        if not isinstance(data, dict):
            return None
        sid, csrf, teacher, lang = data.get("s"), data.get("c"), data.get("t"), data.get("l")
        if not isinstance(sid, str) or not isinstance(csrf, str) or len(csrf) < 32:
            return None
        if teacher is not None and (isinstance(teacher, bool) or not isinstance(teacher, int)):
            return None
        if lang is not None and not isinstance(lang, str):
            return None
        with self._lock:
            if sid in self._revoked:
                return None
        return Session(sid=sid, csrf=csrf, teacher_id=teacher, lang=lang)

    def revoke(self, session: Session) -> None:
        now = self._clock()
        with self._lock:
            self._revoked = {s: t for s, t in self._revoked.items() if t > now}
            self._revoked[session.sid] = now + self.max_age


def csrf_ok(session: Session | None, token: object) -> bool:
    if session is None or not isinstance(token, str) or not token:
        return False
    return hmac.compare_digest(token.encode(), session.csrf.encode())


class SameOriginForms(security.SameOrigin):
    """:class:`security.SameOrigin`, also letting through this site's own HTML forms.

    A page served with ``Referrer-Policy: no-referrer`` (ours were; some
    browsers' privacy modes still do it) makes a browser submitting a form send
    ``Origin: null`` (the Fetch standard's rule for
    navigations under that policy). Such a POST is allowed only when the browser
    also says ``Sec-Fetch-Site: same-origin``, a header no other site can set;
    another site's form (or a sandboxed frame) says ``cross-site``. The teacher
    forms carry a CSRF token on top of this.
    """

    @staticmethod
    def allowed(scope: security.Scope) -> bool:
        origin = security.header(scope, b"origin")
        site = (security.header(scope, b"sec-fetch-site") or "").lower()
        if origin == "null":
            return site == "same-origin"
        return security.SameOrigin.allowed(scope)


# --------------------------------------------------------------------------- login limits


@dataclasses.dataclass
class _Entry:
    failures: int = 0
    locked_until: float = 0.0
    last_failure: float = 0.0


class LoginLimiter:
    """Failures in a row per key (``user:<name>``, ``ip:<address>``), with growing locks.

    ``FREE_BY_PREFIX`` gives some kinds of key more free failures than
    ``FREE_FAILURES`` (an address is shared by a whole class)."""

    FREE_FAILURES = 5
    FREE_BY_PREFIX: dict[str, int] = {"ip:": 50}
    FIRST_LOCK = 30.0
    MAX_LOCK = 15 * 60.0
    FORGET_AFTER = 3600.0
    MAX_KEYS = 10_000

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._entries: dict[str, _Entry] = {}
        self._lock = threading.Lock()

    def free_failures(self, key: str = "") -> int:
        for prefix, free in self.FREE_BY_PREFIX.items():
            if key.startswith(prefix):
                return free
        return self.FREE_FAILURES

    def lock_seconds(self, failures: int, key: str = "") -> float:
        """The lock after this many failures in a row (0 while they are free)."""
        free = self.free_failures(key)
        if failures < free:
            return 0.0
        return float(min(self.FIRST_LOCK * 2 ** (failures - free), self.MAX_LOCK))

    def _entry(self, key: str, now: float) -> _Entry | None:
        entry = self._entries.get(key)
        forgotten = now - entry.last_failure > self.FORGET_AFTER if entry else False
        if entry is not None and entry.locked_until <= now and forgotten:
            del self._entries[key]
            return None
        return entry

    def wait(self, *keys: str) -> float:
        """Seconds before another attempt is allowed (0: go ahead)."""
        now = self._clock()
        with self._lock:
            waits = [e.locked_until - now for k in keys if (e := self._entry(k, now)) is not None]
        return max([0.0, *waits])

    def failure(self, *keys: str) -> tuple[int, float]:
        """Count a failure; returns (most failures in a row among the keys, lock seconds)."""
        now = self._clock()
        worst, lock = 0, 0.0
        with self._lock:
            self._prune(now)
            for key in keys:
                entry = self._entry(key, now) or _Entry()
                entry.failures += 1
                entry.last_failure = now
                seconds = self.lock_seconds(entry.failures, key)
                entry.locked_until = now + seconds if seconds else 0.0
                self._entries[key] = entry
                worst = max(worst, entry.failures)
                lock = max(lock, seconds)
        return worst, lock

    def success(self, *keys: str) -> None:
        with self._lock:
            for key in keys:
                self._entries.pop(key, None)

    def _prune(self, now: float) -> None:
        if len(self._entries) < self.MAX_KEYS:
            return
        for key in [k for k in self._entries if self._entry(k, now) is None]:
            self._entries.pop(key, None)
        while len(self._entries) >= self.MAX_KEYS:  # still full: forget the oldest
            oldest = min(self._entries, key=lambda k: self._entries[k].last_failure)
            del self._entries[oldest]


def login_keys(username: object, address: str | None) -> tuple[str, str]:
    name = username.strip().lower()[:254] if isinstance(username, str) else ""
    return f"user:{name}", f"ip:{address or 'unknown'}"


# --------------------------------------------------------------------------- setup code

SETUP_CODE_ENV = "LUMI_SETUP_CODE"
_LOOPBACK_HOSTS = ("localhost", "127.0.0.1", "::1", "[::1]")


def normal_code(value: object) -> str:
    """A code as typed: case, spaces and dashes do not matter."""
    return "".join(ch for ch in value.upper() if ch.isalnum()) if isinstance(value, str) else ""


def setup_code_ok(expected: str | None, given: object) -> bool:
    want, got = normal_code(expected), normal_code(given)
    return bool(want) and hmac.compare_digest(want.encode(), got.encode())


def on_this_machine(client_host: str | None, host_header: str | None) -> bool:
    """The request comes from the machine Lumi runs on, to a loopback address.

    Both must hold: behind a reverse proxy on the same machine every client
    looks like 127.0.0.1, but the ``Host`` it forwards is the public name.
    """
    if os.environ.get("LUMI_PUBLIC_URL", "").strip():
        return False
    import ipaddress

    try:
        local_client = client_host is not None and ipaddress.ip_address(client_host).is_loopback
    except ValueError:
        local_client = False
    host = (host_header or "").strip().lower()
    name = host.rsplit(":", 1)[0] if not host.startswith("[") else host.split("]")[0] + "]"
    return local_client and (name in _LOOPBACK_HOSTS or name.startswith("127."))
