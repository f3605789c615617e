"""``rasa data validate`` on the project's data, failing on any warning too."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from bot.build import rasa_data_args
from bot.paths import ROOT


def main() -> int:
    rasa = Path(sys.executable).parent / "rasa"
    command = [
        str(rasa), "data", "validate", "--fail-on-warnings",
        "--domain", "domain", "--data", *rasa_data_args(), "--config", "config.yml",
    ]  # fmt: skip
    env = {**os.environ, "RASA_TELEMETRY_ENABLED": "false"}
    return subprocess.run(command, cwd=ROOT, env=env).returncode


if __name__ == "__main__":
    sys.exit(main())
