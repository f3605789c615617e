"""Offline dependency audit: ``requirements.lock`` against the PyPA advisory database.

pip-audit needs PyPI's JSON API or api.osv.dev, which these machines cannot
reach. This audit reads a snapshot of the PyPA advisory database in OSV format
instead (``vulns/<package>/<id>.yaml``, https://ossf.github.io/osv-schema/):

- ``data/advisories/`` holds the advisories of every package pinned in
  ``requirements.lock`` (all of them, matching or not, so a new pin can be
  checked offline), copied from a snapshot whose date is in its README;
  ``python -m bot.audit refresh --from DIR`` copies them again from a newer
  snapshot directory (e.g. ``../shared/advisories``).
- An advisory affects ``name==version`` when the version is listed in
  ``affected[].versions`` or falls in an ``ECOSYSTEM`` range (OSV's rule: the
  events sorted by version; ``introduced`` opens, ``fixed`` closes before,
  ``last_affected`` closes after). Versions compare with ``packaging``;
  names in PEP 503 normal form; withdrawn advisories are skipped.
- ``data/advisories/reviewed.yml`` says for each matching advisory whether it
  is reachable in Lumi and why (reviewed by hand). ``python -m bot.audit``
  (``make audit``) prints the table; ``--check`` exits 1 when an advisory
  nobody reviewed affects a package reachable from outside (the web app's
  HTTP stack, ``EXPOSED``); ``--markdown`` prints the table docs/robustness.md
  carries (a unit test keeps the two the same).
"""

from __future__ import annotations

import argparse
import re
import shutil
import sys
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bot.paths import DATA_DIR, ROOT

ADVISORIES_DIR = DATA_DIR / "advisories"
REVIEWED_FILE = ADVISORIES_DIR / "reviewed.yml"
LOCK_FILE = ROOT / "requirements.lock"
# What a school network reaches: the web app (Starlette on uvicorn, h11 as its
# HTTP/1.1 parser, Jinja2 pages, forms, signed cookies) and its client to Rasa.
EXPOSED = ("starlette", "uvicorn", "h11", "jinja2", "python-multipart", "itsdangerous", "httpx")
_PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;#]+)")


def normalise(name: str) -> str:
    """PEP 503 normal form of a project name."""
    return re.sub(r"[-_.]+", "-", name).lower()


def pins(lock: Path = LOCK_FILE) -> dict[str, str]:
    """``{normal name: version}`` of every ``name==version`` line of a lock file."""
    found = {}
    for line in lock.read_text(encoding="utf-8").splitlines():
        match = _PIN.match(line.strip())
        if match:
            found[normalise(match.group(1))] = match.group(2)
    return found


def _version(raw: str) -> Any:
    from packaging.version import parse

    return parse(raw)


# --------------------------------------------------------------------------- OSV


@dataclass
class Advisory:
    id: str
    aliases: list[str]
    summary: str
    package: str  # normal name
    fixed: list[str] = field(default_factory=list)
    affected: list[dict[str, Any]] = field(default_factory=list)  # this package's entries
    withdrawn: bool = False

    @property
    def names(self) -> str:
        cves = [a for a in self.aliases if a.startswith("CVE-")]
        return " / ".join([self.id, *cves[:2]])

    def affects(self, version: str) -> bool:
        if self.withdrawn:
            return False
        target = _version(version)
        for entry in self.affected:
            if any(_version(str(v)) == target for v in entry.get("versions") or []):
                return True
            for span in entry.get("ranges") or []:
                if span.get("type") == "ECOSYSTEM" and in_range(target, span.get("events") or []):
                    return True
        return False


def in_range(version: Any, events: list[dict[str, Any]]) -> bool:
    """OSV's evaluation of one ECOSYSTEM range for ``version``."""
    keyed = []
    for event in events:
        for kind in ("introduced", "fixed", "last_affected"):
            if kind in event:
                raw = str(event[kind])
                keyed.append((_version("0") if raw == "0" else _version(raw), kind))
    order = {"introduced": 0, "fixed": 1, "last_affected": 2}
    affected = False
    for point, kind in sorted(keyed, key=lambda item: (item[0], order[item[1]])):
        if kind == "introduced" and version >= point:
            affected = True
        elif kind == "fixed" and version >= point or kind == "last_affected" and version > point:
            affected = False
    return affected


