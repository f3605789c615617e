"""Start every process of the contract in the foreground (``make run``, ``make class``).

Rasa (REST channel) on RASA_PORT, the action server on ACTION_PORT and the
web app on WEB_PORT, kept alive by supervisor (``supervisord`` in the
foreground, its configuration generated under ``var/``): a process that dies
is started again, with a growing delay if it keeps failing to start, and the
others keep serving meanwhile. Ctrl-C or SIGTERM stops them all and frees the
ports. A port already taken is named in a clear message before anything starts.

Two surfaces, two settings: Rasa and the action server listen on loopback
(``LUMI_BACKEND_HOST``, only for a multi-machine deployment); the web app, the
one thing pupils' devices open, on ``LUMI_WEB_HOST`` (loopback by default,
every interface with ``--class``, i.e. ``make class``). At start the launcher
prints the address pupils open and, while no teacher account exists, a
one-time setup code for ``/teacher/setup``.

This module is the one composition root: ``tests.servers``, the benchmarks and
the scale test build their processes from :func:`commands`,
:func:`endpoints_yaml` and :func:`process_env`.
"""

from __future__ import annotations

import argparse
import contextlib
import ipaddress
import os
import secrets
import shlex
import signal
import socket
import subprocess
import sys
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.paths import MODELS_DIR, ROOT, var_dir

DEFAULT_PORTS = {"RASA_PORT": 5005, "ACTION_PORT": 5055, "WEB_PORT": 8080}
MODEL = MODELS_DIR / "lumi.tar.gz"
LOOPBACK = "127.0.0.1"
ALL_INTERFACES = "0.0.0.0"  # noqa: S104 (the web app in class mode, by the teacher's choice)
# A setup code is read off a terminal and typed on a tablet: no 0/O, 1/I/L.
SETUP_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
SETUP_CODE_ENV = "LUMI_SETUP_CODE"
LAN_URL_ENV = "LUMI_LAN_URL"
# Programs in start order; how long each needs before it counts as started
# (supervisor's ``startsecs``: a process that dies sooner is retried after
# 1 s, 2 s, 3 s... and given up after START_RETRIES such failures in a row).
START_SECONDS = {"actions": 3, "rasa": 20, "web": 2}
START_RETRIES = 20
STOP_WAIT_SECONDS = 15


@dataclass
class Settings:
    rasa_port: int
    action_port: int
    web_port: int
    host: str  # Rasa and the action server (LUMI_BACKEND_HOST, loopback by default)
    database_url: str | None
    redis_url: str | None
    rasa_token: str
    model: Path
    with_web: bool
    web_host: str = LOOPBACK  # the web app (LUMI_WEB_HOST; every interface with --class)
    tracker_url: str | None = None  # TRACKER_STORE_URL; default SQLite in var/
    public_url: str | None = None  # LUMI_PUBLIC_URL (behind a proxy)
    tracker_store: str = "sql"  # TRACKER_STORE: "sql" (default) or "memory" (lost on restart)

    @property
    def web_on_network(self) -> bool:
        return not _is_loopback(self.web_host)


class ConfigError(SystemExit):
    pass


def _is_loopback(host: str) -> bool:
    if host in ("localhost", ""):
        return host == "localhost"
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _port(env: dict[str, str], name: str) -> int:
    raw = env.get(name, str(DEFAULT_PORTS[name]))
    try:
        port = int(raw)
    except ValueError:
        raise ConfigError(f"{name}={raw!r} is not a port number (1-65535).") from None
    if not 0 < port < 65536:
        raise ConfigError(f"{name}={raw!r} is not a port number (1-65535).")
    return port


def settings_from_env(
    env: dict[str, str] | None = None, with_web: bool = True, classroom: bool = False
) -> Settings:
    env = dict(os.environ if env is None else env)
    if env.get("LUMI_HOST"):
        raise ConfigError(
            "LUMI_HOST is no longer used: it put Rasa and the action server on the network "
            "with the web app. Use LUMI_WEB_HOST for the web app (or `make class`), and "
            "LUMI_BACKEND_HOST only when Rasa and the action server run on other machines."
        )
    token = env.get("RASA_TOKEN") or secrets.token_urlsafe(24)
    web_host = env.get("LUMI_WEB_HOST") or (ALL_INTERFACES if classroom else LOOPBACK)
    return Settings(
        rasa_port=_port(env, "RASA_PORT"),
        action_port=_port(env, "ACTION_PORT"),
        web_port=_port(env, "WEB_PORT"),
        host=env.get("LUMI_BACKEND_HOST") or LOOPBACK,
        database_url=env.get("DATABASE_URL") or None,
        redis_url=env.get("REDIS_URL") or None,
        rasa_token=token,
        model=Path(env.get("LUMI_MODEL", str(MODEL))),
        with_web=with_web,
        web_host=web_host,
        tracker_url=env.get("TRACKER_STORE_URL") or None,
        public_url=(env.get("LUMI_PUBLIC_URL") or "").strip().rstrip("/") or None,
        tracker_store=_tracker_store(env.get("TRACKER_STORE")),
    )


