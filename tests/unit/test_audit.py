"""The offline dependency audit: OSV loading and matching on a small sample,
the committed advisories, and the docs' table."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from bot import audit
from bot.paths import ROOT


def write(folder: Path, name: str, text: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text(textwrap.dedent(text), encoding="utf-8")


@pytest.fixture
def snapshot(tmp_path) -> Path:
    vulns = tmp_path / "snap" / "vulns"
    write(
        vulns / "Web_Lib",
        "PYSEC-1.yaml",
        """\
        id: PYSEC-1
        summary: request smuggling
        aliases: [CVE-2099-0001, GHSA-xxxx]
        affected:
        - package: {name: web.lib, ecosystem: PyPI}
          ranges:
          - type: GIT
            events: [{introduced: "0"}, {fixed: abc123}]
          - type: ECOSYSTEM
            events: [{introduced: "0"}, {fixed: "1.2.0"}, {introduced: "2.0"}, {fixed: "2.0.3"}]
        """,
    )
    write(
        vulns / "web-lib",
        "PYSEC-2.yaml",
        """\
        id: PYSEC-2
        details: listed versions only
        affected:
        - package: {name: Web-Lib, ecosystem: PyPI}
          versions: ["3.0", "3.1.0"]
        """,
    )
    write(
        vulns / "other",
        "PYSEC-3.yaml",
        """\
        id: PYSEC-3
        summary: up to and including last_affected
        affected:
        - package: {name: other, ecosystem: PyPI}
          ranges:
          - type: ECOSYSTEM
            events: [{introduced: "1.0"}, {last_affected: "1.4"}]
        - package: {name: other, ecosystem: npm}
          versions: ["9.9"]
        """,
    )
    write(
        vulns / "other",
        "PYSEC-4.yaml",
        """\
        id: PYSEC-4
        withdrawn: "2024-01-01T00:00:00Z"
        affected:
        - package: {name: other, ecosystem: PyPI}
          ranges: [{type: ECOSYSTEM, events: [{introduced: "0"}]}]
        """,
    )
    return tmp_path / "snap"


@pytest.mark.parametrize(
    ("name", "version", "expected"),
    [
        ("web-lib", "1.1.9", {"PYSEC-1"}),
        ("web-lib", "1.2.0", set()),  # fixed is not affected
        ("web-lib", "1.10", set()),  # compared as versions, not text
        ("web-lib", "2.0.2", {"PYSEC-1"}),  # second introduced/fixed pair
        ("web-lib", "2.0.3", set()),
        ("web-lib", "3.1", {"PYSEC-2"}),  # listed "3.1.0" is the same version
        ("other", "1.4", {"PYSEC-3"}),  # last_affected included
        ("other", "1.4.1", set()),
        ("other", "0.9", set()),  # before introduced; the withdrawn one never counts
        ("other", "9.9", set()),  # npm's entry is not ours
    ],
)
def test_matching(snapshot, name, version, expected):
    found = audit.advisories_for(snapshot, {name: version})
    assert {a.id for a, _ in found} == expected


def test_advisory_fields(snapshot):
    [(advisory, _)] = audit.advisories_for(snapshot, {"web-lib": "1.0"})
    assert advisory.fixed == ["1.2.0", "2.0.3"]
    assert advisory.names == "PYSEC-1 / CVE-2099-0001"
    assert audit.normalise("Python_Multi.Part") == "python-multi-part"


def test_pins_read_the_lock_format(tmp_path):
    lock = tmp_path / "requirements.lock"
    lock.write_text("# header\nRasa==3.6.21\n    # via -r requirements.in\nujson==5.1 ; x\n")
    assert audit.pins(lock) == {"rasa": "3.6.21", "ujson": "5.1"}


def test_refresh_copies_only_pinned_packages(snapshot, tmp_path):
    lock = tmp_path / "requirements.lock"
    lock.write_text("web-lib==1.0\n")
    target = tmp_path / "copy"
    assert audit.refresh(snapshot, lock, target) == 2  # both folders of web-lib
    assert not (target / "vulns" / "other").exists()


def test_the_committed_snapshot_gives_the_reviewed_table():
    found = audit.rows()
    assert len(found) >= 50  # 54 on 2026-07-23: the table in docs/robustness.md
    assert all(r.reachable != "not reviewed" for r in found), [
        r.advisory.id for r in found if r.reachable == "not reviewed"
    ]
    assert all(r.reason for r in found)
    assert audit.problems(found) == []


def test_an_unreviewed_advisory_of_the_web_stack_fails_the_check(tmp_path):
    write(
        tmp_path / "snap" / "vulns" / "starlette",
        "PYSEC-9.yaml",
        """\
        id: PYSEC-9
        summary: something bad
        affected:
        - package: {name: starlette, ecosystem: PyPI}
          ranges: [{type: ECOSYSTEM, events: [{introduced: "0"}]}]
        """,
    )
    (tmp_path / "snap" / "README.md").write_text("snapshot of 2099-01-01\n")
    lock = tmp_path / "requirements.lock"
    lock.write_text("starlette==0.1\naiohttp==3.9.5\n")
    args = ["--snapshot", str(tmp_path / "snap"), "--lock", str(lock)]
    assert audit.main([*args, "--check"]) == 1
    assert audit.main(args) == 0  # the table alone never fails


def test_docs_table_is_make_audits_table():
    docs = (ROOT / "docs" / "robustness.md").read_text(encoding="utf-8")
    assert audit.markdown(audit.rows()) in docs, "run: python -m bot.audit --markdown"
