"""Start and stop the real servers for end-to-end and browser tests."""

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

import requests

from bot.launcher import Settings, commands, endpoints_yaml, process_env
from bot.paths import MODELS_DIR, ROOT

MODEL = MODELS_DIR / "lumi.tar.gz"
READY_TIMEOUT = 240


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until(check, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    last_error: Exception | None = None
    while time.monotonic() < deadline:
        try:
            if check():
                return
        except Exception as error:  # not up yet
            last_error = error
        time.sleep(0.5)
    raise TimeoutError(f"{what} not ready after {timeout:.0f} s ({last_error})")


@dataclass
class Stack:
    """Rasa + action server (+ web app), each a process the test can stop and restart."""

    workdir: Path
    env: dict[str, str] = field(default_factory=dict)
    settings: Settings | None = None
    procs: dict[str, subprocess.Popen] = field(default_factory=dict)
    logs: dict[str, Path] = field(default_factory=dict)

    @classmethod
    def create(
        cls, workdir: Path, with_web: bool = False, extra_env: dict[str, str] | None = None
    ) -> Stack:
        settings = Settings(
            rasa_port=free_port(),
            action_port=free_port(),
            web_port=free_port(),
            host="127.0.0.1",
            database_url=None,
            redis_url=(extra_env or {}).get("REDIS_URL"),
            rasa_token="test-token",
            model=MODEL,
            with_web=with_web,
            # TRACKER_STORE=memory compares a run with the in-memory store
            tracker_store=os.environ.get("TRACKER_STORE", "sql"),
        )
        env = process_env(settings)
        env.update(LUMI_VAR_DIR=str(workdir), **(extra_env or {}))
        return cls(workdir=workdir, env=env, settings=settings)

    @property
    def rasa_url(self) -> str:
        assert self.settings
        return f"http://127.0.0.1:{self.settings.rasa_port}"

    @property
    def web_url(self) -> str:
        assert self.settings
        return f"http://127.0.0.1:{self.settings.web_port}"

    def start(self, name: str) -> None:
        assert self.settings
        endpoints = self.workdir / "endpoints.yml"
        endpoints.write_text(endpoints_yaml(self.settings), encoding="utf-8")
        command = commands(self.settings, endpoints)[name]
        log = self.workdir / f"{name}.log"
        self.logs[name] = log
        self.procs[name] = subprocess.Popen(
            command,
            shell=True,
            cwd=ROOT,
            env=self.env,
            stdout=log.open("ab"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def stop(self, name: str) -> None:
        proc = self.procs.pop(name, None)
        if proc is None:
            return
        try:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=20)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)

    def stop_all(self) -> None:
        for name in list(self.procs):
            self.stop(name)

    def wait_actions(self) -> None:
        assert self.settings
        url = f"http://127.0.0.1:{self.settings.action_port}/health"
        wait_until(lambda: requests.get(url, timeout=2).ok, 60, "action server")

    def wait_rasa(self) -> None:
        def ready() -> bool:
            if requests.get(self.rasa_url + "/", timeout=2).status_code != 200:
                return False
            reply = requests.post(
                self.rasa_url + "/webhooks/rest/webhook",
                json={"sender": "readiness-probe", "message": "/start"},
                timeout=30,
            )
            return reply.status_code == 200 and isinstance(reply.json(), list)

        wait_until(ready, READY_TIMEOUT, "Rasa server")

    def wait_web(self) -> None:
        wait_until(lambda: requests.get(self.web_url + "/healthz", timeout=2).ok, 60, "web app")

    def boot(self, *names: str) -> Stack:
        """Start these processes (default: actions and rasa) and wait until ready.

        On a timeout every process is stopped and the logs are printed.
        """
        names = names or ("actions", "rasa")
        for name in names:
            self.start(name)
        waits = {"actions": self.wait_actions, "rasa": self.wait_rasa, "web": self.wait_web}
        try:
            for name in names:
                waits[name]()
        except TimeoutError:
            for name in names:
                print(f"--- {name} log ---\n{self.log_tail(name)}")
            self.stop_all()
            raise
        return self

    def log_tail(self, name: str, lines: int = 40) -> str:
        path = self.logs.get(name)
        if not path or not path.exists():
            return ""
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])


def require_model() -> None:
    if not MODEL.exists():
        raise RuntimeError(f"no trained model at {MODEL}: run `make model` first ({sys.argv[0]})")
