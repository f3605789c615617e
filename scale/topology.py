"""The horizontal topology on one machine: Redis, PostgreSQL, N Rasa replicas,
M action servers and nginx in front, all from Debian's packages.

- Redis and PostgreSQL: ``scripts/services.sh start`` with ``LUMI_VAR_DIR`` set
  to this run's temp dir, so its state and env files are this run's own (a test
  run's servers elsewhere on the machine are never touched); ``stop`` removes them.
- Rasa replicas and action servers: the launcher's own commands and endpoints
  (``bot.launcher.commands`` / ``endpoints_yaml``): with ``REDIS_URL`` every
  replica uses the shared Redis tracker store (with expiry, text redacted) and
  the Redis lock store on the next database. Their action endpoint is nginx.
- nginx: ``scale/nginx.conf.template`` rendered into the temp dir, run in the
  foreground (``daemon off``) as this run's child, on free ports.

Every process is started in its own process group and stopped by
``Topology.stop_all`` (SIGTERM, then SIGKILL to the group), in a ``finally``.
"""

from __future__ import annotations

import contextlib
import os
import shlex
import shutil
import signal
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import requests

from bench import procs as P
from bot.launcher import Settings, commands, endpoints_yaml, process_env

ROOT = P.ROOT
MODEL = ROOT / "models" / "lumi.tar.gz"
TEMPLATE = Path(__file__).with_name("nginx.conf.template")
SERVICES = ROOT / "scripts" / "services.sh"
READY_TIMEOUT_S = 300
RASA_TOKEN = "scale-test-token"  # noqa: S105 (a throwaway token for local servers)


def log(message: str) -> None:
    print(f"[scale {time.strftime('%H:%M:%S')}] {message}", flush=True)


def ensure_nginx() -> str:
    """The nginx binary; installs Debian's nginx-light when missing (no service started)."""
    found = shutil.which("nginx") or (
        "/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None
    )
    if found:
        return found
    log("installing nginx-light (apt-get)")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    command = ["apt-get", "install", "-y", "-qq", "--no-install-recommends", "nginx-light"]
    if subprocess.run(command, env=env, capture_output=True).returncode != 0:
        subprocess.run(["apt-get", "update", "-qq"], env=env, capture_output=True, check=True)
        subprocess.run(command, env=env, capture_output=True, check=True)
    # Debian's package may start the system service where an init system runs: not ours.
    found = shutil.which("nginx") or "/usr/sbin/nginx"
    if not Path(found).exists():
        raise RuntimeError("nginx not found after apt-get install nginx-light")
    return found


def _read_shell_vars(path: Path) -> dict[str, str]:
    values = {}
    for line in path.read_text().splitlines():
        if "=" in line and not line.lstrip().startswith("#"):
            key, _, value = line.partition("=")
            values[key.strip()] = value.strip().strip("'\"")
    return values


