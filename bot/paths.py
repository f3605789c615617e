"""Where the project's files live (computed, nothing is read at import time)."""

from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LOCALES_DIR = ROOT / "locales"
DATA_DIR = ROOT / "data"
DOMAIN_DIR = ROOT / "domain"
MODELS_DIR = ROOT / "models"


def var_dir() -> Path:
    """Runtime state (SQLite file, trained helper models); created on demand."""
    path = Path(os.environ.get("LUMI_VAR_DIR", ROOT / "var"))
    path.mkdir(parents=True, exist_ok=True)
    return path
