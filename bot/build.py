"""Build what the servers need, only when its inputs changed (``make model``).

1. ``domain/responses.yml`` from the locales and the helpline directory;
2. the language classifier for undecided short messages from ``data/nlu/`` and
   the lexicon (the Rasa pipeline loads it while training);
3. the Rasa model ``models/lumi.tar.gz`` from config, domain and training data,
   retrained only when a fingerprint of those files changed, and meanwhile, in
   this process, the message checker's model from ``data/tactic_check/``.
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


def start_rasa(force: bool = False) -> tuple[subprocess.Popen[bytes], str, float] | None:
    """Start training the Rasa model if its inputs changed (None if up to date)."""
    current = fingerprint()
    up_to_date = MODEL.exists() and FINGERPRINT.exists()
    if not force and up_to_date and FINGERPRINT.read_text().strip() == current:
        print("Rasa model is up to date (inputs unchanged).", flush=True)
        return None
    MODELS_DIR.mkdir(exist_ok=True)
    rasa = Path(sys.executable).parent / "rasa"
    command = [
        str(rasa), "train", "--config", "config.yml", "--domain", "domain",
        "--data", *rasa_data_args(), "--out", str(MODELS_DIR),
        "--fixed-model-name", "lumi",
    ]  # fmt: skip
    print("Training the Rasa model (about 10 minutes on 2 cores)...", flush=True)
    env = {**os.environ, "RASA_TELEMETRY_ENABLED": "false"}
    return subprocess.Popen(command, cwd=ROOT, env=env), current, time.monotonic()


def finish_rasa(training: tuple[subprocess.Popen[bytes], str, float] | None) -> bool:
    """Wait for the training started by :func:`start_rasa`; True if it trained."""
    if training is None:
        return False
    process, current, started = training
    code = process.wait()
    if code:
        raise subprocess.CalledProcessError(code, process.args)
    FINGERPRINT.write_text(current + "\n")
    print(f"Rasa model trained in {time.monotonic() - started:.0f} s.", flush=True)
    return True


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--force", action="store_true", help="retrain even if nothing changed")
    args = parser.parse_args(argv)
    from bot import domain_gen

    domain_gen.main([])
    from bot import language

    # The Rasa pipeline loads the language classifier while it trains: first.
    language.train_classifier()
    # The message checker is not part of the Rasa model: trained meanwhile.
    training = start_rasa(force=args.force)
    try:
        if (DATA_DIR / "tactic_check").exists():
            from bot import checker

            checker.train()
    except BaseException:
        if training is not None:
            training[0].terminate()
            training[0].wait()
        raise
    finish_rasa(training)
    return 0


if __name__ == "__main__":
    sys.exit(main())
