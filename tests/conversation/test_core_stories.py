"""Rasa's own test stories (both languages) on the trained model."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from bot.paths import ROOT
from tests.servers import require_model


def test_rasa_test_stories_pass_in_both_languages(tmp_path: Path):
    require_model()
    rasa = Path(sys.executable).parent / "rasa"
    result = subprocess.run(
        [
            str(rasa),
            "test",
            "core",
            "--model",
            "models/lumi.tar.gz",
            "--stories",
            "tests/conversation/stories",
            "--out",
            str(tmp_path),
            "--fail-on-prediction-errors",
        ],  # fmt: skip
        cwd=ROOT,
        env={**os.environ, "RASA_TELEMETRY_ENABLED": "false"},
        capture_output=True,
        text=True,
        timeout=600,
    )
    failed = tmp_path / "failed_test_stories.yml"
    details = failed.read_text() if failed.exists() else ""
    assert result.returncode == 0, (result.stdout[-3000:] + result.stderr[-3000:] + details)[-6000:]
