"""French typography for every page: the one helper all templates go through.

French puts a non-breaking space before ``: ; ! ?`` and inside ``« »`` (and
between a number and ``%``), so that a lone "»" or "?" never wraps to a line of
its own. :func:`fix` does it for a text in a language (English is left as it is);
:func:`finalize` is the Jinja ``finalize`` hook (``bot.web.app``): every
``{{ ... }}`` of every template passes through it, in the page's language.
Punctuation written in a template itself goes through :func:`colon`.

Spaces: U+00A0 (no-break space) before ``:`` and inside guillemets, U+202F
(narrow no-break space) before ``; ! ?`` and ``%``, as the Imprimerie
nationale's rules have it. Addresses and times are left alone: the rule needs
a space or the end of the text after the sign (``https://``, ``10:30``,
``/teacher?lang=fr`` are untouched).
"""

from __future__ import annotations

import re
from typing import Any

from jinja2 import pass_context
from jinja2.runtime import Context
from markupsafe import Markup

NBSP = "\u00a0"
NNBSP = "\u202f"

_SPACES = "[ \u00a0\u202f]*"
_BEFORE = r"(?<=[\w\)\]»%…'’\"*])"  # a word, a number, a closing sign: not "//" or "!!"
_AFTER = r"(?=[ \u00a0\u202f\n\)\]\"'’<]|$)"
_HIGH = re.compile(_BEFORE + _SPACES + r"([;!?]+)" + _AFTER)
_COLON = re.compile(_BEFORE + _SPACES + ":" + _AFTER)
_OPEN = re.compile("«" + _SPACES)
_CLOSE = re.compile(_SPACES + "»")
_PERCENT = re.compile(r"(?<=\d)" + _SPACES + "%")


def fix(text: str, lang: str | None) -> str:
    """``text`` with French spacing when ``lang`` is French; unchanged otherwise."""
    if lang != "fr" or not text:
        return text
    text = _OPEN.sub("«" + NBSP, text)
    text = _CLOSE.sub(NBSP + "»", text)
    text = _HIGH.sub(NNBSP + r"\1", text)
    text = _COLON.sub(NBSP + ":", text)
    return _PERCENT.sub(NNBSP + "%", text)


def colon(lang: str | None) -> str:
    """ ": " as the language writes it, for a colon written in a template."""
    return NBSP + ": " if lang == "fr" else ": "


@pass_context
def finalize(context: Context, value: Any) -> Any:
    """Jinja's ``finalize``: plain text of a ``{{ }}`` in the page's ``lang``. Markup
    (a macro's output, already fixed inside) and non-text values pass as they are."""
    if isinstance(value, Markup) or not isinstance(value, str):
        return value
    return fix(value, context.get("lang"))


@pass_context
def template_colon(context: Context) -> str:
    return colon(context.get("lang"))
