"""What the teachers' pages and the class vote panel show, built from the domain.

Plain functions with no web framework in them (like ``bot.web.views``). Every
word comes from ``locales/`` (``teacher.*``, story texts, tactic names). Counts
leave the server already masked: a count of 1 or 2 children becomes
``{"count": None, "few": True}`` ("a few"), so no child can be singled
out; 0 and 3 or more are shown as they are.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from bot import text as texts
from bot.storage.pseudonyms import split_pseudonym
from bot.stories.model import Step, Story, get_story, stories
from bot.tactics import TACTICS
from bot.web import typography

MIN_GROUP = 3
LETTERS = "ABCDEFGH"  # the choices on the class screen
AGE_BANDS = ("8-10", "11-13")
# The lesson's parts and their minutes (PEDAGOGY.md, "For teachers": 45-55 minutes).
LESSON_PARTS: tuple[tuple[str, int], ...] = (
    ("warmup", 5),
    ("stories", 25),
    ("discussion", 10),
    ("quiz", 5),
    ("wrapup", 5),
)
PLAN_GOALS = ("name", "act", "adult", "help")
PLAN_BEFORE = ("code", "stories", "lead", "poster")
PLAN_DISCUSSION = ("why", "feel", "words", "adult", "friend")
PLAN_DISCLOSE = (
    "listen",
    "thank",
    "secrecy",
    "details",
    "evidence",
    "record",
    "procedure",
    "after",
)


def t(key: str, lang: str, **params: Any) -> str:
    """A locale text with the language's typography (``bot.web.typography``): the
    JSON the pages' scripts show gets the same spacing as the templates."""
    return typography.fix(texts.t(key, lang, **params), lang)


# --------------------------------------------------------------------------- small parts


def cell(count: int) -> dict[str, Any]:
    """A count of children as the pages show it: 1 and 2 are hidden ("a few")."""
    few = 0 < count < MIN_GROUP
    return {"count": None if few else int(count), "few": few}


def cell_label(value: dict[str, Any], lang: str) -> str:
    return t("teacher.dashboard.few", lang) if value["few"] else str(value["count"])


def pseudonym_label(pseudonym: str, lang: str) -> str:
    """``blue-fox`` -> "Blue Fox" / "Renard bleu" (French colours agree with the animal)."""
    try:
        colour, animal, number = split_pseudonym(pseudonym)
    except ValueError:
        return pseudonym
    gender = t(f"teacher.pseudonym.animals.{animal}.gender", lang)
    gender = gender if gender in ("m", "f") else "m"
    name = t(
        "teacher.pseudonym.format",
        lang,
        colour=t(f"teacher.pseudonym.colours.{colour}.{gender}", lang),
        animal=t(f"teacher.pseudonym.animals.{animal}.name", lang),
    )
    if number is not None:
        name = t("teacher.pseudonym.numbered", lang, name=name, number=number)
    return name


def tactic_info(tactic: str, lang: str) -> dict[str, str]:
    return {
        "id": tactic,
        "name": t(f"tactics.{tactic}.name", lang),
        "short": t(f"tactics.{tactic}.short", lang),
        "explain": t(f"tactics.{tactic}.explain", lang),
        "todo": t(f"tactics.{tactic}.todo", lang),
    }


def _ordered_steps(story: Story) -> list[Step]:
    """The story's steps from its start, breadth first (the order a class meets them)."""
    seen: list[str] = []
    queue = [story.start]
    while queue:
        step_id = queue.pop(0)
        if step_id in seen or step_id not in story.steps:
            continue
        seen.append(step_id)
        queue.extend(story.steps[step_id].targets)
    return [story.steps[s] for s in seen]


def story_card(story: Story, lang: str) -> dict[str, Any]:
    decisions = [s for s in story.steps.values() if s.kind in ("choice", "rehearsal")]
    return {
        "id": story.id,
        "title": t(story.key("title"), lang),
        "intro": t(story.key("intro"), lang),
        "age_band": story.age_band,
        "ages": t("teacher.home.ages", lang, band=story.age_band),
        "tactics": [tactic_info(x, lang) for x in story.tactics],
        "steps": len(decisions),
    }


