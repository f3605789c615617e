"""Start every process of the contract in the foreground (``make run``).

Rasa (REST channel) on RASA_PORT, the action server on ACTION_PORT and the
web app on WEB_PORT, supervised by honcho: Ctrl-C or SIGTERM stops them all,
and if one stops the others are stopped too, so no process is left behind.
A port already taken is named in a clear message before anything starts.
"""

from __future__ import annotations

import argparse
import os
import secrets
import socket
import sys
from dataclasses import dataclass
from pathlib import Path

from bot.paths import MODELS_DIR, ROOT, var_dir

DEFAULT_PORTS = {"RASA_PORT": 5005, "ACTION_PORT": 5055, "WEB_PORT": 8080}
MODEL = MODELS_DIR / "lumi.tar.gz"


@dataclass
class Settings:
    rasa_port: int
    action_port: int
    web_port: int
    host: str
    database_url: str | None
    redis_url: str | None
    rasa_token: str
    model: Path
    with_web: bool


class ConfigError(SystemExit):
    pass


def _port(env: dict[str, str], name: str) -> int:
    raw = env.get(name, str(DEFAULT_PORTS[name]))
    try:
        port = int(raw)
    except ValueError:
        raise ConfigError(f"{name}={raw!r} is not a port number (1-65535).") from None
    if not 0 < port < 65536:
        raise ConfigError(f"{name}={raw!r} is not a port number (1-65535).")
    return port


def settings_from_env(env: dict[str, str] | None = None, with_web: bool = True) -> Settings:
    env = dict(os.environ if env is None else env)
    token = env.get("RASA_TOKEN") or secrets.token_urlsafe(24)
    return Settings(
        rasa_port=_port(env, "RASA_PORT"),
        action_port=_port(env, "ACTION_PORT"),
        web_port=_port(env, "WEB_PORT"),
        host=env.get("LUMI_HOST", "127.0.0.1"),
        database_url=env.get("DATABASE_URL") or None,
        redis_url=env.get("REDIS_URL") or None,
        rasa_token=token,
        model=Path(env.get("LUMI_MODEL", str(MODEL))),
        with_web=with_web,
    )


def port_in_use(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return True
    return False


def check_ports(settings: Settings) -> list[str]:
    """Messages naming every port that is taken (empty when all are free)."""
    wanted = {"RASA_PORT": settings.rasa_port, "ACTION_PORT": settings.action_port}
    if settings.with_web:
        wanted["WEB_PORT"] = settings.web_port
    problems = []
    seen: dict[int, str] = {}
    for name, port in wanted.items():
        if port in seen:
            problems.append(
                f"{name} and {seen[port]} are both {port}: give each process its own port."
            )
        seen[port] = name
        any_interface = "0.0.0.0"  # noqa: S104 (a bind test only: is the port free?)
        if port_in_use(port, any_interface) or port_in_use(port, settings.host):
            problems.append(
                f"Port {port} ({name}) is already in use by another program. "
                f"Stop that program, or choose another port, e.g. `{name}={port + 1} make run`."
            )
    return problems


def endpoints_yaml(settings: Settings) -> str:
    """Rasa's endpoints: the action server, and Redis stores when REDIS_URL is set.

    Conversation state never goes to long-term storage: in memory by default,
    or in Redis with an expiry; in both, the text children type is removed
    when the conversation is saved (addons/tracker_store.py).
    """
    import yaml

    endpoints: dict[str, object] = {
        # Our actions never read the domain: don't send 170 KB of it with every call.
        "action_endpoint": {
            "url": f"http://127.0.0.1:{settings.action_port}/webhook",
            "enable_selective_domain": True,
        },
        "tracker_store": {"type": "addons.tracker_store.RedactingInMemoryTrackerStore"},
    }
    if settings.redis_url:
        from urllib.parse import urlparse

        url = urlparse(settings.redis_url)
        db = int((url.path or "/0").lstrip("/") or 0)
        common: dict[str, object] = {"url": url.hostname or "127.0.0.1", "port": url.port or 6379}
        if url.password:
            common["password"] = url.password
        # Separate Redis databases for the tracker store and the lock store.
        endpoints["tracker_store"] = {
            "type": "addons.tracker_store.RedactingRedisTrackerStore",
            **common,
            "db": db,
            "record_exp": int(os.environ.get("TRACKER_TTL_SECONDS", "7200")),
        }
        endpoints["lock_store"] = {"type": "redis", **common, "db": db + 1}
    header = "# Written by bot/launcher.py at start-up from the environment.\n"
    return header + yaml.safe_dump(endpoints, sort_keys=False)


def commands(settings: Settings, endpoints: Path) -> dict[str, str]:
    bin_dir = Path(sys.executable).parent
    procs = {
        "actions": f"{bin_dir}/python -m actions --actions actions --port {settings.action_port}",
        "rasa": (
            f"{bin_dir}/rasa run --model {settings.model} --port {settings.rasa_port}"
            f" --interface {settings.host} --credentials credentials.yml"
            f" --endpoints {endpoints} --enable-api --auth-token {settings.rasa_token}"
        ),
    }
    if settings.with_web:
        procs["web"] = f"{bin_dir}/python -m bot.web --port {settings.web_port}"
    return procs


def process_env(settings: Settings, base: dict[str, str] | None = None) -> dict[str, str]:
    """The environment every process is started with (ports, token, no telemetry)."""
    env = dict(os.environ if base is None else base)
    env.update(
        RASA_TELEMETRY_ENABLED="false",
        RASA_PORT=str(settings.rasa_port),
        ACTION_PORT=str(settings.action_port),
        WEB_PORT=str(settings.web_port),
        RASA_TOKEN=settings.rasa_token,
        PYTHONUNBUFFERED="1",
    )
    # rasa_sdk binds SANIC_HOST (0.0.0.0 by default): keep the action server,
    # which has no authentication, on the same interface as Rasa.
    env.setdefault("SANIC_HOST", settings.host)
    # Rasa opens a connection per action call; if its loop stalls past Sanic's
    # default 5 s keep-alive the action server closes it and the action is lost.
    env.setdefault("SANIC_KEEP_ALIVE_TIMEOUT", "30")
    return env


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--no-web", action="store_true", help="start Rasa and actions only")
    args = parser.parse_args(argv)
    web_available = (ROOT / "bot" / "web" / "__main__.py").exists()
    try:
        settings = settings_from_env(with_web=web_available and not args.no_web)
    except ConfigError as error:
        print(error, file=sys.stderr)
        return 2
    if not settings.model.exists():
        print(
            f"No trained model at {settings.model}: run `make run` (it trains first).",
            file=sys.stderr,
        )
        return 2
    problems = check_ports(settings)
    if problems:
        print("\n".join(problems), file=sys.stderr)
        return 1
    endpoints = var_dir() / "endpoints.yml"
    endpoints.write_text(endpoints_yaml(settings), encoding="utf-8")

    from honcho.manager import Manager

    env = process_env(settings)
    manager = Manager()
    for name, command in commands(settings, endpoints).items():
        manager.add_process(name, command, env=env, cwd=str(ROOT))
    print(
        f"Lumi is starting: Rasa on {settings.rasa_port}, actions on {settings.action_port}"
        + (f", web app on http://localhost:{settings.web_port}/" if settings.with_web else "")
        + ". Rasa is ready when GET /  answers (about a minute). Ctrl-C stops everything.",
        flush=True,
    )
    manager.loop()
    return int(manager.returncode or 0)


if __name__ == "__main__":
    sys.exit(main())
