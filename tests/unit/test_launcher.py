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


def test_endpoints_sql_by_default_and_redis_by_url():
    s = launcher.settings_from_env({})
    text = launcher.endpoints_yaml(s)
    assert "RedactingSQLTrackerStore" in text and "ttl_seconds" in text
    assert "url:" not in text.split("tracker_store:")[1]  # the store finds var/ itself
    s = launcher.settings_from_env({"TRACKER_STORE_URL": "postgresql://u:p@db/lumi"})
    assert "postgresql://u:p@db/lumi" in launcher.endpoints_yaml(s)
    s = launcher.settings_from_env({"REDIS_URL": "redis://127.0.0.1:6390/4"})
    text = launcher.endpoints_yaml(s)
    assert "RedactingRedisTrackerStore" in text and "record_exp" in text
    assert "db: 4" in text and "db: 5" in text  # separate databases for tracker and locks


def test_action_server_binds_rasas_interface_and_keeps_connections_alive():
    settings = launcher.settings_from_env({})
    env = launcher.process_env(settings, base={})
    assert env["SANIC_HOST"] == "127.0.0.1"  # rasa_sdk would bind 0.0.0.0
    assert int(env["SANIC_KEEP_ALIVE_TIMEOUT"]) > 5  # Sanic's default loses actions on stalls
    assert env["RASA_TELEMETRY_ENABLED"] == "false"
    # an operator's own choice (a container listening on all interfaces) is kept
    env = launcher.process_env(settings, base={"SANIC_HOST": "0.0.0.0"})
    assert env["SANIC_HOST"] == "0.0.0.0"


def test_rasa_and_actions_stay_on_loopback_and_the_web_app_has_its_own_host():
    s = launcher.settings_from_env({})
    assert (s.host, s.web_host) == ("127.0.0.1", "127.0.0.1")
    s = launcher.settings_from_env({}, classroom=True)  # make class
    assert (s.host, s.web_host) == ("127.0.0.1", "0.0.0.0")
    programs = launcher.commands(s, ROOT / "var" / "endpoints.yml")
    assert "--interface 127.0.0.1" in programs["rasa"]
    assert "--host 0.0.0.0" in programs["web"]
    assert launcher.process_env(s, base={})["SANIC_HOST"] == "127.0.0.1"
    s = launcher.settings_from_env({"LUMI_WEB_HOST": "10.1.2.3"}, classroom=True)
    assert s.web_host == "10.1.2.3"
    s = launcher.settings_from_env({"LUMI_BACKEND_HOST": "10.0.0.7"})  # multi-machine only
    assert s.host == "10.0.0.7" and s.web_host == "127.0.0.1"
    assert launcher.process_env(s, base={})["RASA_URL"] == "http://10.0.0.7:5005"


def test_the_old_setting_that_moved_everything_is_refused_with_a_reason():
    with pytest.raises(launcher.ConfigError, match="LUMI_WEB_HOST"):
        launcher.settings_from_env({"LUMI_HOST": "0.0.0.0"})


def test_pupils_address_is_the_lan_one_only_when_the_web_app_is_on_the_network():
    s = launcher.settings_from_env({})
    assert launcher.pupils_url(s, ["192.168.1.20"]) is None
    s = launcher.settings_from_env({"WEB_PORT": "8123"}, classroom=True)
    assert launcher.pupils_url(s, ["192.168.1.20", "10.0.0.2"]) == "http://192.168.1.20:8123"
    assert launcher.pupils_url(s, []) is None
    s = launcher.settings_from_env({"LUMI_PUBLIC_URL": "https://lumi.school.example/"})
    assert launcher.pupils_url(s, []) == "https://lumi.school.example"
    assert all(not a.startswith("127.") for a in launcher.lan_addresses())


def test_setup_codes_are_readable_and_random():
    codes = {launcher.new_setup_code() for _ in range(50)}
    assert len(codes) == 50
    for code in codes:
        left, right = code.split("-")
        assert len(left) == len(right) == 4
        assert set(left + right) <= set(launcher.SETUP_ALPHABET)


def test_supervisor_restarts_every_program_and_stops_whole_groups(tmp_path):
    s = launcher.settings_from_env({"RASA_TOKEN": "tok%en"})
    conf = launcher.supervisor_conf(s, tmp_path, launcher.commands(s, tmp_path / "e.yml"))
    assert conf.count("autorestart=true") == 3
    assert conf.count("stopasgroup=true") == 3 and conf.count("killasgroup=true") == 3
    assert "nodaemon=true" in conf and "chmod=0700" in conf
    assert "tok%%en" in conf  # supervisor expands %(...)s: a % is written %%
    import configparser

    parser = configparser.RawConfigParser()
    parser.read_string(conf)
    assert {"program:actions", "program:rasa", "program:web"} <= set(parser.sections())
    assert int(parser["program:rasa"]["startretries"]) >= 10