def _tracker_store(raw: str | None) -> str:
    value = (raw or "sql").strip().lower()
    if value not in ("sql", "memory"):
        raise ConfigError(
            f"TRACKER_STORE={raw!r}: use sql (the default, conversations survive a restart) "
            "or memory (they do not)."
        )
    return value


def port_in_use(port: int, host: str = LOOPBACK) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return True
    return False


def check_ports(settings: Settings) -> list[str]:
    """Messages naming every port that is taken (empty when all are free)."""
    wanted = {
        "RASA_PORT": (settings.rasa_port, settings.host),
        "ACTION_PORT": (settings.action_port, settings.host),
    }
    if settings.with_web:
        wanted["WEB_PORT"] = (settings.web_port, settings.web_host)
    problems = []
    seen: dict[int, str] = {}
    for name, (port, host) in wanted.items():
        if port in seen:
            problems.append(
                f"{name} and {seen[port]} are both {port}: give each process its own port."
            )
        seen[port] = name
        # a bind test only (is the port free anywhere?)
        if port_in_use(port, ALL_INTERFACES) or port_in_use(port, host):
            problems.append(
                f"Port {port} ({name}) is already in use by another program. "
                f"Stop that program, or choose another port, e.g. `{name}={port + 1} make run`."
            )
    return problems


def endpoints_yaml(settings: Settings) -> str:
    """Rasa's endpoints: the action server and the conversation (tracker) store.

    Conversations survive a restart: by default Rasa's SQL tracker store on
    SQLite in the var directory (``TRACKER_STORE_URL`` for another database),
    or Redis with an expiry when ``REDIS_URL`` is set. Either way the text
    children type and Lumi's replies are removed before anything is saved, and
    idle conversations expire after ``TRACKER_TTL_SECONDS`` (addons/tracker_store.py).
    """
    import yaml

    ttl = int(os.environ.get("TRACKER_TTL_SECONDS", "7200"))
    sql_store: dict[str, object] = {
        "type": "addons.tracker_store.RedactingSQLTrackerStore",
        "ttl_seconds": ttl,
    }
    if settings.tracker_url:
        sql_store["url"] = settings.tracker_url
    if settings.tracker_store == "memory":
        sql_store = {"type": "addons.tracker_store.RedactingInMemoryTrackerStore"}
    endpoints: dict[str, object] = {
        # Our actions never read the domain: don't send 170 KB of it with every call.
        "action_endpoint": {
            "url": f"http://{_connect_host(settings.host)}:{settings.action_port}/webhook",
            "enable_selective_domain": True,
        },
        "tracker_store": sql_store,
    }
    if settings.redis_url:
        from urllib.parse import urlparse

        url = urlparse(settings.redis_url)
        db = int((url.path or "/0").lstrip("/") or 0)
        common: dict[str, object] = {"url": url.hostname or LOOPBACK, "port": url.port or 6379}
        if url.password:
            common["password"] = url.password
        # Separate Redis databases for the tracker store and the lock store.
        endpoints["tracker_store"] = {
            "type": "addons.tracker_store.RedactingRedisTrackerStore",
            **common,
            "db": db,
            "record_exp": ttl,
        }
        endpoints["lock_store"] = {"type": "redis", **common, "db": db + 1}
    header = "# Written by bot/launcher.py at start-up from the environment.\n"
    return header + yaml.safe_dump(endpoints, sort_keys=False)


def _connect_host(host: str) -> str:
    """Where to connect to a server bound to ``host`` (all interfaces: loopback)."""
    return LOOPBACK if host in (ALL_INTERFACES, "", "::") else host


