"""``python -m bot.storage.cli``: migrate, export, erase, purge, create-teacher."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.paths import ROOT
from bot.storage import Store
from bot.storage.cli import main
from bot.storage.validate import new_learner_id

pytest_plugins = ["tests.storage_fixtures"]


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_cli_commands(
    storage_url: str,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    url = ["--database-url", storage_url]
    assert run(capsys, *url, "migrate") == (0, "database at revision 0005\n", "")

    store = Store(storage_url)
    lid = store.ensure_learner(None, age_band="8-10", language="fr", country="FR")
    assert lid is not None
    store.record_story_end(lid, "lost_skin", [{"mark": "safe", "tactic": "bribe"}], 100)
    store.award_badge(lid, "first_story")
    store.dispose()

    code, out, _ = run(capsys, *url, "export", lid)
    assert code == 0
    data = json.loads(out)
    assert data["learner"]["id"] == lid and data["badges"][0]["badge_id"] == "first_story"
    target = tmp_path / "export.json"
    assert run(capsys, *url, "export", lid, "-o", str(target))[0] == 0
    assert json.loads(target.read_text())["learner"]["id"] == lid

    unknown = new_learner_id()
    assert run(capsys, *url, "export", unknown)[0] == 1
    assert run(capsys, *url, "erase", unknown) == (1, "", "no learner with this id\n")
    assert run(capsys, *url, "erase", "not a token!")[0] == 2
    assert run(capsys, *url, "erase", lid) == (0, "learner erased\n", "")
    assert run(capsys, *url, "export", lid)[0] == 1

    monkeypatch.setenv("TRACKER_STORE_URL", f"sqlite:///{tmp_path / 'conversations.db'}")
    code, out, _ = run(capsys, *url, "purge", "--days", "30")
    assert code == 0 and json.loads(out)["days"] == 30
    assert json.loads(out)["conversations"]["conversations"] == 0  # idle ones expire too
    assert run(capsys, *url, "purge", "--days", "-3")[0] == 2
    monkeypatch.setenv("RETENTION_DAYS", "12")
    code, out, _ = run(capsys, *url, "purge")
    assert code == 0 and json.loads(out)["days"] == 12

    monkeypatch.setenv("LUMI_TEACHER_PASSWORD", "correct horse battery")
    code, out, err = run(capsys, *url, "create-teacher", "prof.cli@ecole.fr")
    assert code == 0 and out.startswith("teacher created (id ") and err == ""
    code, _, err = run(capsys, *url, "create-teacher", "prof.cli@ecole.fr")
    assert code == 2 and "already taken" in err
    monkeypatch.setenv("LUMI_TEACHER_PASSWORD", "short")
    assert run(capsys, *url, "create-teacher", "other.prof")[0] == 2
    store = Store(storage_url)
    assert store.verify_teacher("prof.cli@ecole.fr", "correct horse battery") is not None
    store.dispose()


def test_cli_without_password_or_database(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("LUMI_TEACHER_PASSWORD", raising=False)
    url = ["--database-url", f"sqlite:///{tmp_path / 'x.db'}"]
    with open(os.devnull) as devnull:
        monkeypatch.setattr(sys, "stdin", devnull)  # not a terminal
        code, _, err = run(capsys, *url, "create-teacher", "prof")
    assert code == 2 and "LUMI_TEACHER_PASSWORD" in err

    down = "postgresql+psycopg2://lumi:hunter2hunter2@127.0.0.1:1/lumi"
    code, _, err = run(capsys, "--database-url", down, "purge")
    assert code == 3 and "unreachable" in err and "hunter2" not in err
    assert run(capsys, "--database-url", "nonsense", "migrate")[0] == 2
    with pytest.raises(SystemExit) as exit_info:
        main(["stale-helplines"])
    assert exit_info.value.code == 2


def test_cli_as_a_module_uses_database_url(tmp_path: Path) -> None:
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}"}
    out = subprocess.run(
        [sys.executable, "-m", "bot.storage.cli", "migrate"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout == "database at revision 0005\n"
    assert (tmp_path / "cli.db").is_file()
