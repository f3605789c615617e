"""The safety net alone (bot/safeguarding/screen.py) on the safeguarding training data.

Usage (from the project root)::

    .venv/bin/python scripts/net_on_training_data.py            # one line per block
    .venv/bin/python scripts/net_on_training_data.py --alarms   # + each look-alike it flags

For every block of the safeguarding files of ``data/nlu/{en,fr}`` (see
``data/nlu/README-safeguarding-data.md``): how many disclosures the net flags,
reads as personal and as danger; how many look-alikes (share_everyday,
choose_action, ask_help) it flags. The net never saw these sentences, so this is
its recall on wording written by someone else, and a list of the look-alikes
its patterns trip on. It knows no conversation mode: inside a story
``bot.nlu_rules`` passes over some flagged answers.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bot.safeguarding.meaning import DANGER_CLASSES  # noqa: E402
from bot.safeguarding.screen import screen  # noqa: E402

FILES = (
    "disclose_sextortion",
    "disclose_self_harm",
    "disclose_meeting",
    "disclose_violence",
    "disclose_abuse",
    "disclose_online",
    "disclose_worry",
    "disclose_fragments",
    "share_everyday_lookalikes",
    "share_everyday_lookalikes2",
    "choose_action_lookalikes",
    "ask_help_safety_questions",
)


def _examples(block: dict) -> list[str]:
    lines = block["examples"].splitlines()
    return [line.strip()[2:].strip() for line in lines if line.strip().startswith("- ")]


def _pct(num: int, den: int) -> str:
    return f"{100 * num / den:.1f} % ({num}/{den})" if den else "n/a"


def report(alarms: bool) -> list[str]:
    lines = ["| lang | block | level | n | flagged | personal | danger |"]
    lines.append("|---|---|---|---|---|---|---|")
    flagged_lookalikes: list[str] = []
    for lang in ("en", "fr"):
        for stem in FILES:
            data = yaml.safe_load((ROOT / "data" / "nlu" / lang / f"{stem}.yml").read_text())
            for block in data["nlu"]:
                texts = _examples(block)
                meta = block.get("metadata") or {}
                results = [screen(text) for text in texts]
                flagged = sum(r.flagged for r in results)
                personal = sum(r.flagged and r.personal for r in results)
                danger = sum(r.level == "danger" for r in results)
                name = stem + "".join(
                    f"/{meta[key]}" if key != "announce" else "/announce"
                    for key in ("category", "topic", "announce")
                    if meta.get(key)
                )
                if block["intent"] == "disclose_problem":
                    level = "danger" if meta.get("category") in DANGER_CLASSES else "concern"
                    cells = [_pct(flagged, len(texts)), _pct(personal, len(texts))]
                    cells.append(_pct(danger, len(texts)))
                else:
                    level = "not flagged"
                    cells = [f"**{_pct(flagged, len(texts))}**", "", ""]
                    flagged_lookalikes += [
                        f"- {lang} {stem}: {r.level} {list(r.categories)}: {text}"
                        for text, r in zip(texts, results, strict=True)
                        if r.flagged
                    ]
                lines.append(
                    f"| {lang} | {name} | {level} | {len(texts)} | " + " | ".join(cells) + " |"
                )
    if alarms:
        lines += ["", "Look-alikes the net flags:", "", *flagged_lookalikes]
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--alarms", action="store_true", help="list each flagged look-alike")
    args = parser.parse_args(argv)
    print("\n".join(report(args.alarms)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
