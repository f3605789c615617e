"""make run's launcher: ports, endpoints, clear messages."""

from __future__ import annotations

import socket
import subprocess
import sys

import pytest

from bot import launcher
from bot.paths import ROOT


def test_defaults_and_overrides():
    s = launcher.settings_from_env({})
    assert (s.rasa_port, s.action_port, s.web_port) == (5005, 5055, 8080)
    s = launcher.settings_from_env({"RASA_PORT": "6000", "ACTION_PORT": "6001", "WEB_PORT": "6002"})
    assert (s.rasa_port, s.action_port, s.web_port) == (6000, 6001, 6002)


@pytest.mark.parametrize("bad", ["abc", "0", "70000", "-1"])
def test_bad_port_values(bad):
    with pytest.raises(launcher.ConfigError, match="RASA_PORT"):
        launcher.settings_from_env({"RASA_PORT": bad})


def test_port_in_use_is_named():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        port = sock.getsockname()[1]
        s = launcher.settings_from_env(
            {"RASA_PORT": str(port), "ACTION_PORT": "1", "WEB_PORT": "2"}
        )
        problems = launcher.check_ports(s)
    assert any(f"Port {port} (RASA_PORT) is already in use" in p for p in problems)


def test_same_port_twice_is_refused():
    s = launcher.settings_from_env({"RASA_PORT": "6100", "ACTION_PORT": "6100"})
    assert any("both 6100" in p for p in launcher.check_ports(s))


def test_launcher_exits_with_a_clear_message_when_a_port_is_taken(tmp_path):
    with socket.socket() as sock:
        sock.bind(("0.0.0.0", 0))
        sock.listen()
        port = sock.getsockname()[1]
        model = tmp_path / "model.tar.gz"
        model.write_bytes(b"x")
        result = subprocess.run(
            [sys.executable, "-m", "bot.launcher", "--no-web"],
            cwd=ROOT,
            env={
                "PATH": "/usr/bin:/bin",
                "ACTION_PORT": str(port),
                "LUMI_MODEL": str(model),
                "LUMI_VAR_DIR": str(tmp_path),
            },
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert result.returncode == 1
    assert f"Port {port} (ACTION_PORT) is already in use" in result.stderr


def test_endpoints_in_memory_by_default_and_redis_by_url():
    s = launcher.settings_from_env({})
    assert "RedactingInMemoryTrackerStore" in launcher.endpoints_yaml(s)
    s = launcher.settings_from_env({"REDIS_URL": "redis://127.0.0.1:6390/4"})
    text = launcher.endpoints_yaml(s)
    assert "RedactingRedisTrackerStore" in text and "record_exp" in text
    assert "db: 4" in text and "db: 5" in text  # separate databases for tracker and locks


def test_action_server_binds_rasas_interface_and_keeps_connections_alive():
    settings = launcher.settings_from_env({"LUMI_HOST": "127.0.0.1"})
    env = launcher.process_env(settings, base={})
    assert env["SANIC_HOST"] == "127.0.0.1"  # rasa_sdk would bind 0.0.0.0
    assert int(env["SANIC_KEEP_ALIVE_TIMEOUT"]) > 5  # Sanic's default loses actions on stalls
    assert env["RASA_TELEMETRY_ENABLED"] == "false"
    # an operator's own choice (a container listening on all interfaces) is kept
    env = launcher.process_env(settings, base={"SANIC_HOST": "0.0.0.0"})
    assert env["SANIC_HOST"] == "0.0.0.0"
