"""scripts/services.sh and the boundaries of storage: Redis as started for tests,
and the safeguarding code never reaching the database."""

from __future__ import annotations

import ast
import os
import subprocess
from pathlib import Path

import pytest

from bot.paths import ROOT

SCRIPT = ROOT / "scripts" / "services.sh"


def redis_url() -> str | None:
    url = os.environ.get("TEST_REDIS_URL", "").strip()
    if url:
        return url
    var = Path(os.environ.get("LUMI_VAR_DIR", ROOT / "var"))
    for path in (var / "services.env", ROOT / "var" / "services.env"):
        if path.is_file():
            for line in path.read_text(encoding="utf-8").splitlines():
                if line.startswith("TEST_REDIS_URL="):
                    return line.split("=", 1)[1].strip()
    return None


def test_services_script_usage() -> None:
    out = subprocess.run(["bash", str(SCRIPT), "dance"], capture_output=True, text=True)
    assert out.returncode == 2 and "usage" in out.stderr
    syntax = subprocess.run(["bash", "-n", str(SCRIPT)], capture_output=True, text=True)
    assert syntax.returncode == 0, syntax.stderr


def test_test_redis_is_local_and_keeps_nothing() -> None:
    url = redis_url()
    if url is None:
        pytest.skip("no TEST_REDIS_URL (run: bash scripts/services.sh start)")
    import redis

    client = redis.Redis.from_url(url, socket_timeout=2)
    try:
        assert client.ping() is True
        assert client.config_get("save")["save"] == ""
        assert client.config_get("appendonly")["appendonly"] == "no"
        assert client.config_get("bind")["bind"] == "127.0.0.1"
    finally:
        client.close()


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def _module_file(name: str) -> Path | None:
    base = ROOT.joinpath(*name.split("."))
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def test_safeguarding_never_reaches_the_database() -> None:
    """bot.safeguarding (and every bot module it imports) imports no storage code."""
    package = ROOT / "bot" / "safeguarding"
    if not package.is_dir():
        pytest.skip("bot/safeguarding not written yet")
    todo = [f"bot.safeguarding.{p.stem}" for p in package.glob("*.py")]
    seen: set[str] = set()
    while todo:
        name = todo.pop()
        path = _module_file(name)
        if name in seen or path is None:
            continue
        seen.add(name)
        for imported in _imports(path):
            assert not imported.startswith("bot.storage"), (name, imported)
            assert imported.split(".")[0] not in {"sqlalchemy", "psycopg2", "redis", "sqlite3"}, (
                name,
                imported,
            )
            if imported.startswith("bot."):
                todo.append(imported)
    assert len(seen) >= 2
