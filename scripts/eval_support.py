"""Measure the conversation after a disclosure and the FAQ (docs/safeguarding.md).

On the blind sets ``data/eval/support/blind.{en,fr}.yml`` (never tuned on):

- FAQ: a question asked in the menu gets the answer of its topic;
- follow-ups: a message said in support mode gets the reassurance of its kind
  first (or the steps, for "what should I do");
- not questions: story answers and everyday chat typed inside a story are not
  answered as an FAQ question;

and, on every answer children type inside stories (``data/eval/stories/`` and
the ``choose_action`` examples, 1,267 texts), how many the FAQ or "What can I
do now?" would take from the story.

Without ``--model`` only the patterns (bot.safeguarding.followup) are read;
with ``--model`` each message is parsed by the trained model as the server does
(mode passed as the channel does) and routed as the rules route it.

    .venv/bin/python scripts/eval_support.py [--model] [--errors]
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot import dialogue  # noqa: E402
from bot import text as texts  # noqa: E402
from bot.conversation import Reply, Turn  # noqa: E402
from bot.safeguarding import followup, support  # noqa: E402

BLIND = ROOT / "data" / "eval" / "support"
LANGS = ("en", "fr")
SUPPORT_STATE = {"return_to": "menu", "topic": "online", "level": "concern"}

Parse = Callable[[str, str], tuple[str, dict[str, Any]]]


def patterns_only(text: str, mode: str) -> tuple[str, dict[str, Any]]:
    return "nlu_fallback", {}


def model_parser(model: str) -> Parse:
    import logging

    from rasa.utils.log_utils import configure_structlog

    configure_structlog(logging.WARNING)
    from bot.nlu_rules import STATE_KEY
    from tests.conversation.conftest import Parser

    parser = Parser(model)

    def parse(text: str, mode: str) -> tuple[str, dict[str, Any]]:
        state = {"mode": mode}
        if mode == "support":
            state.update(safeguard_level="concern", safeguard_topic="online")
        out = parser.parse(text, {STATE_KEY: state})
        entities = {e["entity"]: e["value"] for e in out.get("entities", [])}
        return out["intent"]["name"], entities

    return parse


def route(intent: str, entities: dict[str, Any], text: str, lang: str, mode: str) -> Reply | None:
    """What Lumi answers, as data/rules route the intent (None: the full first reply)."""
    slots: dict[str, Any] = {"mode": mode, "language": lang, "language_locked": True}
    slots["country"] = "FR" if lang == "fr" else "GB"
    if mode == "support":
        slots["support"] = dict(SUPPORT_STATE)
    if mode == "story":
        slots["story"] = {"id": "skin_gift", "step": "start"}
    turn = Turn(intent=intent, text=text, entities=entities, slots=slots)
    if intent == "disclose_problem":
        return None
    if intent == "ask_safety_question":
        return support.answer_question(turn) or dialogue.handle_text(turn)
    if intent == "support_steps" or intent in ("pick_adult", "story_choice", "start_story"):
        return dialogue.handle_text(turn)  # activity scope: typed text goes to the activity
    return dialogue.handle_text(turn)


def load(lang: str) -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((BLIND / f"blind.{lang}.yml").read_text("utf-8"))
    return data


def story_answers(lang: str) -> list[str]:
    out: list[str] = []
    for path in sorted((ROOT / "data" / "eval" / "stories").glob(f"*.{lang}.yml")):
        out += [i["text"] for i in yaml.safe_load(path.read_text("utf-8"))["items"]]
    raw = yaml.safe_load((ROOT / "data" / "nlu" / lang / "choose_action.yml").read_text("utf-8"))
    for block in raw["nlu"]:
        out += [
            line.strip()[2:] for line in block["examples"].splitlines() if line.strip()[:2] == "- "
        ]
    return out


def pct(n: int, d: int) -> str:
    return f"{100 * n / d:.1f} % ({n}/{d})" if d else "-"


def measure(lang: str, parse: Parse, errors: bool) -> dict[str, str]:
    data = load(lang)
    faq_texts = {texts.t(f"support.faq.{t}", lang): t for t in followup.faq_topics()}
    wrong: list[str] = []

    ok = 0
    for item in data["faq"]:
        intent, entities = parse(item["text"], "menu")
        reply = route(intent, entities, item["text"], lang, "menu")
        got = faq_texts.get(reply.texts[0]) if reply and reply.texts else None
        ok += got == item["topic"]
        if got != item["topic"]:
            wrong.append(f"faq  {item['text']!r}: {intent} -> {got} (want {item['topic']})")
    faq = pct(ok, len(data["faq"]))

    ok = 0
    for item in data["followups"]:
        intent, entities = parse(item["text"], "support")
        reply = route(intent, entities, item["text"], lang, "support")
        first = reply.texts[0] if reply and reply.texts else None
        if item["kind"] == "what_now":
            want = texts.t("safeguard.steps.online", lang)
        else:
            want = texts.t(f"support.reassure.{item['kind']}", lang)
        ok += first == want
        if first != want:
            wrong.append(f"next {item['text']!r}: {intent} -> {first!r:.60} (want {item['kind']})")
    follow = pct(ok, len(data["followups"]))

    bad = 0
    for text in data["not_questions"]:
        intent, entities = parse(text, "story")
        reply = route(intent, entities, text, lang, "story")
        taken = bool(reply and reply.texts and reply.texts[0] in faq_texts)
        bad += taken
        if taken:
            wrong.append(f"not  {text!r}: {intent} answered as an FAQ question")
    not_q = pct(bad, len(data["not_questions"]))

    answers = story_answers(lang)
    taken = 0
    steps = {texts.t(f"safeguard.steps.{t}", lang) for t in ("online", "worry")}
    for text in answers:
        intent, entities = parse(text, "story")
        if intent in ("ask_safety_question", "support_steps") or followup.faq_topic(text):
            reply = route(intent, entities, text, lang, "story")
            if reply and reply.texts and (reply.texts[0] in faq_texts or reply.texts[0] in steps):
                taken += 1
                wrong.append(f"story {text!r}: {intent} taken from the story")
    story = pct(taken, len(answers))
    if errors:
        for line in wrong:
            print(f"  [{lang}] {line}")
    return {
        "FAQ question answered with its topic (menu)": faq,
        "Follow-up answered with its reassurance first (support)": follow,
        "Not a question, answered as one (story)": not_q,
        "Story answers taken from the story by the FAQ or the steps": story,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", nargs="?", const="models/lumi.tar.gz", default=None)
    parser.add_argument("--errors", action="store_true")
    args = parser.parse_args(argv)
    parse = model_parser(args.model) if args.model else patterns_only
    results = {lang: measure(lang, parse, args.errors) for lang in LANGS}
    label = f"model {args.model}" if args.model else "patterns alone"
    print(f"\n| {label} | en | fr |\n|---|---|---|")
    for key in results["en"]:
        print(f"| {key} | {results['en'][key]} | {results['fr'][key]} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
