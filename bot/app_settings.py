"""The settings of the apps children use (data/app_settings.yml), for the parents' kit.

Modelled on :mod:`bot.helplines`: the data file holds each entry's source and
the date it was checked; the words (the app's name and ages, what a setting
does, where it is, a tip) are in ``locales/app_settings.<lang>.yml`` under the
same id. Read once, lazily. ``python -m bot.app_settings`` lists the entries
checked more than a year ago (exit status 1), like ``make check-helplines``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import functools
import re
import sys
from dataclasses import dataclass
from typing import Any

import yaml

from bot import text as texts
from bot.paths import DATA_DIR

APP_SETTINGS_FILE = DATA_DIR / "app_settings.yml"
APPS: tuple[str, ...] = ("roblox", "fortnite", "minecraft", "snapchat", "tiktok", "discord")
CHECKED_AGAINST = ("official", "guides")
_ID = re.compile(r"^[a-z][a-z0-9_]{0,60}$")


class AppSettingsError(ValueError):
    """The app settings data is wrong (every problem listed)."""


@dataclass(frozen=True)
class Setting:
    id: str
    app: str
    source: str
    checked: dt.date
    checked_against: str

    def view(self, lang: str) -> dict[str, Any]:
        """What a page shows, in ``lang``."""
        key = f"app_settings.settings.{self.id}"
        return {
            "id": self.id,
            "what": texts.t(f"{key}.what", lang),
            "where": texts.t(f"{key}.where", lang),
            "tip": texts.t(f"{key}.tip", lang),
            "source": self.source,
            "checked": self.checked.isoformat(),
            "checked_against": self.checked_against,
        }


@dataclass(frozen=True)
class App:
    id: str
    settings: tuple[Setting, ...]

    def view(self, lang: str) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": texts.t(f"app_settings.apps.{self.id}.name", lang),
            "ages": texts.t(f"app_settings.apps.{self.id}.ages", lang),
            "settings": [s.view(lang) for s in self.settings],
        }


def parse(raw: Any) -> tuple[App, ...]:
    """Build and check the directory (every app of APPS, https sources, dates, texts)."""
    errors: list[str] = []
    items = raw.get("apps") if isinstance(raw, dict) else None
    if not isinstance(items, list):
        raise AppSettingsError("app_settings.yml: needs an 'apps' list")
    apps: list[App] = []
    seen: set[str] = set()
    for item in items:
        app_id = item.get("id") if isinstance(item, dict) else None
        if app_id not in APPS:
            errors.append(f"app_settings.yml: unknown app {app_id!r} (one of {', '.join(APPS)})")
            continue
        settings: list[Setting] = []
        for entry in item.get("settings") or []:
            setting = _setting(app_id, entry, errors, seen)
            if setting is not None:
                settings.append(setting)
        if not settings:
            errors.append(f"app_settings.yml: {app_id}: no settings")
        apps.append(App(app_id, tuple(settings)))
    missing = sorted(set(APPS) - {a.id for a in apps})
    if missing:
        errors.append(f"app_settings.yml: apps missing: {', '.join(missing)}")
    if errors:
        raise AppSettingsError("\n".join(errors))
    return tuple(sorted(apps, key=lambda a: APPS.index(a.id)))


def _setting(app_id: str, entry: Any, errors: list[str], seen: set[str]) -> Setting | None:
    where = f"app_settings.yml: {app_id}"
    if not isinstance(entry, dict):
        errors.append(f"{where}: a setting is a mapping")
        return None
    setting_id = entry.get("id")
    if not isinstance(setting_id, str) or not _ID.match(setting_id) or setting_id in seen:
        errors.append(f"{where}: bad or repeated setting id {setting_id!r}")
        return None
    seen.add(setting_id)
    source = entry.get("source")
    if not isinstance(source, str) or not source.startswith("https://"):
        errors.append(f"{where}: {setting_id}: source must be an https:// address")
    checked = entry.get("checked")
    if isinstance(checked, str):
        try:
            checked = dt.date.fromisoformat(checked)
        except ValueError:
            checked = None
    if not isinstance(checked, dt.date):
        errors.append(f"{where}: {setting_id}: checked must be a date (2026-12-06)")
    against = entry.get("checked_against")
    if against not in CHECKED_AGAINST:
        errors.append(f"{where}: {setting_id}: checked_against is one of {CHECKED_AGAINST}")
    for lang in texts.LANGUAGES:
        for part in ("what", "where", "tip"):
            if not texts.has(f"app_settings.settings.{setting_id}.{part}", lang):
                errors.append(f"{where}: {setting_id}: no '{part}' text in '{lang}'")
    if not isinstance(checked, dt.date) or not isinstance(source, str):
        return None
    return Setting(setting_id, app_id, source, checked, str(against))


@functools.lru_cache(maxsize=1)
def directory() -> tuple[App, ...]:
    """Every app with its settings, read and checked on first use."""
    return parse(yaml.safe_load(APP_SETTINGS_FILE.read_text(encoding="utf-8")))


def views(lang: str) -> list[dict[str, Any]]:
    return [app.view(lang) for app in directory()]


def stale(today: dt.date | None = None, max_age_days: int = 365) -> list[Setting]:
    today = today or dt.date.today()
    return [
        s for app in directory() for s in app.settings if (today - s.checked).days > max_age_days
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0] if __doc__ else None)
    parser.add_argument("--max-age-days", type=int, default=365)
    parser.add_argument("--today", type=dt.date.fromisoformat, default=None)
    args = parser.parse_args(argv)
    old = stale(args.today, args.max_age_days)
    total = sum(len(a.settings) for a in directory())
    to_compare = [s for a in directory() for s in a.settings if s.checked_against != "official"]
    print(f"{total} app settings; {len(to_compare)} checked against guides, not the app's page")
    for setting in old:
        print(f"  {setting.id}: checked {setting.checked}, source {setting.source}")
    return 1 if old else 0


if __name__ == "__main__":
    sys.exit(main())