def story_cards(lang: str, only: Iterable[str] | None = None) -> list[dict[str, Any]]:
    """Every story (or those of ``only``, in that order) for the pages; youngest first."""
    found = stories()
    if only is not None:
        return [story_card(found[s], lang) for s in only if s in found]
    ordered = sorted(found.values(), key=lambda s: (int(s.age_band.split("-")[0]), s.id))
    return [story_card(s, lang) for s in ordered]


def known_story_ids() -> set[str]:
    return set(stories())


def stories_in_band(story_ids: Iterable[str], band: str) -> bool:
    found = stories()
    return all(s in found and found[s].age_band == band for s in story_ids)


def addable_stories(info: dict[str, Any], lang: str) -> list[dict[str, Any]]:
    """Stories the teacher can still add to an open session (its age band, not in it)."""
    if info.get("status") != "open":
        return []
    band = info.get("age_band")
    return [
        card
        for card in story_cards(lang)
        if card["id"] not in info.get("story_ids", [])
        and (band is None or card["age_band"] == band)
    ]


def session_label(info: dict[str, Any], lang: str) -> str:
    """The session's name as the teacher wrote it, else "Class ABC234"."""
    return info.get("title") or t("teacher.lesson.untitled", lang, code=info["code"])


def session_meta(info: dict[str, Any], lang: str) -> list[str]:
    """Language, age band and country of a session, in words."""
    band = info.get("age_band")
    country = info.get("country")
    return [
        language_name(info["language"], lang),
        t(f"teacher.lesson.age_{band}" if band in AGE_BANDS else "teacher.lesson.age_all", lang),
        t("teacher.lesson.meta_country", lang, country=t(f"countries.{country}", lang))
        if country
        else t("teacher.lesson.meta_no_country", lang),
    ]


def alerts_view(
    alerts: list[dict[str, Any]], info: dict[str, Any], lang: str
) -> list[dict[str, Any]]:
    """A child's "I'd like to talk to my teacher": their class name and the time, nothing else."""
    return [
        {
            "id": int(a["id"]),
            "name": pseudonym_label(str(a["pseudonym"]), info["language"]),
            "time": short_time(a.get("raised_at"), info.get("time_zone")),
        }
        for a in alerts
    ]


def csv_text(rows: list[list[str]]) -> str:
    """CSV for a spreadsheet (a BOM so accents open right); a cell that a spreadsheet
    would read as a formula is quoted with a leading apostrophe."""
    import csv
    import io

    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    for row in rows:
        writer.writerow(["'" + c if c[:1] in ("=", "+", "-", "@") else c for c in row])
    return "\ufeff" + out.getvalue()


def language_name(code: str, lang: str) -> str:
    return t(f"teacher.common.language_names.{code}", lang)


