"""Lumi's web app: the child chat page, the parents' corner, a printable page,
and a server-side proxy to the Rasa REST webhook (see ``docs/web.md``).

``create_app()`` builds the Starlette app; nothing is created at import time.
Run it with ``python -m bot.web --port N`` (the launcher does this).
"""

from __future__ import annotations

from typing import Any

__all__ = ["create_app"]


def create_app(*args: Any, **kwargs: Any) -> Any:
    """See :func:`bot.web.app.create_app` (imported lazily)."""
    from bot.web.app import create_app as _create_app

    return _create_app(*args, **kwargs)
