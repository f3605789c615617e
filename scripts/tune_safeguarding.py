"""Choose the safeguarding decision's bars on the development sets (never the blind sets).

Usage (from the project root, after `make model`)::

    .venv/bin/python scripts/tune_safeguarding.py             # the bars in use
    .venv/bin/python scripts/tune_safeguarding.py --grid      # a grid around them
    .venv/bin/python scripts/tune_safeguarding.py --errors    # misses and false alarms

Every development message is parsed once by the trained model (the net, the
trained intent and the disclosure reader, as the Rasa server runs them); the
decision (``bot.nlu_rules.decide``, pure) is then replayed with other bars.
Development sets: ``data/eval/safeguarding/{en,fr,blind,blind2,blind3,blind4}.<lang>.yml``
(fresh conversation), the story answers of ``data/eval/stories`` (inside a
story, all benign) and ``tests/data/safeguarding_sequences_dev.yml`` (several
messages, with the conversation memory). The blind5 and blind6 sets are not read here.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import itertools
import logging
import os
import pickle
import sys
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bot.nlu_rules import BARS, DISCLOSE, MENTION, Bars, decide  # noqa: E402
from bot.safeguarding import memory  # noqa: E402
from bot.safeguarding.meaning import NOTHING, Reading  # noqa: E402
from bot.safeguarding.screen import PATTERNS_FILE, Screening, screen  # noqa: E402

EVAL = ROOT / "data" / "eval"
# blind3 and blind4 joined on 2026-12-08 (round 6), each after its before and
# after measurements: their errors are read now, so they are development sets.
DEV_SETS = ("{lang}", "blind.{lang}", "blind2.{lang}", "blind3.{lang}", "blind4.{lang}")
SEQUENCES = ROOT / "tests" / "data" / "safeguarding_sequences_dev.yml"
CACHE = ROOT / "var" / "tune_safeguarding.pickle"


@dataclass
class Parsed:
    text: str
    lang: str
    intent: str
    confidence: float
    ranking: list[tuple[str, float]]
    reading: Reading | None
    screening: Screening


def parse_all(texts: list[tuple[str, str]], model: Path) -> list[Parsed]:
    os.environ.setdefault("RASA_TELEMETRY_ENABLED", "false")
    from rasa.core.agent import Agent
    from rasa.core.channels.channel import UserMessage
    from rasa.utils.log_utils import configure_structlog

    import addons.nlu as nlu_addon

    configure_structlog(logging.WARNING)
    calls: list[dict[str, Any]] = []
    original = nlu_addon.annotate

    def recording(**kwargs: Any) -> Any:
        calls.append(kwargs)
        return original(**kwargs)

    nlu_addon.annotate = recording  # type: ignore[assignment]
    agent = Agent.load(str(model))
    loop = asyncio.new_event_loop()
    out = []
    for text, lang in texts:
        calls.clear()
        loop.run_until_complete(agent.processor.parse_message(UserMessage(text)))
        call = calls[-1]
        out.append(
            Parsed(
                text=text,
                lang=lang,
                intent=call["intent"],
                confidence=call["confidence"],
                ranking=call["ranking"],
                reading=Reading.from_dict(call.get("reading")),
                screening=screen(text),
            )
        )
    return out


def load_dev() -> dict[str, Any]:
    items = []
    for lang in ("en", "fr"):
        for pattern in DEV_SETS:
            path = EVAL / "safeguarding" / f"{pattern.format(lang=lang)}.yml"
            for item in yaml.safe_load(path.read_text(encoding="utf-8"))["items"]:
                if not item.get("ambiguous"):
                    items.append(
                        (str(item["text"]), lang, bool(item["disclosure"]), item.get("level"))
                    )
    story = []
    for path in sorted((EVAL / "stories").glob("*.yml")):
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        lang = str(raw.get("lang") or ("fr" if ".fr." in path.name else "en"))
        for entry in raw.get("items") or []:
            if isinstance(entry, dict) and entry.get("text"):
                story.append((str(entry["text"]), lang))
    sequences = yaml.safe_load(SEQUENCES.read_text(encoding="utf-8"))["sequences"]
    return {"items": items, "story": story, "sequences": sequences}


def parsed_dev(model: Path, refresh: bool) -> dict[str, Any]:
    # the net's patterns are read at parse time too: a changed net parses again
    stamp = (model.stat().st_mtime, PATTERNS_FILE.stat().st_mtime)
    if CACHE.exists() and not refresh:
        cached = pickle.loads(CACHE.read_bytes())  # noqa: S301 (our own file under var/)
        if cached.get("stamp") == stamp:
            return cached
    dev = load_dev()
    texts = [(t, lang) for t, lang, _, _ in dev["items"]] + dev["story"]
    texts += [(m, s["lang"]) for s in dev["sequences"] for m in s["messages"]]
    parsed = {(p.text, p.lang): p for p in parse_all(texts, model)}
    result = {"stamp": stamp, "dev": dev, "parsed": parsed}
    CACHE.parent.mkdir(parents=True, exist_ok=True)
    CACHE.write_bytes(pickle.dumps(result))
    return result


def run_decide(
    p: Parsed, bars: Bars, mode: str | None, earlier: list[float], answered: Sequence[float] = ()
) -> Any:
    return decide(
        p.screening,
        p.intent,
        p.confidence,
        p.ranking,
        mode=mode,
        reading=p.reading,
        earlier=earlier,
        answered=answered,
        bars=bars,
    )


def measure(data: dict[str, Any], bars: Bars, errors: list[str] | None = None) -> dict[str, float]:
    parsed = data["parsed"]
    tally: Counter = Counter()
    for text, lang, disclosure, level in data["dev"]["items"]:
        for mode in (None, "story"):
            d = run_decide(parsed[(text, lang)], bars, mode, [])
            caught = d.intent in (DISCLOSE, MENTION) or d.level is not None
            key = f"{lang}.{mode or 'fresh'}"
            if disclosure:
                tally[key + ".disc"] += 1
                tally[key + ".caught"] += caught
                if level == "danger":
                    tally[key + ".danger"] += 1
                    tally[key + ".danger_right"] += d.level == "danger"
                if not caught and errors is not None:
                    errors.append(f"MISS {key} {text}")
            else:
                tally[key + ".benign"] += 1
                tally[key + ".alarm"] += caught
                if caught and errors is not None:
                    errors.append(f"FA {key} {text}")
    for text, lang in data["dev"]["story"]:
        d = run_decide(parsed[(text, lang)], bars, "story", [])
        tally[f"{lang}.answers"] += 1
        interrupted = d.level is not None
        tally[f"{lang}.answers_interrupted"] += interrupted
        if interrupted and errors is not None:
            errors.append(f"STORY-ANSWER {lang} {text}")
    for seq in data["dev"]["sequences"]:
        mode = "story" if seq.get("place") == "story" else None
        entries: list[memory.Entry] = []
        caught = False
        for message in seq["messages"]:
            p = parsed[(message, seq["lang"])]
            d = run_decide(
                p,
                bars,
                mode,
                [e.evidence for e in memory.unflagged(entries)],
                [e.evidence for e in entries] if any(e.flagged for e in entries) else [],
            )
            caught = caught or d.level is not None
            entries = memory.decode(
                memory.remember(entries, p.reading or NOTHING, d.level is not None)
            )
        key = f"{seq['lang']}.seq"
        if seq["disclosure"]:
            tally[key + ".disc"] += 1
            tally[key + ".caught"] += caught
        else:
            tally[key + ".benign"] += 1
            tally[key + ".alarm"] += caught
        if errors is not None and caught != seq["disclosure"]:
            errors.append(f"SEQ {key} {seq['messages']}")
    out = {}
    for lang in ("en", "fr"):
        for place in ("fresh", "story", "seq"):
            k = f"{lang}.{place}"
            if tally[k + ".disc"]:
                out[k + " recall"] = tally[k + ".caught"] / tally[k + ".disc"]
            if tally[k + ".benign"]:
                out[k + " fa"] = tally[k + ".alarm"] / tally[k + ".benign"]
            if tally[k + ".danger"]:
                out[k + " danger"] = tally[k + ".danger_right"] / tally[k + ".danger"]
        if tally[f"{lang}.answers"]:
            out[f"{lang}.answers interrupted"] = (
                tally[f"{lang}.answers_interrupted"] / tally[f"{lang}.answers"]
            )
    return out


def show(name: str, figures: dict[str, float]) -> None:
    print(name)
    print("   " + "  ".join(f"{k}={v:.3f}" for k, v in figures.items()))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", type=Path, default=ROOT / "models" / "lumi.tar.gz")
    parser.add_argument("--grid", action="store_true")
    parser.add_argument("--errors", action="store_true")
    parser.add_argument("--refresh", action="store_true", help="parse again (the cache is var/)")
    args = parser.parse_args(argv)
    data = parsed_dev(args.model, args.refresh)
    errors: list[str] = []
    show(f"in use: {BARS}", measure(data, BARS, errors if args.errors else None))
    if args.errors:
        print("\n".join(errors))
    if args.grid:
        grid = {
            "reader_sure": (0.85, 0.9, 0.95, 0.98),
            "reader_with_intent": (0.5, 0.6, 0.7, 0.8),
            "reader_with_intent_in_play": (0.6, 0.7, 0.8),
            "reader_doubts_intent": (0.1, 0.2, 0.3, 0.5),
            "intent_agrees": (0.5, 0.8),
        }
        for values in itertools.product(*grid.values()):
            bars = dataclasses.replace(BARS, **dict(zip(grid, values, strict=True)))
            show(str(dict(zip(grid, values, strict=True))), measure(data, bars))
    return 0


if __name__ == "__main__":
    sys.exit(main())