def short_date(iso: str | None, time_zone: str | None = None) -> str:
    """``2026-12-06 09:15 CET``: a stored UTC time in the school's time zone (the one
    the teacher's browser gave when the session started), else in UTC."""
    if not iso:
        return ""
    try:
        when = dt.datetime.fromisoformat(iso)
    except ValueError:
        return ""
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.timezone.utc)
    zone = _zone(time_zone)
    if zone is None:
        return when.astimezone(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    local = when.astimezone(zone)
    return local.strftime("%Y-%m-%d %H:%M ") + (local.tzname() or str(time_zone))


def short_time(iso: str | None, time_zone: str | None = None) -> str:
    """``09:15``: the time of day of a stored UTC time in the school's time zone."""
    full = short_date(iso, time_zone)
    return full[11:16] if full else ""


def _zone(name: str | None) -> dt.tzinfo | None:
    if not name:
        return None
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None


# --------------------------------------------------------------------------- dashboard


def dashboard_view(raw: dict[str, Any], lang: str) -> dict[str, Any]:
    """``store.class_dashboard`` made safe to show: labels in ``lang``, counts masked.

    Only counts, ids, titles, tactic names and pseudonyms: nothing a child wrote.
    """
    chosen = [s for s in raw.get("story_ids", [])]
    played = [s for s in raw.get("stories", {}) if s not in chosen]
    titles = {c["id"]: c["title"] for c in story_cards(lang)}
    story_rows = []
    for story_id in chosen + sorted(played):
        counts = raw.get("stories", {}).get(story_id, {})
        finished = int(counts.get("finished", 0))
        average = counts.get("average_score")
        story_rows.append(
            {
                "id": story_id,
                "title": titles.get(story_id, story_id),
                "started": cell(int(counts.get("started", 0))),
                "finished": cell(finished),
                "average_score": int(average)
                if average is not None and finished >= MIN_GROUP
                else None,
            }
        )
    taught: list[str] = []
    for story_id in chosen:
        story = get_story(story_id)
        for tactic in story.tactics if story else ():
            if tactic not in taught:
                taught.append(tactic)
    tactic_rows = []
    raw_tactics = raw.get("tactics", {})
    for tactic in TACTICS:
        counts = raw_tactics.get(tactic, {})
        spotted, missed = int(counts.get("spotted", 0)), int(counts.get("missed", 0))
        if tactic in taught or spotted or missed:
            tactic_rows.append(
                {
                    "id": tactic,
                    "name": t(f"tactics.{tactic}.name", lang),
                    "spotted": cell(spotted),
                    "missed": cell(missed),
                }
            )
    step_rows = []
    raw_steps = raw.get("steps", {})
    for story_id in chosen + sorted(played):
        story = get_story(story_id)
        if story is not None:
            step_rows.append(
                {
                    "id": story_id,
                    "title": titles.get(story_id, story_id),
                    "steps": decision_rows(story, raw_steps.get(story_id, {}), lang),
                }
            )
    quiz = raw.get("quiz", {})
    learners = int(quiz.get("learners", 0))
    by_tactic = []
    for tactic in TACTICS:
        entry = quiz.get("by_tactic", {}).get(tactic, {})
        n = int(entry.get("learners", 0))
        if not n:
            continue
        answered, correct = int(entry.get("answered", 0)), int(entry.get("correct", 0))
        by_tactic.append(
            {
                "id": tactic,
                "name": t(f"tactics.{tactic}.name", lang),
                "learners": cell(n),
                "right_percent": round(100 * correct / answered)
                if n >= MIN_GROUP and answered
                else None,
            }
        )
    answered_all, correct_all = int(quiz.get("answered", 0)), int(quiz.get("correct", 0))
    bands = quiz.get("bands", {})
    return {
        "code": raw["code"],
        "status": raw["status"],
        "language": raw["language"],
        "joined": int(raw.get("joined", 0)),
        "pseudonyms": [pseudonym_label(p, raw["language"]) for p in raw.get("pseudonyms", [])],
        "active": cell(int(raw.get("active", 0))),
        "stories": story_rows,
        "tactics": tactic_rows,
        "steps": step_rows,
        "quiz": {
            "learners": cell(learners),
            "right_percent": round(100 * correct_all / answered_all)
            if learners >= MIN_GROUP and answered_all
            else None,
            "bands": {band: cell(int(bands.get(band, 0))) for band in ("high", "middle", "low")},
            "by_tactic": by_tactic,
        },
    }


def decision_rows(story: Story, counts: dict[str, Any], lang: str) -> list[dict[str, Any]]:
    """A story's decision steps in the order a class meets them, with how many children
    made a safe or a risky choice there (masked like every count)."""
    rows = []
    number = 0
    for step in _ordered_steps(story):
        if step.kind not in ("choice", "rehearsal"):
            continue
        number += 1
        label = t(f"teacher.lesson.step_{step.kind}", lang, n=number)
        if step.tactic:
            label = t(
                "teacher.lesson.step_trick",
                lang,
                step=label,
                trick=t(f"tactics.{step.tactic}.name", lang),
            )
        found = counts.get(step.id, {})
        rows.append(
            {
                "id": step.id,
                "kind": step.kind,
                "label": label,
                "safe": cell(int(found.get("safe", 0))),
                "risky": cell(int(found.get("risky", 0))),
            }
        )
    return rows


def export_rows(view: dict[str, Any], lang: str) -> list[list[str]]:
    """The dashboard's figures as CSV rows (a header, then one count a row): exactly the
    cells the dashboard shows, masked the same way; counts, titles and names only."""

    def shown(value: dict[str, Any]) -> str:
        return cell_label(value, lang)

    def head(key: str) -> str:
        return t(f"teacher.lesson.export.{key}", lang)

    rows = [[head("col_section"), head("col_item"), head("col_measure"), head("col_value")]]
    children = head("children")
    rows.append([head("class"), head("joined"), children, str(view["joined"])])
    rows.append([head("class"), head("active"), children, shown(view["active"])])
    for story in view["stories"]:
        for measure in ("started", "finished"):
            rows.append([head("story"), story["title"], head(measure), shown(story[measure])])
        average = story["average_score"]
        rows.append(
            [
                head("story"),
                story["title"],
                head("average"),
                "" if average is None else str(average),
            ]
        )
    for tactic in view["tactics"]:
        for measure in ("spotted", "missed"):
            rows.append([head("trick"), tactic["name"], head(measure), shown(tactic[measure])])
    for story in view.get("steps", []):
        for step in story["steps"]:
            item = f"{story['title']} · {step['label']}"
            for measure in ("safe", "risky"):
                rows.append([head("step"), item, head(measure), shown(step[measure])])
    quiz = view["quiz"]
    rows.append([head("quiz"), head("all"), children, shown(quiz["learners"])])
    right = quiz["right_percent"]
    rows.append([head("quiz"), head("all"), head("right"), "" if right is None else str(right)])
    for band in ("high", "middle", "low"):
        rows.append(
            [
                head("quiz"),
                t(f"teacher.dashboard.band_{band}", lang),
                children,
                shown(quiz["bands"][band]),
            ]
        )
    for tactic in quiz["by_tactic"]:
        rows.append([head("quiz"), tactic["name"], children, shown(tactic["learners"])])
        percent = tactic["right_percent"]
        rows.append(
            [head("quiz"), tactic["name"], head("right"), "" if percent is None else str(percent)]
        )
    return rows


# --------------------------------------------------------------------------- lesson plan


def plan_view(info: dict[str, Any], lang: str) -> dict[str, Any]:
    """The lesson plan of a session: its stories with tactics and discussion prompts."""
    story_list = []
    taught: list[str] = []
    for story_id in info.get("story_ids", []):
        story = get_story(story_id)
        if story is None:
            continue
        card = story_card(story, lang)
        prompts: list[str] = []
        for step in _ordered_steps(story):
            question = t(story.key("steps", step.id, "coplay"), lang)
            if question not in prompts:
                prompts.append(question)
        card["prompts"] = prompts
        note = story.key("teacher_note")
        card["note"] = t(note, lang) if texts.has(note, lang) else None
        story_list.append(card)
        for tactic in story.tactics:
            if tactic not in taught:
                taught.append(tactic)
    parts = [
        {
            "id": part,
            "minutes": minutes,
            "name": t(f"teacher.plan.parts.{part}.name", lang),
            "what": t(f"teacher.plan.parts.{part}.what", lang),
        }
        for part, minutes in LESSON_PARTS
    ]
    return {
        "stories": story_list,
        "tactics": [tactic_info(x, lang) for x in TACTICS if x in taught],
        "parts": parts,
        "minutes": sum(m for _, m in LESSON_PARTS),
        "goals": [t(f"teacher.plan.goals.{g}", lang) for g in PLAN_GOALS],
        "before": [t(f"teacher.plan.before.{b}", lang) for b in PLAN_BEFORE],
        "discussion": [t(f"teacher.plan.discussion.{d}", lang) for d in PLAN_DISCUSSION],
        "disclose": [t(f"teacher.plan.disclose.{d}", lang) for d in PLAN_DISCLOSE],
    }


# --------------------------------------------------------------------------- projector


def question(story: Story, step: Step, lang: str) -> str:
    own = story.key("steps", step.id, "question")
    if texts.has(own, lang):
        return t(own, lang)
    return t("story_ui.question", lang, name=t(story.key("character"), lang))


def majority(step: Step, votes: dict[str, int]) -> str | None:
    """The choice with the most votes (ties: the first in the story's order); None without votes."""
    best, most = None, 0
    for choice in step.choices:
        if votes.get(choice.id, 0) > most:
            best, most = choice.id, votes[choice.id]
    return best


def projector_view(state: dict[str, Any], votes: dict[str, int], lang: str) -> dict[str, Any]:
    """What the class screen shows for the session's projector state (in the class language)."""
    story = get_story(state.get("story_id"))
    step = story.step(state.get("step_id")) if story else None
    base = {
        "round": int(state.get("round", 0)),
        "revealed": bool(state.get("revealed")),
        "status": state.get("status"),
    }
    if story is None or step is None:
        return {**base, "mode": "choose", "stories": story_cards(lang, state.get("story_ids", []))}
    view: dict[str, Any] = {
        **base,
        "story_id": story.id,
        "step_id": step.id,
        "title": t(story.key("title"), lang),
        "text": t(story.key("steps", step.id, "text"), lang),
        "discuss": t(story.key("steps", step.id, "coplay"), lang),
        "mode": step.kind,
    }
    if step.kind == "choice":
        counted = {c.id: int(votes.get(c.id, 0)) for c in step.choices}
        total = sum(counted.values())
        view["question"] = question(story, step, lang)
        view["total"] = cell(total)
        view["majority"] = majority(step, counted)
        best = max(counted.values(), default=0)
        # shown once the answers are revealed, even when its count reads "a few"
        view["leaders"] = [c.id for c in step.choices if best and counted[c.id] == best]
        view["choices"] = [
            {
                "id": c.id,
                "letter": LETTERS[index] if index < len(LETTERS) else str(index + 1),
                "label": t(story.key("steps", step.id, "choices", c.id, "label"), lang),
                "feedback": t(story.key("steps", step.id, "choices", c.id, "feedback"), lang),
                "safe": c.safe,
                "votes": cell(counted[c.id]),
                # bar length: a hidden count (1-2) draws no length of its own
                "bar": 0
                if 0 < counted[c.id] < MIN_GROUP
                else (round(100 * counted[c.id] / total) if total else 0),
            }
            for index, c in enumerate(step.choices)
        ]
        if step.tactic:
            view["tactic"] = tactic_info(step.tactic, lang)
    elif step.kind == "rehearsal":
        view["prompt"] = t(
            "teacher.projector.rehearsal", lang, name=t(story.key("character"), lang)
        )
        view["example"] = t(story.key("steps", step.id, "example"), lang)
        if step.tactic:
            view["tactic"] = tactic_info(step.tactic, lang)
    else:
        view["recap"] = t(story.key("recap"), lang)
        if texts.has(story.key("what_works"), lang):
            view["what_works"] = t(story.key("what_works"), lang)
        view["tricks"] = [tactic_info(x, lang) for x in story.tactics]
    return view


def next_step(state: dict[str, Any], choice_id: str | None) -> tuple[str, str] | None:
    """Where the story goes from the shown step: (story id, step id), or None."""
    story = get_story(state.get("story_id"))
    step = story.step(state.get("step_id")) if story else None
    if story is None or step is None:
        return None
    if step.kind == "rehearsal" and step.next:
        return story.id, step.next
    choice = step.choice(choice_id)
    if step.kind == "choice" and choice is not None:
        return story.id, choice.next
    return None


def poll_view(state: dict[str, Any], voted: str | None, lang: str) -> dict[str, Any]:
    """The vote panel on a child's device: the question and the choices (never the votes)."""
    story = get_story(state.get("story_id"))
    step = story.step(state.get("step_id")) if story else None
    view: dict[str, Any] = {
        "status": state.get("status"),
        "round": int(state.get("round", 0)),
        "revealed": bool(state.get("revealed")),
        "active": False,
        "voted": None,
    }
    if story is None or step is None or step.kind != "choice":
        view["showing"] = story is not None and step is not None
        return view
    view.update(
        showing=True,
        active=not state.get("revealed") and state.get("status") == "open",
        title=t(story.key("title"), lang),
        question=question(story, step, lang),
        choices=[
            {"id": c.id, "label": t(story.key("steps", step.id, "choices", c.id, "label"), lang)}
            for c in step.choices
        ],
        voted=voted if step.choice(voted) is not None else None,
    )
    return view