@dataclass
class Services:
    """PostgreSQL + Redis from scripts/services.sh, in this run's own var dir."""

    var_dir: Path
    database_url: str = ""
    redis_url: str = ""
    state: dict[str, str] = field(default_factory=dict)

    def _script(self, action: str) -> subprocess.CompletedProcess:
        env = {**os.environ, "LUMI_VAR_DIR": str(self.var_dir)}
        return subprocess.run(
            ["bash", str(SERVICES), action], env=env, capture_output=True, text=True, timeout=300
        )

    def start(self) -> None:
        self.var_dir.mkdir(parents=True, exist_ok=True)
        out = self._script("start")
        if out.returncode != 0:
            raise RuntimeError(f"scripts/services.sh start failed:\n{out.stderr[-2000:]}")
        env = _read_shell_vars(self.var_dir / "services.env")
        self.state = _read_shell_vars(self.var_dir / "services.state")
        self.database_url = env["TEST_DATABASE_URL"]
        self.redis_url = env["TEST_REDIS_URL"]  # database 0: tracker store; 1: lock store

    @property
    def redis_port(self) -> int:
        return int(self.state["REDIS_PORT"])

    def redis_pid(self) -> int | None:
        with contextlib.suppress(OSError, ValueError):
            return int((Path(self.state["TMP_DIR"]) / "redis" / "redis.pid").read_text().strip())
        return None

    def postgres_pid(self) -> int | None:
        with contextlib.suppress(OSError, ValueError, IndexError):
            pid_file = Path(self.state["TMP_DIR"]) / "pg" / "postmaster.pid"
            return int(pid_file.read_text().splitlines()[0])
        return None

    def redis_cli(self, *args: str) -> str:
        out = subprocess.run(
            ["redis-cli", "-h", "127.0.0.1", "-p", str(self.redis_port), *args],
            capture_output=True,
            text=True,
            timeout=10,
        )
        return out.stdout.strip()

    def redis_footprint(self, sample: int = 50) -> dict[str, Any]:
        """Conversations kept in Redis and their size: tracker keys (db 0), the small
        language-state keys beside them, lock keys (db 1), used memory."""
        keys = [k for k in self.redis_cli("-n", "0", "--scan", "--pattern", "tracker:*").split()]
        sizes = []
        for key in keys[:sample]:
            with contextlib.suppress(ValueError):
                sizes.append(int(self.redis_cli("-n", "0", "memory", "usage", key)))
        ttl = self.redis_cli("-n", "0", "ttl", keys[0]) if keys else ""
        info = dict(
            line.split(":", 1)
            for line in self.redis_cli("info", "memory").splitlines()
            if ":" in line
        )
        return {
            "tracker_keys": len(keys),
            "state_keys": len(
                self.redis_cli("-n", "0", "--scan", "--pattern", "lumi_state:*").split()
            ),
            "lock_keys": len(self.redis_cli("-n", "1", "--scan", "--pattern", "lock:*").split()),
            "tracker_bytes_mean": round(sum(sizes) / len(sizes)) if sizes else None,
            "tracker_bytes_max": max(sizes) if sizes else None,
            "tracker_ttl_s_sample": int(ttl) if ttl.lstrip("-").isdigit() else None,
            "used_memory_bytes": int(info.get("used_memory", "0").strip() or 0),
        }

    def redis_down(self) -> None:
        """Stop Redis as a crash would (no save)."""
        self.redis_cli("shutdown", "nosave")
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and self.redis_cli("ping") == "PONG":
            time.sleep(0.1)

    def redis_up(self) -> float:
        """Start Redis again on the same port, as scripts/services.sh does (empty: no
        persistence here). Returns the seconds until it answers PING."""
        redis_dir = Path(self.state["TMP_DIR"]) / "redis"
        started = time.monotonic()
        subprocess.run(
            ["redis-server", "--port", str(self.redis_port), "--bind", "127.0.0.1",
             "--daemonize", "yes", "--save", "", "--appendonly", "no", "--dir", str(redis_dir),
             "--pidfile", str(redis_dir / "redis.pid"), "--logfile", str(redis_dir / "redis.log")],
            check=True,
            capture_output=True,
        )  # fmt: skip
        while self.redis_cli("ping") != "PONG":
            if time.monotonic() - started > 20:
                raise RuntimeError("Redis did not come back")
            time.sleep(0.05)
        return time.monotonic() - started

    def stop(self) -> None:
        out = self._script("stop")
        if out.returncode != 0:
            log(f"scripts/services.sh stop: {out.stderr.strip()[-500:]}")


@dataclass
class Server:
    name: str  # "rasa-1", "actions-2", "nginx"
    port: int
    proc: subprocess.Popen
    log_path: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def alive(self) -> bool:
        return self.proc.poll() is None