def commands(settings: Settings, endpoints: Path) -> dict[str, str]:
    """Each program's command line (shell-quoted), in start order."""
    python = str(Path(sys.executable).parent / "python")
    rasa = str(Path(sys.executable).parent / "rasa")
    procs = {
        "actions": shlex.join(
            [python, "-m", "actions", "--actions", "actions", "--port", str(settings.action_port)]
        ),
        "rasa": shlex.join(
            [
                rasa,
                "run",
                "--model",
                str(settings.model),
                "--port",
                str(settings.rasa_port),
                "--interface",
                settings.host,
                "--credentials",
                "credentials.yml",
                "--endpoints",
                str(endpoints),
                "--enable-api",
                "--auth-token",
                settings.rasa_token,
            ]
        ),  # fmt: skip
    }
    if settings.with_web:
        procs["web"] = shlex.join(
            [python, "-m", "bot.web", "--port", str(settings.web_port), "--host", settings.web_host]
        )
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
    # Where the web app finds Rasa (loopback unless Rasa is on another machine).
    env.setdefault("RASA_URL", f"http://{_connect_host(settings.host)}:{settings.rasa_port}")
    # rasa_sdk binds SANIC_HOST (0.0.0.0 by default): keep the action server,
    # which has no authentication, on Rasa's interface (loopback).
    env.setdefault("SANIC_HOST", settings.host)
    # Rasa opens a connection per action call; if its loop stalls past Sanic's
    # default 5 s keep-alive the action server closes it and the action is lost.
    env.setdefault("SANIC_KEEP_ALIVE_TIMEOUT", "30")
    return env


# --------------------------------------------------------------------------- the pupils' address


def lan_addresses() -> list[str]:
    """This machine's IPv4 addresses on a local network, the default route's first.

    Loopback, link-local and the virtual interfaces of containers are left out.
    """
    import psutil

    default = _default_route_interface()
    stats = psutil.net_if_stats()
    found: list[tuple[int, str]] = []
    for name, addresses in psutil.net_if_addrs().items():
        if name.startswith(("lo", "docker", "br-", "veth", "virbr", "cni", "flannel", "tun")):
            continue
        if name in stats and not stats[name].isup:
            continue
        for address in addresses:
            if address.family != socket.AF_INET:
                continue
            ip = ipaddress.ip_address(address.address)
            if ip.is_loopback or ip.is_link_local or ip.is_unspecified:
                continue
            found.append((0 if name == default else 1, address.address))
    return [address for _, address in sorted(found)]


def _default_route_interface() -> str | None:
    try:
        with open("/proc/net/route", encoding="ascii") as routes:
            for line in routes.read().splitlines()[1:]:
                fields = line.split()
                if len(fields) > 2 and fields[1] == "00000000":
                    return fields[0]
    except OSError:
        pass
    return None


def pupils_url(settings: Settings, addresses: list[str] | None = None) -> str | None:
    """The address pupils' devices open, or None when the web app is on loopback only."""
    if settings.public_url:
        return settings.public_url
    if not settings.web_on_network:
        return None
    if settings.web_host != ALL_INTERFACES:
        return f"http://{settings.web_host}:{settings.web_port}"
    chosen = os.environ.get("LUMI_LAN_ADDRESS", "").strip()  # the launcher picked wrong
    found = [chosen] if chosen else (lan_addresses() if addresses is None else addresses)
    return f"http://{found[0]}:{settings.web_port}" if found else None


def new_setup_code() -> str:
    raw = "".join(secrets.choice(SETUP_ALPHABET) for _ in range(8))
    return f"{raw[:4]}-{raw[4:]}"


def _needs_first_teacher() -> bool:
    """True while no teacher account exists (or when the database cannot tell)."""
    try:
        from bot import storage

        return int(storage.store().teacher_count()) == 0
    except Exception:  # noqa: BLE001 - unknown: show the code anyway
        return True


# --------------------------------------------------------------------------- supervisor


def supervisor_paths(var: Path) -> dict[str, Path]:
    return {
        "conf": var / "supervisord.conf",
        "socket": var / "run" / "supervisor.sock",
        "pidfile": var / "run" / "supervisord.pid",
        "logs": var / "log",
    }


def _ini(value: str) -> str:
    """A value for supervisor's configuration (``%`` starts its expansions)."""
    return value.replace("%", "%%").replace("\n", " ")