def read_advisory(path: Path, package: str) -> Advisory | None:
    """The advisory in one OSV file, with the entries for ``package`` (PyPI) only."""
    import yaml

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml: about 10 times faster
    data = yaml.load(path.read_text(encoding="utf-8"), Loader=loader) or {}  # noqa: S506
    entries = [
        entry
        for entry in data.get("affected") or []
        if (entry.get("package") or {}).get("ecosystem") == "PyPI"
        and normalise(str((entry.get("package") or {}).get("name", ""))) == package
    ]
    if not entries:
        return None
    fixed = sorted(
        {
            str(event["fixed"])
            for entry in entries
            for span in entry.get("ranges") or []
            if span.get("type") == "ECOSYSTEM"
            for event in span.get("events") or []
            if "fixed" in event
        },
        key=_version,
    )
    summary = str(data.get("summary") or data.get("details") or "").strip()
    return Advisory(
        id=str(data.get("id", path.stem)),
        aliases=[str(a) for a in data.get("aliases") or []],
        summary=" ".join(summary.split())[:160],
        package=package,
        fixed=fixed,
        affected=entries,
        withdrawn=bool(data.get("withdrawn")),
    )


def package_dirs(snapshot: Path) -> dict[str, list[Path]]:
    """``{normal name: [folders]}`` (folder names are not always in normal form)."""
    vulns = snapshot / "vulns"
    if not vulns.is_dir():
        raise FileNotFoundError(f"{snapshot} has no vulns/ folder: not an advisory snapshot")
    found: dict[str, list[Path]] = {}
    for folder in sorted(vulns.iterdir()):
        if folder.is_dir():
            found.setdefault(normalise(folder.name), []).append(folder)
    return found


def advisories_for(snapshot: Path, pinned: dict[str, str]) -> list[tuple[Advisory, str]]:
    """Every advisory of the snapshot that affects a pinned version, sorted."""
    dirs = package_dirs(snapshot)
    found = []
    for name, version in sorted(pinned.items()):
        for path in sorted(p for folder in dirs.get(name, []) for p in folder.glob("*.yaml")):
            advisory = read_advisory(path, name)
            if advisory is not None and advisory.affects(version):
                found.append((advisory, version))
    return found


# --------------------------------------------------------------------------- the review


@dataclass
class Row:
    advisory: Advisory
    pinned: str
    reachable: str  # "no", "yes", "not reviewed"
    reason: str

    @property
    def exposed(self) -> bool:
        return self.advisory.package in EXPOSED


def reviewed(path: Path = REVIEWED_FILE) -> dict[str, dict[str, Any]]:
    import yaml

    if not path.exists():
        return {}
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    return {str(k): v for k, v in (data.get("advisories") or {}).items()}


def rows(snapshot: Path = ADVISORIES_DIR, lock: Path = LOCK_FILE) -> list[Row]:
    review = reviewed(snapshot / "reviewed.yml") if snapshot == ADVISORIES_DIR else reviewed()
    found = []
    for advisory, version in advisories_for(snapshot, pins(lock)):
        entry = review.get(advisory.id)
        if entry is None:
            found.append(Row(advisory, version, "not reviewed", ""))
        else:
            reach = "yes" if entry.get("reachable") else "no"
            found.append(Row(advisory, version, reach, " ".join(str(entry["reason"]).split())))
    return found


def snapshot_date(snapshot: Path = ADVISORIES_DIR) -> str:
    readme = snapshot / "README.md"
    match = re.search(r"\b(20\d\d-\d\d-\d\d)\b", readme.read_text()) if readme.exists() else None
    return match.group(1) if match else "unknown"


