"""Processes of the benchmark: build, start, watch and always stop both assistants.

Every child is started in its own session (process group); ``Processes.stop_all``
signals whole groups (SIGTERM, then SIGKILL), so nothing outlives a run, even
on Ctrl-C.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
READY_TIMEOUT_S = 300


def rasa_version() -> str:
    from importlib.metadata import version

    return version("rasa")


def bench_var() -> Path:
    path = ROOT / "var" / "bench"
    path.mkdir(parents=True, exist_ok=True)
    return path


def rasa_env() -> dict[str, str]:
    return {**os.environ, "RASA_TELEMETRY_ENABLED": "false", "PYTHONUNBUFFERED": "1"}


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", flush=True)


def stop_group(proc: subprocess.Popen, timeout: float = 20) -> None:
    """SIGTERM the process group, wait, then SIGKILL what is left."""
    if proc.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=timeout)
    # children may survive their leader: kill the whole group regardless
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(timeout=5)


@dataclass
class Processes:
    """Everything this run started; ``stop_all`` is safe to call twice."""

    procs: list[subprocess.Popen] = field(default_factory=list)
    stacks: list[Any] = field(default_factory=list)

    def popen(self, command: list[str], *, cwd: Path, log_path: Path, **kw: Any):
        handle = log_path.open("ab")
        proc = subprocess.Popen(
            command,
            cwd=cwd,
            env=kw.pop("env", rasa_env()),
            stdout=handle,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            **kw,
        )
        handle.close()
        self.procs.append(proc)
        return proc

    def run(self, command: list[str], *, cwd: Path, log_path: Path, timeout: float) -> int:
        """Run to completion (interruptible: Ctrl-C stops the child's whole group)."""
        proc = self.popen(command, cwd=cwd, log_path=log_path)
        try:
            return proc.wait(timeout=timeout)
        finally:
            stop_group(proc, timeout=5)

    def stop_all(self) -> None:
        for stack in self.stacks:
            with contextlib.suppress(Exception):
                stack.stop_all()
        for proc in reversed(self.procs):
            with contextlib.suppress(Exception):
                stop_group(proc)


def interrupt_on_sigterm() -> None:
    """SIGTERM behaves like Ctrl-C: the run's ``finally`` stops everything."""

    def handler(signum, frame):  # noqa: ARG001
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, handler)


# --- the stock assistant ---------------------------------------------------------------------


def stock_dir() -> Path:
    return bench_var() / "stock" / f"rasa-{rasa_version()}"


def ensure_stock(procs: Processes) -> dict[str, Any]:
    """The cached stock ``rasa init`` project, created (and trained) if missing."""
    target = stock_dir()
    meta_path = target / "bench-meta.json"
    if meta_path.exists() and list((target / "models").glob("*.tar.gz")):
        meta = json.loads(meta_path.read_text())
        meta["cached"] = True
        log(f"stock assistant: cached at {target.relative_to(ROOT)}")
        return meta
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.rmtree(target, ignore_errors=True)
    work = Path(tempfile.mkdtemp(prefix="stock-", dir=target.parent))
    project = work / "project"
    project.mkdir()  # rasa init --no-prompt wants an existing (empty) folder
    log(f"stock assistant: rasa init --no-prompt (trains itself, ~1.5 min) in {project}")
    started = time.monotonic()
    code = procs.run(
        [str(BIN / "rasa"), "init", "--no-prompt", "--init-dir", str(project)],
        cwd=work,
        log_path=work / "init.log",
        timeout=1200,
    )
    seconds = time.monotonic() - started
    if code != 0 or not list((project / "models").glob("*.tar.gz")):
        raise RuntimeError(f"rasa init failed (exit {code}); see {work / 'init.log'}")
    meta = {
        "rasa_version": rasa_version(),
        "init_and_train_s": round(seconds, 1),
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "load_average_during": list(os.getloadavg()),
    }
    (project / "bench-meta.json").write_text(json.dumps(meta, indent=2) + "\n")
    shutil.move(str(work / "init.log"), project / "init.log")
    project.rename(target)
    shutil.rmtree(work, ignore_errors=True)
    log(f"stock assistant: created and trained in {seconds:.0f} s")
    meta["cached"] = False
    return meta


@dataclass
class Bot:
    name: str
    url: str
    roots: list[subprocess.Popen]
    started_at: float
    ready_s: float | None = None
    first_text_turn_ms: float | None = None  # the readiness probe: the first typed message


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_stock(procs: Processes, workdir: Path) -> Bot:
    project = stock_dir()
    port = free_port()
    command = [
        str(BIN / "rasa"), "run", "--model", "models", "--port", str(port),
        "--interface", "127.0.0.1", "--credentials", "credentials.yml",
        "--endpoints", "endpoints.yml", "--enable-api",
    ]  # fmt: skip
    proc = procs.popen(command, cwd=project, log_path=workdir / "stock-rasa.log")
    return Bot("stock", f"http://127.0.0.1:{port}", [proc], time.monotonic())


def start_ours(procs: Processes, workdir: Path) -> tuple[Bot, Any]:
    """Rasa + action server via the tests' ``Stack`` (the launcher's own commands)."""
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    from tests.servers import Stack

    workdir.mkdir(parents=True, exist_ok=True)
    stack = Stack.create(workdir)
    procs.stacks.append(stack)
    stack.start("actions")
    stack.start("rasa")
    roots = [stack.procs["rasa"], stack.procs["actions"]]
    return Bot("ours", stack.rasa_url, roots, time.monotonic()), stack