def supervisor_conf(
    settings: Settings, var: Path, programs: dict[str, str], password: str | None = None
) -> str:
    """supervisord's configuration: foreground, a private control socket (mode
    0700, and a password made at each start), one ``[program:x]`` per process,
    restarted whenever it exits."""
    paths = supervisor_paths(var)
    password = password or secrets.token_urlsafe(18)
    logs = paths["logs"]
    lines = [
        "; Written by bot/launcher.py at every start: edit the launcher, not this file.",
        "[supervisord]",
        "nodaemon=true",
        f"logfile={_ini(str(logs / 'supervisord.log'))}",
        "logfile_maxbytes=5MB",
        "logfile_backups=2",
        "loglevel=info",
        f"pidfile={_ini(str(paths['pidfile']))}",
        f"childlogdir={_ini(str(logs))}",
        f"directory={_ini(str(ROOT))}",
        "identifier=lumi",
        "",
        "[unix_http_server]",
        f"file={_ini(str(paths['socket']))}",
        "chmod=0700",
        "username=lumi",
        f"password={password}",
        "",
        "[rpcinterface:supervisor]",
        "supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface",
        "",
        "[supervisorctl]",
        f"serverurl=unix://{_ini(str(paths['socket']))}",
        "username=lumi",
        f"password={password}",
    ]
    if os.geteuid() == 0:
        lines.insert(3, "user=root")  # says privileges are meant to stay as they are
    for priority, (name, command) in enumerate(programs.items(), start=1):
        lines += [
            "",
            f"[program:{name}]",
            f"command={_ini(command)}",
            f"directory={_ini(str(ROOT))}",
            f"priority={priority * 10}",
            "autostart=true",
            "autorestart=true",
            f"startsecs={START_SECONDS.get(name, 3)}",
            f"startretries={START_RETRIES}",
            "stopsignal=TERM",
            f"stopwaitsecs={STOP_WAIT_SECONDS}",
            "stopasgroup=true",
            "killasgroup=true",
            "redirect_stderr=true",
            f"stdout_logfile={_ini(str(logs / f'{name}.log'))}",
            "stdout_logfile_maxbytes=10MB",
            "stdout_logfile_backups=3",
        ]
    return "\n".join(lines) + "\n"


def supervisor_rpc(var: Path) -> Any:
    """An XML-RPC proxy to a running launcher's supervisord (``getAllProcessInfo()``...)."""
    import configparser
    import xmlrpc.client

    from supervisor.xmlrpc import SupervisorTransport

    paths = supervisor_paths(var)
    conf = configparser.RawConfigParser()
    conf.read(paths["conf"], encoding="utf-8")
    section = conf["supervisorctl"] if conf.has_section("supervisorctl") else {}
    transport = SupervisorTransport(
        section.get("username"), section.get("password"), f"unix://{paths['socket']}"
    )
    return xmlrpc.client.ServerProxy("http://127.0.0.1", transport=transport)


def _die_with_parent() -> None:
    """In the child, before exec: SIGTERM when the launcher itself dies (Linux)."""
    with contextlib.suppress(Exception):
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


class LogEcho(threading.Thread):
    """Prints the programs' new log lines to the terminal, prefixed with their
    name (as honcho did); follows supervisor's log rotation."""

    def __init__(self, logs: Path, names: list[str]) -> None:
        super().__init__(name="lumi-log-echo", daemon=True)
        self.paths = {name: logs / f"{name}.log" for name in names}
        self.width = max(len(n) for n in names)
        self.stopping = threading.Event()

    def run(self) -> None:
        files: dict[str, Any] = {}
        inodes: dict[str, int] = {}
        for name, path in self.paths.items():  # start at the end: only this run's lines
            if path.exists():
                files[name] = path.open("r", encoding="utf-8", errors="replace")
                files[name].seek(0, os.SEEK_END)
                inodes[name] = os.fstat(files[name].fileno()).st_ino
        while not self.stopping.wait(0.25):
            for name, path in self.paths.items():
                try:
                    inode = path.stat().st_ino
                except OSError:
                    continue
                if name not in files or inodes.get(name) != inode:
                    if name in files:
                        self._drain(name, files.pop(name))
                    files[name] = path.open("r", encoding="utf-8", errors="replace")
                    inodes[name] = inode
                self._drain(name, files[name])
        for name, handle in files.items():
            self._drain(name, handle)
            handle.close()

    def _drain(self, name: str, handle: Any) -> None:
        for line in handle.readlines():
            sys.stdout.write(f"{name.ljust(self.width)} | {line.rstrip()}\n")
        sys.stdout.flush()


def _wait_ready(settings: Settings, done: threading.Event, message: str) -> None:
    """Print ``message`` once Rasa (and the web app) answer."""
    import urllib.request

    urls = [f"http://{_connect_host(settings.host)}:{settings.rasa_port}/"]
    if settings.with_web:
        urls.append(f"http://{LOOPBACK}:{settings.web_port}/healthz")
    while not done.wait(1.0):
        try:
            for url in urls:
                with urllib.request.urlopen(url, timeout=2) as answer:  # noqa: S310 (ours)
                    if answer.status != 200:
                        raise OSError(answer.status)
        except OSError:
            continue
        print(message, flush=True)
        return


