"""Build what the servers need, only when its inputs changed (``make model``).

1. ``domain/responses.yml`` from the locales and the helpline directory;
2. the message checker's model from ``data/tactic_check/``, and the language
   classifier for undecided short messages from ``data/nlu/`` and the lexicon;
3. the Rasa model ``models/lumi.tar.gz`` from config, domain and training data,
   retrained only when a fingerprint of those files changed.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import subprocess
import sys
import time
from pathlib import Path

from bot.paths import DATA_DIR, DOMAIN_DIR, MODELS_DIR, ROOT

MODEL = MODELS_DIR / "lumi.tar.gz"
FINGERPRINT = MODELS_DIR / "lumi.fingerprint"
RASA_DATA = ("data/nlu", "data/rules", "data/stories")


def model_inputs() -> list[Path]:
    files = [ROOT / "config.yml", *sorted(DOMAIN_DIR.glob("*.yml"))]
    for folder in RASA_DATA:
        files += sorted((ROOT / folder).rglob("*.yml"))
    return files


def fingerprint() -> str:
    digest = hashlib.sha256()
    for path in model_inputs():
        digest.update(str(path.relative_to(ROOT)).encode())
        digest.update(b"\0")
        digest.update(path.read_bytes())
        digest.update(b"\0")
    return digest.hexdigest()


def rasa_data_args() -> list[str]:
    return [folder for folder in RASA_DATA if (ROOT / folder).exists()]


def train_rasa(force: bool = False) -> bool:
    """Train the Rasa model if its inputs changed; True if it trained."""
    current = fingerprint()
    up_to_date = MODEL.exists() and FINGERPRINT.exists()
    if not force and up_to_date and FINGERPRINT.read_text().strip() == current:
        print("Rasa model is up to date (inputs unchanged).", flush=True)
        return False
    MODELS_DIR.mkdir(exist_ok=True)
    rasa = Path(sys.executable).parent / "rasa"
    command = [
        str(rasa), "train", "--config", "config.yml", "--domain", "domain",
        "--data", *rasa_data_args(), "--out", str(MODELS_DIR),
        "--fixed-model-name", "lumi",
    ]  # fmt: skip
    print("Training the Rasa model (1-2 minutes)...", flush=True)
    started = time.monotonic()
    env = {**os.environ, "RASA_TELEMETRY_ENABLED": "false"}
    subprocess.run(command, cwd=ROOT, env=env, check=True)
    FINGERPRINT.write_text(current + "\n")
    print(f"Rasa model trained in {time.monotonic() - started:.0f} s.", flush=True)
    return True


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--force", action="store_true", help="retrain even if nothing changed")
    args = parser.parse_args(argv)
    from bot import domain_gen

    domain_gen.main([])
    if (DATA_DIR / "tactic_check").exists():
        from bot import checker

        checker.train()
    from bot import language

    language.train_classifier()
    train_rasa(force=args.force)
    return 0


if __name__ == "__main__":
    sys.exit(main())
