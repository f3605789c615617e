"""Every word a person reads comes from ``locales/`` through python-i18n.

Layout: ``locales/<path>/<name>.<lang>.yml`` with the language as the root key.
A file ``locales/stories/lost_skin.en.yml`` holding ``en: {title: ...}`` gives
the key ``stories.lost_skin.title``; ``locales/menu.fr.yml`` gives ``menu.*``.

Files are read once, lazily, on the first lookup (never at import time).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import i18n
import yaml

from bot.paths import LOCALES_DIR

LANGUAGES: tuple[str, ...] = ("en", "fr")
DEFAULT_LANGUAGE = "en"

_lock = threading.Lock()
_keys: dict[str, set[str]] = {}
_loaded_from: Path | None = None


class MissingText(KeyError):
    """A text key that does not exist in the locales."""


def _flatten(prefix: str, value: Any) -> Iterator[tuple[str, Any]]:
    if isinstance(value, Mapping) and not _is_plural(value):
        for k, v in value.items():
            yield from _flatten(f"{prefix}.{k}" if prefix else str(k), v)
    else:
        yield prefix, value


def _is_plural(value: Mapping[str, Any]) -> bool:
    return bool(value) and set(value) <= {"zero", "one", "few", "many", "other"}


def read_locale_files(root: Path = LOCALES_DIR) -> dict[str, dict[str, Any]]:
    """Return ``{lang: {key: value}}`` for every locale file under ``root``."""
    table: dict[str, dict[str, Any]] = {lang: {} for lang in LANGUAGES}
    for path in sorted(root.rglob("*.yml")):
        parts = path.name.split(".")
        if len(parts) != 3 or parts[1] not in LANGUAGES:
            raise ValueError(f"{path}: locale files are named <name>.<en|fr>.yml")
        lang = parts[1]
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        if not isinstance(data, dict) or set(data) != {lang}:
            raise ValueError(f"{path}: the only root key must be '{lang}'")
        namespace = ".".join([*path.relative_to(root).parent.parts, parts[0]])
        for key, value in _flatten(namespace, data[lang]):
            if key in table[lang]:
                raise ValueError(f"{path}: key {key} is defined twice")
            table[lang][key] = value
    return table


def load(root: Path = LOCALES_DIR, *, force: bool = False) -> None:
    """Load every locale file into python-i18n (idempotent, thread-safe)."""
    global _loaded_from
    with _lock:
        if _loaded_from == root and not force:
            return
        i18n.translations.container.clear()
        i18n.set("error_on_missing_translation", True)
        i18n.set("error_on_missing_placeholder", True)
        i18n.set("fallback", DEFAULT_LANGUAGE)
        i18n.set("available_locales", list(LANGUAGES))
        i18n.set("load_path", [])
        table = read_locale_files(root)
        _keys.clear()
        for lang, entries in table.items():
            _keys[lang] = set(entries)
            for key, value in entries.items():
                i18n.add_translation(key, value, locale=lang)
        _loaded_from = root


def normalise_language(lang: str | None) -> str:
    return lang if lang in LANGUAGES else DEFAULT_LANGUAGE


def has(key: str, lang: str) -> bool:
    load()
    return key in _keys.get(lang, set())


def t(key: str, lang: str | None, **params: Any) -> str:
    """The text for ``key`` in ``lang`` with ``%{name}`` placeholders filled."""
    load()
    lang = normalise_language(lang)
    if key not in _keys[lang]:
        raise MissingText(f"no text '{key}' in '{lang}'")
    return str(i18n.t(key, locale=lang, **params))


def keys(lang: str, prefix: str = "") -> list[str]:
    """All keys of a language, optionally under a prefix (sorted)."""
    load()
    return sorted(k for k in _keys.get(lang, set()) if k.startswith(prefix))


def children(prefix: str, lang: str) -> list[str]:
    """Direct child names under ``prefix`` (``menu`` -> ``["greeting", ...]``)."""
    start = prefix + "."
    seen: dict[str, None] = {}
    for key in keys(lang, start):
        seen.setdefault(key[len(start) :].split(".", 1)[0], None)
    return list(seen)