def wait_ready(bot: Bot, stack: Any = None) -> None:
    """Ready per the contract: GET / answers 200 and the webhook answers a JSON list."""
    import requests

    if stack is not None:
        stack.wait_actions()
    deadline = time.monotonic() + READY_TIMEOUT_S
    while time.monotonic() < deadline:
        for proc in bot.roots:
            if proc.poll() is not None:
                raise RuntimeError(f"{bot.name}: a process exited early (code {proc.returncode})")
        try:
            if requests.get(bot.url + "/", timeout=2).status_code == 200:
                sent = time.perf_counter()
                reply = requests.post(
                    bot.url + "/webhooks/rest/webhook",
                    json={"sender": "bench-readiness", "message": "hi"},
                    timeout=30,
                )
                if reply.status_code == 200 and isinstance(reply.json(), list):
                    bot.first_text_turn_ms = round((time.perf_counter() - sent) * 1000, 1)
                    bot.ready_s = round(time.monotonic() - bot.started_at, 1)
                    return
        except (requests.RequestException, ValueError):
            pass
        time.sleep(0.5)
    raise TimeoutError(f"{bot.name} not ready after {READY_TIMEOUT_S} s")


def wait_ready_file(path: Path, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists():
        if time.monotonic() > deadline:
            raise TimeoutError(f"{path} did not appear within {timeout:.0f} s")
        time.sleep(0.2)


# --- our model -------------------------------------------------------------------------------

TRAINED = re.compile(r"Rasa model trained in (\d+(?:\.\d+)?) s")


def build_ours(procs: Processes, workdir: Path, force: bool = False) -> dict[str, Any]:
    """``python -m bot.build`` (trains only if inputs changed); its figures."""
    command = [sys.executable, "-m", "bot.build"] + (["--force"] if force else [])
    log("ours: " + " ".join(command[1:]) + (" (forced training, 1-2 min)" if force else ""))
    log_path = workdir / ("build-force.log" if force else "build.log")
    started = time.monotonic()
    code = procs.run(command, cwd=ROOT, log_path=log_path, timeout=1800)
    seconds = time.monotonic() - started
    output = log_path.read_text(errors="replace")
    if code != 0:
        tail = "\n".join(output.splitlines()[-15:])
        raise RuntimeError(f"bot.build failed (exit {code}):\n{tail}")
    match = TRAINED.search(output)
    return {
        "forced": force,
        "trained": bool(match),
        "rasa_train_s": float(match.group(1)) if match else None,
        "build_wall_s": round(seconds, 1),
        "load_average_after": [round(x, 2) for x in os.getloadavg()],
    }


def check_stories(workdir: Path) -> str | None:
    """None when the stories validate, else the validator's complaint."""
    out = subprocess.run(
        [sys.executable, "-m", "bot.stories.validate"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    return None if out.returncode == 0 else (out.stdout + out.stderr)[-2000:]


# --- resources ---------------------------------------------------------------------------------


def tree(proc: subprocess.Popen) -> list[Any]:
    import psutil

    try:
        root = psutil.Process(proc.pid)
        return [root, *root.children(recursive=True)]
    except psutil.NoSuchProcess:
        return []


@dataclass
class MemorySampler:
    """Samples RSS (summed over each bot's process trees) every ``interval`` seconds."""

    bots: dict[str, list[subprocess.Popen]]
    interval: float = 0.5
    samples: list[tuple[float, dict[str, int]]] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def rss(self) -> dict[str, int]:
        import psutil

        totals: dict[str, int] = {}
        for bot, roots in self.bots.items():
            total = 0
            for root in roots:
                for proc in tree(root):
                    with contextlib.suppress(psutil.Error):
                        total += proc.memory_info().rss
            totals[bot] = total
        return totals

    def _loop(self) -> None:
        while not self._stop.is_set():
            self.samples.append((time.monotonic(), self.rss()))
            self._stop.wait(self.interval)

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="rss-sampler", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread:
            self._thread.join(timeout=5)

    def window(self, bot: str, start: float, end: float) -> dict[str, float | None]:
        values = [s[1].get(bot, 0) for s in self.samples if start <= s[0] <= end]
        values = [v for v in values if v]
        if not values:
            return {"rss_peak_mb": None, "rss_mean_mb": None, "rss_samples": 0}
        mb = 1024 * 1024
        return {
            "rss_peak_mb": round(max(values) / mb, 1),
            "rss_mean_mb": round(sum(values) / len(values) / mb, 1),
            "rss_samples": len(values),
        }


def per_process(roots: list[subprocess.Popen]) -> list[dict[str, Any]]:
    """Name, RSS, USS and PSS of every process of a bot (PSS shares libraries fairly)."""
    import psutil

    rows = []
    for root in roots:
        for proc in tree(root):
            with contextlib.suppress(psutil.Error):
                full = proc.memory_full_info()
                rows.append(
                    {
                        "pid": proc.pid,
                        "cmd": " ".join(proc.cmdline()[:4])[:120],
                        "rss_mb": round(full.rss / 2**20, 1),
                        "uss_mb": round(full.uss / 2**20, 1),
                        "pss_mb": round(getattr(full, "pss", 0) / 2**20, 1),
                    }
                )
    return rows


def cpu_seconds(roots: list[subprocess.Popen]) -> float:
    import psutil

    total = 0.0
    for root in roots:
        for proc in tree(root):
            with contextlib.suppress(psutil.Error):
                times = proc.cpu_times()
                total += times.user + times.system
    return total


def machine_busy_seconds() -> float:
    """CPU seconds used by the whole machine so far (all cores, not idle/iowait)."""
    import psutil

    times = psutil.cpu_times()
    idle = times.idle + getattr(times, "iowait", 0.0)
    return sum(times) - idle - getattr(times, "guest", 0.0) - getattr(times, "guest_nice", 0.0)


def self_cpu_seconds() -> float:
    times = os.times()
    return times.user + times.system
