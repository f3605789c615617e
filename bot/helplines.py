"""The helpline directory (data/helplines.yml), per country and level of need."""

from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass
from typing import Any

import yaml

from bot import text as texts
from bot.paths import DATA_DIR

INTERNATIONAL = "INT"
KINDS = ("emergency", "crisis", "child", "online", "report", "adult", "images")

# Order of kinds for a worried child, and for a child in danger now.
_ORDER = {
    "concern": ("online", "child", "report", "images", "crisis", "adult", "emergency"),
    "danger": ("emergency", "crisis", "child", "online", "report", "images", "adult"),
}


@dataclass(frozen=True)
class Helpline:
    id: str
    country: str
    kind: str
    phone: str | None
    sms: str | None
    url: str | None
    source: str
    verified: dt.date

    def payload(self, lang: str) -> dict[str, Any]:
        """The contract's helpline object, in ``lang``."""
        return {
            "name": texts.t(f"helplines.{self.id}.name", lang),
            "phone": self.phone,
            "sms": self.sms,
            "url": self.url,
            "hours": texts.t(f"helplines.{self.id}.hours", lang),
            "for": texts.t(f"helplines.{self.id}.for", lang),
            "source": self.source,
            "verified": self.verified.isoformat(),
        }


@dataclass(frozen=True)
class Directory:
    countries: dict[str, dict[str, Any]]
    entries: tuple[Helpline, ...]


@functools.lru_cache(maxsize=1)
def directory() -> Directory:
    raw = yaml.safe_load((DATA_DIR / "helplines.yml").read_text(encoding="utf-8"))
    entries = []
    for item in raw["entries"]:
        verified = item["verified"]
        if isinstance(verified, str):
            verified = dt.date.fromisoformat(verified)
        if item["kind"] not in KINDS:
            raise ValueError(f"helplines.yml: {item['id']}: unknown kind {item['kind']}")
        entries.append(
            Helpline(
                id=item["id"],
                country=item["country"],
                kind=item["kind"],
                phone=item.get("phone"),
                sms=item.get("sms"),
                url=item.get("url"),
                source=item["source"],
                verified=verified,
            )
        )
    return Directory(countries=raw["countries"], entries=tuple(entries))


def countries() -> tuple[str, ...]:
    """Countries with a directory of their own (ISO 3166-1 alpha-2)."""
    return tuple(directory().countries)


def known_country(code: Any) -> str | None:
    """The upper-case code if the directory covers it, else ``None``."""
    if not isinstance(code, str):
        return None
    code = code.strip().upper()
    return code if code in directory().countries else None


def country_from_text(text: str) -> str | None:
    """The directory country a child names in a sentence ("je suis en Belgique")."""
    from bot.normalise import normalise, words

    norm = f" {' '.join(words(normalise(text)))} "
    for code, info in directory().countries.items():
        names = [texts.t(f"countries.{code}", lang) for lang in texts.LANGUAGES]
        names += [str(alias) for alias in info.get("aliases", [])]
        for name in names:
            if f" {' '.join(words(normalise(name)))} " in norm:
                return code
    return None


def _country_entry(code: str, key: str) -> Helpline:
    info = directory().countries[code]
    return by_id(info.get(key) or info["main"])


def online_helpline(country: str | None) -> Helpline | None:
    """The helpline for someone online troubling a child in ``country``."""
    code = known_country(country)
    return _country_entry(code, "online") if code else None


def child_helpline(country: str | None) -> Helpline | None:
    """The child helpline for a worry that is not about someone online."""
    code = known_country(country)
    return _country_entry(code, "child") if code else None


def crisis(country: str | None) -> list[Helpline]:
    """The lines a child thinking of hurting themselves gets first (after emergency)."""
    code = known_country(country)
    if code is None:
        return []
    ids = directory().countries[code].get("crisis") or []
    return [by_id(entry_id) for entry_id in ids]


def by_id(entry_id: str) -> Helpline:
    for entry in directory().entries:
        if entry.id == entry_id:
            return entry
    raise KeyError(entry_id)


def main_helpline(country: str | None) -> Helpline:
    """The one helpline a child in ``country`` gets first."""
    code = known_country(country)
    if code is None:
        return by_id("int_child_helpline_international")
    return by_id(directory().countries[code]["main"])


def for_country(country: str | None, level: str = "concern") -> list[Helpline]:
    """The country's entries in the order that fits the level, then international ones.

    An unknown country gets the international entries only (the caller asks
    for the country meanwhile).
    """
    order = _ORDER["danger" if level == "danger" else "concern"]
    code = known_country(country)
    own = [e for e in directory().entries if code is not None and e.country == code]
    if code is not None:
        main = directory().countries[code]["main"]
        own.sort(key=lambda e: (order.index(e.kind), e.id != main))
    international = [e for e in directory().entries if e.country == INTERNATIONAL]
    return own + international


def emergency(country: str | None) -> list[Helpline]:
    code = known_country(country)
    return [e for e in directory().entries if e.country == code and e.kind == "emergency"]


def payloads(country: str | None, lang: str, level: str = "concern") -> list[dict[str, Any]]:
    return [h.payload(lang) for h in for_country(country, level)]


def stale(today: dt.date | None = None, max_age_days: int = 365) -> list[Helpline]:
    """Entries not verified for more than ``max_age_days``."""
    today = today or dt.date.today()
    limit = today - dt.timedelta(days=max_age_days)
    return [e for e in directory().entries if e.verified < limit]