@dataclass
class Topology:
    replicas: int
    action_servers: int
    logs: Path
    lock_lifetime_s: int
    tmp: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="lumi-scale-")))
    procs: P.Processes = field(default_factory=P.Processes)
    services: Services | None = None
    rasa: list[Server] = field(default_factory=list)
    actions: list[Server] = field(default_factory=list)
    nginx: Server | None = None
    ports: dict[str, int] = field(default_factory=dict)

    # --- start ----------------------------------------------------------------------------

    def start(self) -> None:
        self.logs.mkdir(parents=True, exist_ok=True)
        nginx_bin = ensure_nginx()
        self.services = Services(self.tmp / "var")
        log("starting PostgreSQL and Redis (scripts/services.sh, this run's own)")
        self.services.start()
        log("migrating our database (bot.storage.migrate)")
        from bot import storage

        revision = storage.migrate(self.services.database_url)
        log(f"database at revision {revision}")

        self.ports = {
            "nginx_all": P.free_port(),
            "nginx_one": P.free_port(),
            "nginx_actions": P.free_port(),
        }
        for i in range(1, self.action_servers + 1):
            self.actions.append(self._start_actions(i))
        for i in range(1, self.replicas + 1):
            self.rasa.append(self._start_rasa(i))
        self.nginx = self._start_nginx(nginx_bin)

    def _settings(self, rasa_port: int, action_port: int) -> Settings:
        assert self.services
        return Settings(
            rasa_port=rasa_port,
            action_port=action_port,
            web_port=0,
            host="127.0.0.1",
            database_url=self.services.database_url,
            redis_url=self.services.redis_url,
            rasa_token=RASA_TOKEN,
            model=MODEL,
            with_web=False,
        )

    def _env(self, settings: Settings, workdir: Path) -> dict[str, str]:
        assert self.services
        env = process_env(settings)
        env.update(
            LUMI_VAR_DIR=str(workdir),
            DATABASE_URL=self.services.database_url,
            REDIS_URL=self.services.redis_url,
            # How long a ticket of Rasa's lock store lives (Rasa's default: 60 s). A replica
            # that dies mid-turn leaves its ticket behind; the conversation's next turn, on
            # another replica, waits for it to expire. See docs/deploy.md.
            TICKET_LOCK_LIFETIME=str(self.lock_lifetime_s),
        )
        return env

    def _popen(self, name: str, command: str, env: dict[str, str]) -> subprocess.Popen:
        return self.procs.popen(
            shlex.split(command), cwd=ROOT, log_path=self.logs / f"{name}.log", env=env
        )

    def _start_actions(self, i: int) -> Server:
        port = P.free_port()
        settings = self._settings(rasa_port=0, action_port=port)
        workdir = self.tmp / f"actions-{i}"
        workdir.mkdir()
        command = commands(settings, Path("unused"))["actions"]
        proc = self._popen(f"actions-{i}", command, self._env(settings, workdir))
        return Server(f"actions-{i}", port, proc, self.logs / f"actions-{i}.log")

    def _start_rasa(self, i: int) -> Server:
        port = P.free_port()
        # Every replica's action endpoint is nginx, which spreads the calls over the servers.
        settings = self._settings(rasa_port=port, action_port=self.ports["nginx_actions"])
        workdir = self.tmp / f"rasa-{i}"
        workdir.mkdir()
        endpoints = workdir / "endpoints.yml"
        endpoints.write_text(endpoints_yaml(settings), encoding="utf-8")
        proc = self._popen(
            f"rasa-{i}", commands(settings, endpoints)["rasa"], self._env(settings, workdir)
        )
        return Server(f"rasa-{i}", port, proc, self.logs / f"rasa-{i}.log")

    def nginx_config(self) -> str:
        def servers(group: list[Server], extra: str = "") -> str:
            return "\n".join(f"        server 127.0.0.1:{s.port}{extra};" for s in group)

        health = " max_fails=3 fail_timeout=10s"
        values = {
            "prefix": str(self.tmp / "nginx"),
            "logs": str(self.logs),
            "rasa_all_servers": servers(self.rasa, health),
            "rasa_one_servers": servers(self.rasa[:1], health),
            "action_servers": servers(self.actions, health),
            "port_all": str(self.ports["nginx_all"]),
            "port_one": str(self.ports["nginx_one"]),
            "port_actions": str(self.ports["nginx_actions"]),
        }
        text = TEMPLATE.read_text()
        for key, value in values.items():
            text = text.replace("{{" + key + "}}", value)
        return text

    def _start_nginx(self, nginx_bin: str) -> Server:
        prefix = self.tmp / "nginx"
        prefix.mkdir()
        for sub in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"):
            (prefix / sub).mkdir()
        # nginx's workers run as an unprivileged user: let them use the temp paths.
        for path in (self.tmp, prefix, *prefix.iterdir()):
            path.chmod(0o777 if path != self.tmp else 0o755)
        conf = prefix / "nginx.conf"
        conf.write_text(self.nginx_config())
        base = [
            nginx_bin,
            "-p",
            str(prefix),
            "-c",
            str(conf),
            "-e",
            str(self.logs / "nginx-error.log"),
        ]
        test = subprocess.run([*base, "-t"], capture_output=True, text=True)
        if test.returncode != 0:
            raise RuntimeError(f"nginx -t failed:\n{test.stderr}")
        proc = self.procs.popen(
            [*base, "-g", "daemon off;"],
            cwd=prefix,
            log_path=self.logs / "nginx.out",
            env=dict(os.environ),
        )
        return Server("nginx", self.ports["nginx_all"], proc, self.logs / "nginx-error.log")

    # --- readiness ------------------------------------------------------------------------

    def wait_ready(self) -> dict[str, float]:
        """Seconds from now until each server is ready (actions: /health; Rasa: GET /
        and the webhook answers a JSON list, on its own port; nginx: through it)."""
        started = time.monotonic()
        ready: dict[str, float] = {}
        pending = [*self.actions, *self.rasa]
        while pending:
            if time.monotonic() - started > READY_TIMEOUT_S:
                names = ", ".join(s.name for s in pending)
                raise TimeoutError(f"not ready after {READY_TIMEOUT_S} s: {names}")
            for server in list(pending):
                if not server.alive():
                    tail = "\n".join(server.log_path.read_text(errors="replace").splitlines()[-20:])
                    raise RuntimeError(f"{server.name} exited ({server.proc.returncode}):\n{tail}")
                if self._is_ready(server):
                    ready[server.name] = round(time.monotonic() - started, 1)
                    pending.remove(server)
                    log(f"{server.name} ready after {ready[server.name]} s")
            time.sleep(0.5)
        assert self.nginx
        if not self.nginx.alive():
            raise RuntimeError("nginx exited: see " + str(self.nginx.log_path))
        reply = requests.post(
            self.url_all + "/webhooks/rest/webhook",
            json={"sender": "scale-readiness-nginx", "message": "/start"},
            timeout=30,
        )
        if reply.status_code != 200:
            raise RuntimeError(f"nginx -> Rasa answered {reply.status_code}")
        return ready

    @staticmethod
    def _is_ready(server: Server) -> bool:
        try:
            if server.name.startswith("actions"):
                return requests.get(server.url + "/health", timeout=2).ok
            if requests.get(server.url + "/", timeout=2).status_code != 200:
                return False
            reply = requests.post(
                server.url + "/webhooks/rest/webhook",
                json={"sender": f"scale-readiness-{server.name}", "message": "/start"},
                timeout=30,
            )
            return reply.status_code == 200 and isinstance(reply.json(), list)
        except (requests.RequestException, ValueError):
            return False

    @property
    def url_all(self) -> str:
        return f"http://127.0.0.1:{self.ports['nginx_all']}"

    @property
    def url_one(self) -> str:
        return f"http://127.0.0.1:{self.ports['nginx_one']}"

    # --- accounting -----------------------------------------------------------------------

    def groups(self) -> dict[str, list[Any]]:
        """Process roots per component, for CPU accounting (bench.procs.cpu_seconds)."""
        out: dict[str, list[Any]] = {s.name: [s.proc] for s in self.rasa}
        out["actions"] = [s.proc for s in self.actions]
        out["nginx"] = [self.nginx.proc] if self.nginx else []
        if self.services:
            out["redis"] = [SimpleNamespace(pid=p) for p in [self.services.redis_pid()] if p]
            out["postgres"] = [SimpleNamespace(pid=p) for p in [self.services.postgres_pid()] if p]
        return out

    def kill_replica(self, server: Server) -> None:
        """SIGKILL the replica's whole process group, as a crashed node would."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(server.proc.pid, signal.SIGKILL)

    # --- stop -----------------------------------------------------------------------------

    def stop_all(self) -> None:
        self.procs.stop_all()
        if self.services:
            self.services.stop()
        shutil.rmtree(self.tmp, ignore_errors=True)