def banner(settings: Settings, setup_code: str | None, pupils: str | None, var: Path) -> str:
    local = f"http://localhost:{settings.web_port}"
    lines = [
        "Lumi is starting: Rasa takes about a minute to load its model.",
        f"  Rasa on {settings.host}:{settings.rasa_port}, actions on "
        f"{settings.host}:{settings.action_port} (this machine only).",
    ]
    if settings.with_web:
        if pupils:
            lines.append(f"  Pupils open:   {pupils}/")
        elif settings.web_on_network:
            lines.append(
                "  Pupils open:   no network address found: is this computer on the Wi-Fi?"
            )
        else:
            lines.append(
                f"  This computer only: {local}/ (pupils' devices cannot reach it; "
                "`make class` serves them)."
            )
        lines.append(f"  Teacher:       {local}/teacher")
        if setup_code:
            lines.append(
                f"  First teacher account: {local}/teacher/setup with the setup code {setup_code}"
            )
    lines.append(f"  Logs in {var / 'log'}. Ctrl-C stops everything.")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--no-web", action="store_true", help="start Rasa and actions only")
    parser.add_argument(
        "--class",
        dest="classroom",
        action="store_true",
        help="serve the web app to the local network (pupils' tablets); Rasa stays on loopback",
    )
    parser.add_argument(
        "--quiet", action="store_true", help="do not echo the programs' logs (see var/log/)"
    )
    args = parser.parse_args(argv)
    web_available = (ROOT / "bot" / "web" / "__main__.py").exists()
    try:
        settings = settings_from_env(
            with_web=web_available and not args.no_web, classroom=args.classroom
        )
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

    var = var_dir()
    paths = supervisor_paths(var)
    for folder in (paths["logs"], paths["socket"].parent):
        folder.mkdir(parents=True, exist_ok=True)
    endpoints = var / "endpoints.yml"
    endpoints.write_text(endpoints_yaml(settings), encoding="utf-8")
    programs = commands(settings, endpoints)
    conf = paths["conf"]
    conf.touch(mode=0o600)
    os.chmod(conf, 0o600)  # it holds Rasa's API token
    conf.write_text(supervisor_conf(settings, var, programs), encoding="utf-8")

    env = process_env(settings)
    setup_code = None
    if settings.with_web:
        env[SETUP_CODE_ENV] = env.get(SETUP_CODE_ENV) or new_setup_code()
        setup_code = env[SETUP_CODE_ENV] if _needs_first_teacher() else None
    pupils = pupils_url(settings) if settings.with_web else None
    if pupils and not settings.public_url:
        env[LAN_URL_ENV] = pupils
    print(banner(settings, setup_code, pupils, var), flush=True)

    echo = None if args.quiet else LogEcho(paths["logs"], list(programs))
    if echo:
        echo.start()
    supervisord = subprocess.Popen(  # noqa: S603 (our own command line)
        [sys.executable, "-m", "supervisor.supervisord", "--configuration", str(conf)],
        cwd=ROOT,
        env=env,
        preexec_fn=_die_with_parent,  # noqa: PLW1509 (no threads touch the child)
    )
    stopping = threading.Event()

    def stop(signum: int, _frame: Any) -> None:
        if not stopping.is_set():
            stopping.set()
            print(f"\nStopping Lumi ({signal.Signals(signum).name})...", flush=True)
        with contextlib.suppress(ProcessLookupError):
            supervisord.send_signal(signal.SIGTERM)

    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, stop)
    ready = "Lumi is ready." + (f" Pupils open {pupils}/" if pupils else "")
    threading.Thread(
        target=_wait_ready, args=(settings, stopping, ready), name="lumi-ready", daemon=True
    ).start()
    while True:
        try:
            code = supervisord.wait()
            break
        except InterruptedError:  # pragma: no cover - PEP 475 retries wait() itself
            continue
    stopping.set()
    if echo:
        echo.stopping.set()
        echo.join(timeout=2)
    if not stopping_requested(code):
        print(f"supervisord exited with code {code}; see {paths['logs']}", file=sys.stderr)
    return 0 if code == 0 else 1


def stopping_requested(code: int) -> bool:
    return code == 0


if __name__ == "__main__":
    sys.exit(main())
