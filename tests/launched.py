"""``python -m bot.launcher`` as a user starts it (``make run``), for fault tests.

Unlike :class:`tests.servers.Stack`, nothing here starts a server itself: the
launcher does, under supervisor, and the tests only find its processes (by
asking its supervisord) and kill them by PID, the way a crash would.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests

from bot.launcher import supervisor_rpc
from bot.paths import ROOT
from tests.servers import READY_TIMEOUT, free_port, wait_until

TOKEN = "launched-test-token"


@dataclass
class Launched:
    workdir: Path
    args: tuple[str, ...] = ()
    extra_env: dict[str, str] = field(default_factory=dict)
    ports: dict[str, int] = field(default_factory=dict)
    proc: subprocess.Popen | None = None
    started_at: float = 0.0

    def __post_init__(self) -> None:
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.ports = {"rasa": free_port(), "actions": free_port(), "web": free_port()}

    @property
    def output(self) -> Path:
        return self.workdir / "launcher-output.txt"

    @property
    def rasa_url(self) -> str:
        return f"http://127.0.0.1:{self.ports['rasa']}"

    @property
    def web_url(self) -> str:
        return f"http://127.0.0.1:{self.ports['web']}"

    def env(self) -> dict[str, str]:
        env = {
            k: v for k, v in os.environ.items() if not k.startswith(("LUMI_", "RASA_", "SANIC_"))
        }
        env.pop("REDIS_URL", None)
        env.update(
            RASA_PORT=str(self.ports["rasa"]),
            ACTION_PORT=str(self.ports["actions"]),
            WEB_PORT=str(self.ports["web"]),
            RASA_TOKEN=TOKEN,
            LUMI_VAR_DIR=str(self.workdir),
            RASA_TELEMETRY_ENABLED="false",
        )
        env.update(self.extra_env)
        return env

    def start(self) -> Launched:
        self.started_at = time.monotonic()
        self.proc = subprocess.Popen(  # noqa: S603
            [sys.executable, "-m", "bot.launcher", *self.args],
            cwd=ROOT,
            env=self.env(),
            stdout=self.output.open("ab"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        return self

    # ------------------------------------------------------------------ its processes

    def rpc(self) -> Any:
        return supervisor_rpc(self.workdir)

    def info(self, name: str) -> dict[str, Any]:
        info: dict[str, Any] = self.rpc().supervisor.getProcessInfo(name)
        return info

    def pid(self, name: str) -> int:
        return int(self.info(name)["pid"])

    def kill(self, name: str, sig: int = signal.SIGKILL) -> tuple[int, float]:
        """Kill the program's process by its PID; returns (pid, monotonic time)."""
        pid = self.pid(name)
        assert pid > 0, f"{name} is not running"
        os.kill(pid, sig)
        return pid, time.monotonic()

    def answers(self, name: str) -> bool:
        try:
            if name == "actions":
                url = f"http://127.0.0.1:{self.ports['actions']}/health"
                return requests.get(url, timeout=2).ok
            if name == "web":
                return requests.get(self.web_url + "/healthz", timeout=2).ok
            if requests.get(self.rasa_url + "/", timeout=2).status_code != 200:
                return False
            reply = requests.post(
                self.rasa_url + "/webhooks/rest/webhook",
                json={"sender": "readiness-probe", "message": "/start"},
                timeout=30,
            )
            return reply.status_code == 200 and isinstance(reply.json(), list)
        except (requests.RequestException, ValueError):
            return False

    def wait_ready(self, names: tuple[str, ...] = ("actions", "rasa", "web")) -> float:
        assert self.proc is not None
        for name in names:
            wait_until(lambda n=name: self._alive() and self.answers(n), READY_TIMEOUT, name)
        return time.monotonic() - self.started_at

    def wait_back(self, name: str, old_pid: int, timeout: float = READY_TIMEOUT) -> float:
        """Seconds from now until supervisor has a new process answering for ``name``."""
        started = time.monotonic()

        def back() -> bool:
            self._alive()
            info = self.info(name)
            return info["pid"] not in (0, old_pid) and self.answers(name)

        wait_until(back, timeout, f"{name} after a restart")
        return time.monotonic() - started

    def _alive(self) -> bool:
        assert self.proc is not None
        if self.proc.poll() is not None:
            raise RuntimeError(f"the launcher exited ({self.proc.returncode}): {self.tail()}")
        return True

    # ------------------------------------------------------------------ stopping

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 60) -> float:
        """Stop the launcher as a user would (SIGTERM, or SIGINT for Ctrl-C)."""
        if self.proc is None or self.proc.poll() is not None:
            return 0.0
        started = time.monotonic()
        self.proc.send_signal(sig)
        try:
            self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=10)
            raise
        return time.monotonic() - started

    def kill_everything(self) -> None:
        """Last resort after a failed test: the launcher's session, whatever is left."""
        if self.proc is not None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.proc.wait(timeout=30)
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGKILL)

    def ports_free(self) -> list[int]:
        """The ports still taken (empty when every one was freed)."""
        taken = []
        for port in self.ports.values():
            with socket.socket() as sock:
                # as a restarted server binds (closed client connections may linger)
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                try:
                    sock.bind(("127.0.0.1", port))
                except OSError:
                    taken.append(port)
        return taken

    def tail(self, lines: int = 60) -> str:
        if not self.output.exists():
            return ""
        return "\n".join(self.output.read_text(errors="replace").splitlines()[-lines:])

    def log(self, name: str) -> str:
        path = self.workdir / "log" / f"{name}.log"
        return path.read_text(errors="replace") if path.exists() else ""
