"""Faults through ``make run``'s own launcher (``python -m bot.launcher``).

Two launchers start at once at the beginning of the session (their Rasa
servers load together): the embedded default, with the web app and the
conversation store on a small disk of its own (a tmpfs, so the test can fill
it), and one configured with Redis (``REDIS_URL``). The tests kill the
launcher's processes by PID while a class of 30 children plays through the
web app (``bench.load.Driver``), and record what happened in
``var/launcher-faults.json`` (quoted by docs/robustness.md).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shutil
import subprocess
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import requests

from bot.paths import ROOT
from tests.launched import Launched
from tests.netns import Netns, NetnsUnavailable
from tests.servers import free_port, require_model, wait_until

RESULTS_FILE = ROOT / "var" / "launcher-faults.json"
SMALL_DISK_MB = 48


def pytest_collection_modifyitems(config, items):
    for item in items:
        if "tests/launcher/" in str(item.fspath):
            item.add_marker(pytest.mark.model)
            item.add_marker(pytest.mark.e2e)


# --------------------------------------------------------------------------- results


@pytest.fixture(scope="session")
def results():
    found: dict[str, Any] = {}
    started = time.monotonic()
    yield found
    if found:
        RESULTS_FILE.parent.mkdir(parents=True, exist_ok=True)
        data = {
            "written": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "command": ".venv/bin/python -m pytest tests/launcher -q",
            "duration_s": round(time.monotonic() - started, 1),
            **found,
        }
        RESULTS_FILE.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n")


# --------------------------------------------------------------------------- a small disk


@dataclass
class SmallDisk:
    path: Path
    mounted: bool

    def fill(self) -> Path:
        """Fill the disk to the last byte; returns the filler file."""
        filler = self.path / "filler.bin"
        descriptor = os.open(filler, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            for size in (1 << 20, 1 << 12, 1):  # megabytes, then the last bytes
                with contextlib.suppress(OSError):
                    while True:
                        os.write(descriptor, b"\0" * size)
        finally:
            os.close(descriptor)
        return filler


def _mount_small_disk(path: Path) -> SmallDisk:
    path.mkdir(parents=True, exist_ok=True)
    result = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={SMALL_DISK_MB}m,mode=0700", "tmpfs", str(path)],
        capture_output=True,
        text=True,
        check=False,
    )
    return SmallDisk(path, result.returncode == 0)


# --------------------------------------------------------------------------- Redis


@dataclass
class RedisServer:
    port: int
    directory: Path
    proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.proc = subprocess.Popen(  # noqa: S603
            [
                "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "yes",
                "--appendfsync",
                "always",
                "--dir",
                str(self.directory),
            ],  # fmt: skip
            stdout=(self.directory / "redis.log").open("ab"),
            stderr=subprocess.STDOUT,
        )
        wait_until(self.ping, 20, "Redis")

    def ping(self) -> bool:
        out = subprocess.run(
            ["redis-cli", "-p", str(self.port), "ping"], capture_output=True, text=True, check=False
        )
        return out.stdout.strip() == "PONG"

    def stop(self) -> None:
        """``redis-cli shutdown``: what an administrator (or a package upgrade) does."""
        if self.proc is None:
            return
        subprocess.run(["redis-cli", "-p", str(self.port), "shutdown"], check=False)
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=5)
        self.proc = None


# --------------------------------------------------------------------------- the launchers


@dataclass
class Launchers:
    main: Launched
    disk: SmallDisk
    redis: Launched | None
    redis_server: RedisServer | None
    netns: Netns | None = None
    netns_error: str = ""
    boot_s: dict[str, float] = field(default_factory=dict)


@pytest.fixture(scope="session")
def launchers(tmp_path_factory):
    require_model()
    base = tmp_path_factory.mktemp("launcher-faults")
    disk = _mount_small_disk(base / "small-disk")
    extra = {}
    if disk.mounted:
        extra = {
            "TRACKER_STORE_URL": f"sqlite:///{disk.path / 'conversations.db'}",
            "DATABASE_URL": f"sqlite:///{disk.path / 'lumi.db'}",
        }
    netns, netns_error = None, ""
    try:
        netns = Netns.create()  # a pupil's tablet on the school network
        extra["LUMI_LAN_ADDRESS"] = netns.host_address  # the laptop's address on that network
    except NetnsUnavailable as error:
        netns_error = str(error)
    # As `make class` starts it: the web app on every interface, Rasa and actions on loopback.
    main = Launched(base / "main", args=("--quiet", "--class"), extra_env=extra).start()
    redis_server = redis = None
    if shutil.which("redis-server") and shutil.which("redis-cli"):
        redis_dir = base / "redis-data"
        redis_dir.mkdir()
        redis_server = RedisServer(free_port(), redis_dir)
        redis_server.start()
        redis = Launched(
            base / "with-redis", args=("--quiet", "--no-web"), extra_env={"REDIS_URL": ""}
        )
        redis.extra_env["REDIS_URL"] = redis_server.url
        redis.start()
    found = Launchers(main, disk, redis, redis_server, netns, netns_error)
    try:
        found.boot_s["main"] = round(main.wait_ready(), 1)
        if redis is not None:
            found.boot_s["with_redis"] = round(redis.wait_ready(("actions", "rasa")), 1)
    except (TimeoutError, RuntimeError):
        print(main.tail(), main.log("rasa")[-3000:])
        _teardown(found)
        raise
    yield found
    _teardown(found)


def _teardown(found: Launchers) -> None:
    for launched in (found.main, found.redis):
        if launched is not None:
            launched.kill_everything()
    if found.redis_server is not None:
        found.redis_server.stop()
    if found.disk.mounted:
        subprocess.run(["umount", "-l", str(found.disk.path)], check=False)
    if found.netns is not None:
        found.netns.remove()


# --------------------------------------------------------------------------- load and probes


class ClassLoad(threading.Thread):
    """A class of 30 children playing through the web app (the benchmark's driver)."""

    def __init__(self, web_url: str, duration_s: float, users: int = 30) -> None:
        super().__init__(name="class-load", daemon=True)
        self.web_url = web_url
        self.duration_s = duration_s
        self.users = users
        self.result: Any = None
        self.error: BaseException | None = None
        self.stopping = threading.Event()

    def run(self) -> None:
        from bench.load import Driver

        driver = Driver(self.web_url, "ours", seed=11, timeout_s=30)
        driver.url = self.web_url + "/api/message"
        try:
            self.result = asyncio.run(
                driver.run_scenario(
                    "class",
                    users=self.users,
                    duration_s=self.duration_s,
                    think=(2.0, 8.0),  # bench.run's class scenario
                    ramp_s=3,
                    stop=self.stopping,
                )
            )
        except BaseException as error:  # noqa: BLE001 - reported by the test
            self.error = error

    def finish(self, stop: bool = False) -> Any:
        if stop:
            self.stopping.set()
        self.join(timeout=(10 if stop else self.duration_s) + 60)
        assert self.error is None, self.error
        return self.result


DISCLOSURES = (
    ("fr", "FR", "un homme sur insta me demande des photos de moi et dit de ne rien dire"),
    ("en", "GB", "he says he is coming to my house tonight to pick me up, i am scared"),
    ("fr", "BE", "quelqu'un me menace de publier mes photos si je paye pas"),
    ("en", "IE", "a man online keeps asking me to send pictures and says it's our secret"),
)


def help_in(reply: Any) -> list[dict[str, Any]]:
    """The helplines a reply gives (a safeguarding or helplines payload)."""
    messages = reply if isinstance(reply, list) else (reply or {}).get("messages") or []
    found = []
    for message in messages:
        custom = message.get("custom") if isinstance(message, dict) else None
        if isinstance(custom, dict) and custom.get("kind") in ("safeguard", "helplines"):
            found += [h for h in custom.get("helplines") or [] if isinstance(h, dict)]
    return found


class Disclosures(threading.Thread):
    """New children disclosing through the web app, one a second, until stopped."""

    def __init__(self, web_url: str) -> None:
        super().__init__(name="disclosures", daemon=True)
        self.web_url = web_url
        self.stopping = threading.Event()
        self.sent: list[dict[str, Any]] = []

    def run(self) -> None:
        index = 0
        while not self.stopping.is_set():
            lang, country, text = DISCLOSURES[index % len(DISCLOSURES)]
            index += 1
            sender = f"disclose-{uuid.uuid4().hex[:12]}"
            body = {
                "sender": sender,
                "message": text,
                "metadata": {"language": lang, "country": country},
            }
            record: dict[str, Any] = {"at": time.monotonic(), "lang": lang, "country": country}
            try:
                answer = requests.post(self.web_url + "/api/message", json=body, timeout=30)
                record["status"] = answer.status_code
                data = answer.json()
                record["helplines"] = len(help_in(data))
                messages = data if isinstance(data, list) else data.get("messages") or []
                said = [m.get("text") for m in messages if isinstance(m, dict) and m.get("text")]
                record["first_reply"] = str(said[0])[:60] if said else None  # Lumi's words
                record["levels"] = sorted(
                    {
                        str(m["custom"].get("level"))
                        for m in messages
                        if isinstance(m, dict)
                        and isinstance(m.get("custom"), dict)
                        and m["custom"].get("kind") == "safeguard"
                    }
                )
                record["payload_langs"] = sorted(
                    {
                        m["custom"].get("lang")
                        for m in (data if isinstance(data, list) else data.get("messages") or [])
                        if isinstance(m, dict) and isinstance(m.get("custom"), dict)
                    }
                    - {None}
                )
            except (requests.RequestException, ValueError) as error:
                record["status"] = 0
                record["error"] = type(error).__name__
                record["helplines"] = 0
            self.sent.append(record)
            self.stopping.wait(1.0)

    def finish(self) -> list[dict[str, Any]]:
        self.stopping.set()
        self.join(timeout=60)
        return self.sent


def window(samples: list[Any], since: float, until: float | None = None) -> list[Any]:
    """Samples sent in [since, until) (perf_counter times converted by the caller)."""
    return [s for s in samples if s.started >= since and (until is None or s.started < until)]
