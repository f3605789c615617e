"""Figures of the message checker on the held-out evaluation set
(``data/eval/tactic_check/<lang>.yml``), per language: precision, recall and F1
per tactic, macro-F1 over the 8 tactics, and the share of harmless messages
flagged with any tactic. Used by ``scripts/eval_checker.py`` and the tests."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from bot.checker.core import check
from bot.checker.data import EVAL_DIR, Example, eval_examples
from bot.tactics import TACTICS

# Targets per language (docs/checker.md): the held-out set's, and issue 18's on
# its blind set (also every tactic's F1).
TARGET_MACRO_F1 = 0.90
TARGET_HARMLESS_FLAGGED = 0.05
BLIND_MACRO_F1 = 0.92
BLIND_TACTIC_F1 = 0.85


@dataclass(frozen=True)
class Targets:
    macro_f1: float = TARGET_MACRO_F1
    tactic_f1: float = 0.0
    harmless_flagged: float = TARGET_HARMLESS_FLAGGED

    def met(self, report: Report) -> bool:
        return (
            report.macro_f1 >= self.macro_f1
            and min(s.f1 for s in report.tactics.values()) >= self.tactic_f1
            and report.harmless_rate <= self.harmless_flagged
        )


def targets(name: str) -> Targets:
    """The targets of an evaluation set (``data.EVAL_SETS``)."""
    if name.startswith("blind"):
        return Targets(BLIND_MACRO_F1, BLIND_TACTIC_F1)
    return Targets()


@dataclass
class TacticScore:
    tp: int = 0
    fp: int = 0
    fn: int = 0

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 0.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 0.0

    @property
    def f1(self) -> float:
        return 2 * self.tp / (2 * self.tp + self.fp + self.fn) if self.tp else 0.0


@dataclass
class Report:
    lang: str
    messages: int = 0
    harmless: int = 0
    harmless_flagged: int = 0
    exact: int = 0
    tactics: dict[str, TacticScore] = field(
        default_factory=lambda: {t: TacticScore() for t in TACTICS}
    )
    errors: list[tuple[Example, tuple[str, ...]]] = field(default_factory=list)

    @property
    def macro_f1(self) -> float:
        return sum(s.f1 for s in self.tactics.values()) / len(TACTICS)

    @property
    def harmless_rate(self) -> float:
        return self.harmless_flagged / self.harmless if self.harmless else 0.0

    @property
    def meets_targets(self) -> bool:
        return self.macro_f1 >= TARGET_MACRO_F1 and self.harmless_rate <= TARGET_HARMLESS_FLAGGED


def evaluate(examples: list[Example], lang: str) -> Report:
    report = Report(lang)
    for example in examples:
        found = check(example.text).tactics
        report.messages += 1
        if not example.tactics:
            report.harmless += 1
            report.harmless_flagged += bool(found)
        if set(found) == set(example.tactics):
            report.exact += 1
        else:
            report.errors.append((example, found))
        for tactic in TACTICS:
            score = report.tactics[tactic]
            truth, guess = tactic in example.tactics, tactic in found
            score.tp += truth and guess
            score.fp += guess and not truth
            score.fn += truth and not guess
    return report


def evaluate_all(eval_dir: Path = EVAL_DIR) -> dict[str, Report]:
    return {lang: evaluate(ex, lang) for lang, ex in eval_examples(eval_dir).items()}


def format_report(report: Report, *, show_errors: bool = False, goal: Targets | None = None) -> str:
    goal = goal or Targets()
    manipulative = report.messages - report.harmless
    rows = [
        f"[{report.lang}] {report.messages} messages "
        f"({manipulative} with tactics, {report.harmless} harmless)",
        f"  {'tactic':<14} {'prec':>6} {'recall':>6} {'F1':>6}  (tp/fp/fn)",
    ]
    for tactic, s in report.tactics.items():
        rows.append(
            f"  {tactic:<14} {s.precision:6.3f} {s.recall:6.3f} {s.f1:6.3f}  ({s.tp}/{s.fp}/{s.fn})"
        )
    rows.append(f"  macro-F1 {report.macro_f1:.3f} (target >= {goal.macro_f1:.2f})")
    if goal.tactic_f1:
        worst = min(s.f1 for s in report.tactics.values())
        rows.append(f"  worst tactic F1 {worst:.3f} (target >= {goal.tactic_f1:.2f})")
    rows.append(
        f"  harmless flagged {report.harmless_flagged}/{report.harmless} = "
        f"{report.harmless_rate:.1%} (target <= {goal.harmless_flagged:.0%})"
    )
    rows.append(f"  exact tactic set {report.exact}/{report.messages}")
    rows.append(f"  targets met: {'yes' if goal.met(report) else 'NO'}")
    if show_errors:
        for example, found in report.errors:
            text = " / ".join(example.text.splitlines())
            rows.append(f"    expected {list(example.tactics)} got {list(found)}: {text}")
    return "\n".join(rows)
