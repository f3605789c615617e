"""``python -m bot.checker.train [--force]``: train the message checker's model
(skipped when its training data, cues and code version are unchanged)."""

from __future__ import annotations

import argparse
import logging
import sys
import types
from pathlib import Path
from typing import Any

from bot.checker import model


class _CallableModule(types.ModuleType):
    """Importing this module makes ``bot.checker.train`` name the module rather
    than the function :func:`bot.checker.model.train`; calling it still trains."""

    def __call__(self, force: bool = False, **kwargs: Any) -> Path:
        return model.train(force, **kwargs)


sys.modules[__name__].__class__ = _CallableModule


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--force", action="store_true", help="retrain even if up to date")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    path = model.train(force=args.force)
    meta = model.read_meta(path.parent)
    print(
        f"{path} ({meta.get('examples')} examples, trained in {meta.get('seconds')}s, "
        f"cross-validated macro-F1 {meta.get('cv_macro_f1')})"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