def markdown(found: list[Row], snapshot: Path = ADVISORIES_DIR) -> str:
    packages = sorted({r.advisory.package for r in found})
    head = (
        f"{len(found)} advisories in {len(packages)} of {len(pins())} pinned packages "
        f"(PyPA advisory database, snapshot of {snapshot_date(snapshot)}):"
    )
    lines = [
        head,
        "",
        "| package | pinned | advisory | fixed in | reachable | why |",
        "|---|---|---|---|---|---|",
    ]
    for row in found:
        fixed = ", ".join(row.advisory.fixed) or "no fix"
        lines.append(
            f"| {row.advisory.package} | {row.pinned} | {row.advisory.names} | {fixed} | "
            f"{row.reachable} | {row.reason.replace('|', '/')} |"
        )
    return "\n".join(lines)


def problems(found: list[Row]) -> list[str]:
    """What fails the audit: an unreviewed or reachable advisory of the exposed stack."""
    bad = []
    for row in found:
        if row.exposed and row.reachable != "no":
            bad.append(
                f"{row.advisory.package} {row.pinned}: {row.advisory.names} is {row.reachable}"
                f" ({row.advisory.summary[:100]}): upgrade, or review it in {REVIEWED_FILE.name}"
            )
    return bad


# --------------------------------------------------------------------------- refresh


def refresh(source: Path, lock: Path = LOCK_FILE, target: Path = ADVISORIES_DIR) -> int:
    """Copy the advisories of every pinned package from a snapshot directory."""
    dirs = package_dirs(source)
    vulns = target / "vulns"
    if vulns.exists():
        shutil.rmtree(vulns)
    vulns.mkdir(parents=True)
    copied = 0
    for name in sorted(pins(lock)):
        for folder in dirs.get(name, []):
            shutil.copytree(folder, vulns / folder.name)
            copied += len(list(folder.glob("*.yaml")))
    for extra in ("LICENSE",):
        if (source / extra).exists():
            shutil.copy2(source / extra, target / extra)
    return copied


def _print_table(found: Iterable[Row]) -> None:
    rows_ = list(found)
    width = max([len(r.advisory.package) for r in rows_] + [7])
    for row in rows_:
        fixed = ", ".join(row.advisory.fixed) or "no fix"
        print(
            f"{row.advisory.package.ljust(width)}  {row.pinned:10}  {row.advisory.names:42}  "
            f"fixed in {fixed:18}  reachable: {row.reachable:12}  {row.reason}"
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bot.audit", description=__doc__)
    parser.add_argument("command", nargs="?", default="table", choices=("table", "refresh"))
    parser.add_argument("--from", dest="source", type=Path, help="snapshot directory (refresh)")
    parser.add_argument("--snapshot", type=Path, default=ADVISORIES_DIR)
    parser.add_argument("--lock", type=Path, default=LOCK_FILE)
    parser.add_argument("--markdown", action="store_true", help="the table for docs/robustness.md")
    parser.add_argument("--check", action="store_true", help="exit 1 on a new exposed advisory")
    args = parser.parse_args(argv)
    if args.command == "refresh":
        if args.source is None:
            parser.error("refresh needs --from DIR (a snapshot with a vulns/ folder)")
        count = refresh(args.source, args.lock)
        print(
            f"copied {count} advisories of pinned packages into {ADVISORIES_DIR}; write the "
            "snapshot's date in its README.md and review new ones in reviewed.yml"
        )
        return 0
    found = rows(args.snapshot, args.lock)
    if args.markdown:
        print(markdown(found, args.snapshot))
    else:
        packages = sorted({r.advisory.package for r in found})
        print(
            f"Offline audit of {args.lock.name} ({len(pins(args.lock))} pins) against the PyPA "
            f"advisory database of {snapshot_date(args.snapshot)}: {len(found)} advisories in "
            f"{len(packages)} packages."
        )
        _print_table(found)
    bad = problems(found)
    unreviewed = [r for r in found if r.reachable == "not reviewed" and not r.exposed]
    for row in unreviewed:
        print(f"note: {row.advisory.package}: {row.advisory.names} is not reviewed yet")
    for line in bad:
        print(f"FAIL: {line}", file=sys.stderr)
    return 1 if (args.check and bad) else 0


if __name__ == "__main__":
    sys.exit(main())
