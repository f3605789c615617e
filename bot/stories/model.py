"""Role-play stories as data: loading and validation of ``data/roleplay/<id>.yml``.

A story file holds the structure (steps, choices, which choice is safe, which
trick a step shows); every word a person reads is in
``locales/stories/<id>.<lang>.yml``. Loading checks both and raises
:class:`StoryError` with one message per problem, each naming the file and the
step. ``docs/stories.md`` describes the format.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from bot import text as texts
from bot.paths import DATA_DIR, LOCALES_DIR, ROOT
from bot.tactics import TACTICS

ROLEPLAY_DIR = DATA_DIR / "roleplay"
STRATEGIES_FILE = "strategies.yml"
AGE_BANDS: tuple[str, ...] = ("8-10", "11-13")
MIN_CHOICES = 2
MAX_CHOICES = 4
# The button on a rehearsal step that shows an example answer and moves on.
SHOW_EXAMPLE = "show_example"
ID_PATTERN = re.compile(r"^[a-z][a-z0-9_]{0,39}$")

# How the manipulator's messages look on screen (all optional, see docs/stories.md).
APPS: tuple[str, ...] = ("game_chat", "dm", "photo_chat", "video_call", "live", "group")
AVATAR_COLOURS: tuple[str, ...] = (
    "blue",
    "green",
    "orange",
    "pink",
    "purple",
    "red",
    "teal",
    "brown",
)
DEFAULT_APP = "game_chat"
DEFAULT_START_TIME = "16:30"
MINUTES_PER_STEP = 3
TIME_PATTERN = re.compile(r"^([01][0-9]|2[0-3]):[0-5][0-9]$")

# Texts every story needs, every step needs, and per kind of step.
STORY_TEXTS = ("title", "intro", "character", "recap", "who_to_tell")
# Optional: the sender's name and the app's name on the message mock-ups, the
# alt text of the story's own illustration, a note for the teacher printed
# with the story in the lesson plan, and what works (the best moves), said at
# the end of every path, whichever tricks it met (the recap names them all, so
# it is said only on a path that met them all).
OPTIONAL_STORY_TEXTS = ("sender", "app_name", "picture", "teacher_note", "what_works")
# Optional on any step but the end: the message as it appears on screen, the
# words that are the trick ("spot.<tactic>": phrases of the message, "|" between
# them), a sender of its own and an app name of its own (a step in another app).
OPTIONAL_MESSAGE_TEXTS = ("message", "sender", "app_name")
STEP_TEXTS = ("text", "coplay")
CHOICE_TEXTS = ("label", "feedback")
REHEARSAL_TEXTS = ("example",)
OPTIONAL_CHOICE_STEP_TEXTS = ("question",)
OPTIONAL_REHEARSAL_TEXTS = ("hint",)

_STORY_KEYS = {"id", "age_band", "tactics", "start", "steps", "chat"}
_STEP_KEYS = {"tactic", "choices", "rehearsal", "next", "end", "chat"}
_CHAT_KEYS = {"app", "avatar", "start"}
_STEP_CHAT_KEYS = {"app", "time", "avatar"}
_CHOICE_KEYS = {"id", "next", "safe", "strategy", "keywords"}
_PLACEHOLDER = re.compile(r"%(?!%)")


class StoryError(ValueError):
    """One or more problems in the story files; ``errors`` lists them all."""

    def __init__(self, errors: Iterable[str]) -> None:
        self.errors = list(errors)
        super().__init__("\n".join(self.errors))


@dataclass(frozen=True)
class Choice:
    id: str
    next: str
    safe: bool
    strategy: str
    # Extra regular expressions (over normalised text) that pick this choice.
    keywords: Mapping[str, tuple[str, ...]] = field(default_factory=dict)


@dataclass(frozen=True)
class Chat:
    """How a story's messages look: the app kind, the avatar colour, the first time."""

    app: str = DEFAULT_APP
    avatar: str | None = None
    start: str = DEFAULT_START_TIME


@dataclass(frozen=True)
class Step:
    id: str
    kind: str  # "choice", "rehearsal" or "end"
    tactic: str | None = None
    choices: tuple[Choice, ...] = ()
    next: str | None = None
    app: str | None = None  # this step's app, when it differs from the story's
    time: str | None = None  # this step's clock time on the mock-up
    avatar: str | None = None  # this step's sender's colour (another sender)

    def choice(self, choice_id: object) -> Choice | None:
        for choice in self.choices:
            if choice.id == choice_id:
                return choice
        return None

    @property
    def targets(self) -> list[str]:
        if self.kind == "choice":
            return [c.next for c in self.choices]
        if self.kind == "rehearsal" and self.next:
            return [self.next]
        return []


@dataclass(frozen=True)
class Story:
    id: str
    age_band: str
    tactics: tuple[str, ...]
    start: str
    steps: Mapping[str, Step]
    source: Path
    chat: Chat = field(default_factory=Chat)

    def key(self, *parts: str) -> str:
        """The locale key of a text of this story: ``stories.<id>.<parts>``."""
        return ".".join(("stories", self.id, *parts))

    def step(self, step_id: object) -> Step | None:
        return self.steps.get(step_id) if isinstance(step_id, str) else None

    def depth(self, step_id: str) -> int:
        """How many decisions it takes at least to reach a step from the start."""
        return _depths(self).get(step_id, 0)

    def time_of(self, step: Step) -> str:
        """The clock time on a step's message mock-up ("17:05")."""
        if step.time:
            return step.time
        hours, minutes = (int(x) for x in self.chat.start.split(":"))
        total = (hours * 60 + minutes + MINUTES_PER_STEP * self.depth(step.id)) % (24 * 60)
        return f"{total // 60:02d}:{total % 60:02d}"

    def text_keys(self) -> tuple[set[str], set[str]]:
        """(required keys, optional keys) of this story's locale file."""
        from bot.tactics import TACTICS

        required = {self.key(name) for name in STORY_TEXTS}
        optional: set[str] = {self.key(name) for name in OPTIONAL_STORY_TEXTS}
        for step in self.steps.values():
            required |= {self.key("steps", step.id, name) for name in STEP_TEXTS}
            if step.kind != "end":
                optional |= {self.key("steps", step.id, n) for n in OPTIONAL_MESSAGE_TEXTS}
                optional |= {self.key("steps", step.id, "spot", t) for t in TACTICS}
            if step.kind == "rehearsal":
                required |= {self.key("steps", step.id, n) for n in REHEARSAL_TEXTS}
                optional |= {self.key("steps", step.id, n) for n in OPTIONAL_REHEARSAL_TEXTS}
            for choice in step.choices:
                required |= {
                    self.key("steps", step.id, "choices", choice.id, n) for n in CHOICE_TEXTS
                }
            if step.kind == "choice":
                optional |= {self.key("steps", step.id, n) for n in OPTIONAL_CHOICE_STEP_TEXTS}
        return required, optional


def _depths(story: Story) -> dict[str, int]:
    depths = {story.start: 0}
    todo = [story.start]
    while todo:
        current = todo.pop(0)
        step = story.steps.get(current)
        for target in step.targets if step else []:
            if target not in depths:
                depths[target] = depths[current] + 1
                todo.append(target)
    return depths


# --- reading YAML -----------------------------------------------------------


class _DuplicateKey(Exception):
    def __init__(self, key: object, line: int) -> None:
        super().__init__(f"line {line}: '{key}' is defined twice")


class _UniqueKeyLoader(yaml.SafeLoader):
    """A safe loader that refuses a mapping key given twice (PyYAML keeps the last)."""


def _unique_mapping(loader: _UniqueKeyLoader, node: yaml.MappingNode) -> dict[Any, Any]:
    seen: set[Any] = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node)
        if key in seen:
            raise _DuplicateKey(key, key_node.start_mark.line + 1)
        seen.add(key)
    return loader.construct_mapping(node)


_UniqueKeyLoader.add_constructor(
    yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG,
    _unique_mapping,
)


def read_yaml(path: Path) -> Any:
    """Parse ``path``; a key defined twice is an error (:class:`StoryError`)."""
    try:
        return yaml.load(path.read_text(encoding="utf-8"), Loader=_UniqueKeyLoader)  # noqa: S506
    except _DuplicateKey as exc:
        raise StoryError([f"{display(path)}: {exc}"]) from None
    except yaml.YAMLError as exc:
        raise StoryError([f"{display(path)}: not valid YAML ({exc})"]) from None


def display(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(ROOT))
    except ValueError:
        return str(path)


# --- parsing and checking one file ------------------------------------------


class _Collector:
    def __init__(self, path: Path) -> None:
        self.name = display(path)
        self.errors: list[str] = []

    def story(self, message: str) -> None:
        self.errors.append(f"{self.name}: {message}")

    def step(self, step_id: object, message: str) -> None:
        self.errors.append(f"{self.name}: step '{step_id}': {message}")


def _valid_id(value: object) -> bool:
    return isinstance(value, str) and bool(ID_PATTERN.match(value))


def _parse_keywords(raw: object, where: str, out: _Collector, step_id: str) -> dict[str, tuple]:
    if raw is None:
        return {}
    if not isinstance(raw, dict) or not set(raw) <= set(texts.LANGUAGES):
        out.step(step_id, f"{where}: keywords must map en/fr to lists of patterns")
        return {}
    result: dict[str, tuple[str, ...]] = {}
    for lang, patterns in raw.items():
        if not isinstance(patterns, list) or not all(isinstance(p, str) for p in patterns):
            out.step(step_id, f"{where}: keywords.{lang} must be a list of strings")
            continue
        for pattern in patterns:
            try:
                re.compile(pattern)
            except re.error as exc:
                out.step(step_id, f"{where}: bad keyword pattern {pattern!r} ({exc})")
        result[lang] = tuple(patterns)
    return result


def _parse_choice(
    raw: object, step_id: str, strategies: set[str], out: _Collector
) -> Choice | None:
    if not isinstance(raw, dict):
        out.step(step_id, "each choice must be a mapping with id, next, safe, strategy")
        return None
    cid = raw.get("id")
    where = f"choice '{cid}'"
    ok = True
    if not _valid_id(cid) or cid == SHOW_EXAMPLE:
        out.step(step_id, f"{where}: bad choice id (lower-case letters, digits, _)")
        ok = False
    for extra in sorted(set(raw) - _CHOICE_KEYS):
        out.step(step_id, f"{where}: unknown field '{extra}'")
    if not isinstance(raw.get("next"), str):
        out.step(step_id, f"{where}: 'next' must name a step")
        ok = False
    if not isinstance(raw.get("safe"), bool):
        out.step(step_id, f"{where}: 'safe' must be true or false")
        ok = False
    strategy = raw.get("strategy")
    if strategy not in strategies:
        out.step(step_id, f"{where}: unknown strategy '{strategy}' (known: {sorted(strategies)})")
        ok = False
    keywords = _parse_keywords(raw.get("keywords"), where, out, step_id)
    if not ok:
        return None
    return Choice(
        id=str(cid),
        next=str(raw["next"]),
        safe=bool(raw["safe"]),
        strategy=str(strategy),
        keywords=keywords,
    )


def _parse_chat(raw: object, out: _Collector) -> Chat:
    """The story's optional ``chat`` (app, avatar, start time)."""
    if raw is None:
        return Chat()
    if not isinstance(raw, dict):
        out.story("'chat' must be a mapping with app, avatar, start")
        return Chat()
    for extra in sorted(set(raw) - _CHAT_KEYS):
        out.story(f"chat: unknown field '{extra}'")
    app = raw.get("app", DEFAULT_APP)
    if app not in APPS:
        out.story(f"chat: unknown app '{app}' (one of {', '.join(APPS)})")
        app = DEFAULT_APP
    avatar = raw.get("avatar")
    if avatar is not None and avatar not in AVATAR_COLOURS:
        out.story(f"chat: unknown avatar '{avatar}' (one of {', '.join(AVATAR_COLOURS)})")
        avatar = None
    start = raw.get("start", DEFAULT_START_TIME)
    if not isinstance(start, str) or not TIME_PATTERN.match(start):
        out.story(f'chat: start must be a time like "17:05" (quote it), not {start!r}')
        start = DEFAULT_START_TIME
    return Chat(app=str(app), avatar=avatar, start=start)


def _parse_step_chat(
    step_id: str, raw: object, out: _Collector
) -> tuple[str | None, str | None, str | None]:
    """A step's optional ``chat``: (app, time, avatar), each None when not given."""
    if raw is None:
        return None, None, None
    if not isinstance(raw, dict):
        out.step(step_id, "'chat' must be a mapping with app, time and/or avatar")
        return None, None, None
    for extra in sorted(set(raw) - _STEP_CHAT_KEYS):
        out.step(step_id, f"chat: unknown field '{extra}'")
    app, time = raw.get("app"), raw.get("time")
    if app is not None and app not in APPS:
        out.step(step_id, f"chat: unknown app '{app}' (one of {', '.join(APPS)})")
        app = None
    if time is not None and (not isinstance(time, str) or not TIME_PATTERN.match(time)):
        out.step(step_id, f'chat: time must be like "17:05" (quote it), not {time!r}')
        time = None
    avatar = raw.get("avatar")
    if avatar is not None and avatar not in AVATAR_COLOURS:
        out.step(step_id, f"chat: unknown avatar '{avatar}' (one of {', '.join(AVATAR_COLOURS)})")
        avatar = None
    return app, time, avatar


def _parse_step(step_id: str, raw: object, strategies: set[str], out: _Collector) -> Step | None:
    if not isinstance(raw, dict):
        out.step(step_id, "a step must be a mapping")
        return None
    for extra in sorted(set(raw) - _STEP_KEYS):
        out.step(step_id, f"unknown field '{extra}'")
    app, time, avatar = _parse_step_chat(step_id, raw.get("chat"), out)
    tactic = raw.get("tactic")
    if tactic is not None and tactic not in TACTICS:
        out.step(step_id, f"unknown tactic '{tactic}' (known: {', '.join(TACTICS)})")
        tactic = None
    kinds = [k for k in ("choices", "rehearsal", "end") if raw.get(k)]
    if len(kinds) != 1:
        out.step(step_id, "a step has exactly one of: choices, rehearsal: true, end: true")
        return None
    kind = kinds[0]
    if kind == "end":
        if raw.get("end") is not True or "next" in raw or "choices" in raw:
            out.step(step_id, "an end step is 'end: true' with no next and no choices")
        return Step(id=step_id, kind="end", tactic=tactic, app=app, time=time, avatar=avatar)
    if kind == "rehearsal":
        if raw.get("rehearsal") is not True:
            out.step(step_id, "write 'rehearsal: true'")
        nxt = raw.get("next")
        if not isinstance(nxt, str):
            out.step(step_id, "a rehearsal step needs 'next'")
            return None
        return Step(
            id=step_id,
            kind="rehearsal",
            tactic=tactic,
            next=nxt,
            app=app,
            time=time,
            avatar=avatar,
        )
    raw_choices = raw.get("choices")
    if not isinstance(raw_choices, list):
        out.step(step_id, "'choices' must be a list")
        return None
    if "next" in raw:
        out.step(step_id, "a step with choices has no 'next' (each choice has one)")
    if not MIN_CHOICES <= len(raw_choices) <= MAX_CHOICES:
        out.step(
            step_id,
            f"has {len(raw_choices)} choice(s); a step needs {MIN_CHOICES} to {MAX_CHOICES}",
        )
    choices = [c for c in (_parse_choice(r, step_id, strategies, out) for r in raw_choices) if c]
    seen_ids: set[str] = set()
    seen_strategies: set[str] = set()
    for choice in choices:
        if choice.id in seen_ids:
            out.step(step_id, f"duplicate choice id '{choice.id}'")
        if choice.strategy in seen_strategies:
            out.step(
                step_id,
                f"two choices use strategy '{choice.strategy}' (free text could not tell them "
                "apart): give each choice its own strategy",
            )
        seen_ids.add(choice.id)
        seen_strategies.add(choice.strategy)
    if choices and not any(c.safe for c in choices):
        out.step(step_id, "needs at least one safe choice")
    return Step(
        id=step_id,
        kind="choice",
        tactic=tactic,
        choices=tuple(choices),
        app=app,
        time=time,
        avatar=avatar,
    )


def _check_graph(story: Story, out: _Collector) -> None:
    steps = story.steps
    for step in steps.values():
        for target in step.targets:
            if target not in steps:
                out.step(step.id, f"unknown next step '{target}'")
    if story.start not in steps:
        out.story(f"unknown start step '{story.start}'")
        return
    reachable = {story.start}
    todo = [story.start]
    while todo:
        for target in steps[todo.pop()].targets:
            if target in steps and target not in reachable:
                reachable.add(target)
                todo.append(target)
    for step_id in steps:
        if step_id not in reachable:
            out.step(step_id, f"unreachable from the start step '{story.start}'")
    ends = {s.id for s in steps.values() if s.kind == "end"}
    if not ends:
        out.story("has no end step ('end: true')")
    finishing = set(ends)
    changed = True
    while changed:
        changed = False
        for step in steps.values():
            if step.id not in finishing and any(t in finishing for t in step.targets):
                finishing.add(step.id)
                changed = True
    for step in steps.values():
        if step.id in reachable and step.id not in finishing:
            out.step(step.id, "dead end: no way from here to an end step")
    # Every path must finish: no step may lead back to itself.
    state: dict[str, int] = {}

    def visit(step_id: str, trail: list[str]) -> None:
        state[step_id] = 1
        for target in steps[step_id].targets:
            if target not in steps:
                continue
            if state.get(target) == 1:
                out.step(step_id, f"loops back to '{target}' (stories must always move forward)")
            elif target not in state:
                visit(target, [*trail, target])
        state[step_id] = 2

    visit(story.start, [story.start])


def _check_tactics(story: Story, out: _Collector) -> None:
    shown = {s.tactic for s in story.steps.values() if s.tactic}
    for step in story.steps.values():
        if step.tactic and step.tactic not in story.tactics:
            out.step(step.id, f"tactic '{step.tactic}' is not listed in the story's tactics")
    for tactic in story.tactics:
        if tactic not in shown:
            out.story(f"tactic '{tactic}' is listed but no step shows it")


def parse_story(path: Path, raw: object, strategies: set[str]) -> tuple[Story | None, list[str]]:
    """Build a :class:`Story` from parsed YAML; returns it with the problems found."""
    out = _Collector(path)
    if not isinstance(raw, dict):
        out.story("a story file is a mapping with id, age_band, tactics, start, steps")
        return None, out.errors
    for extra in sorted(set(raw) - _STORY_KEYS):
        out.story(f"unknown field '{extra}'")
    story_id = raw.get("id")
    if not _valid_id(story_id):
        out.story(f"bad story id '{story_id}' (lower-case letters, digits, _)")
    elif story_id != path.stem:
        out.story(f"id '{story_id}' must match the file name '{path.stem}.yml'")
    age_band = raw.get("age_band")
    if age_band not in AGE_BANDS:
        out.story(f"bad age band '{age_band}' (one of {', '.join(AGE_BANDS)})")
    tactics = raw.get("tactics")
    if not isinstance(tactics, list):
        out.story("'tactics' must be a list of tactic ids (may be empty)")
        tactics = []
    for tactic in tactics:
        if tactic not in TACTICS:
            out.story(f"unknown tactic '{tactic}' (known: {', '.join(TACTICS)})")
    if len(set(tactics)) != len(tactics):
        out.story("a tactic is listed twice in 'tactics'")
    raw_steps = raw.get("steps")
    if not isinstance(raw_steps, dict) or not raw_steps:
        out.story("'steps' must be a mapping of step id to step")
        return None, out.errors
    steps: dict[str, Step] = {}
    for step_id, raw_step in raw_steps.items():
        if not _valid_id(step_id):
            out.step(step_id, "bad step id (lower-case letters, digits, _)")
            continue
        step = _parse_step(step_id, raw_step, strategies, out)
        if step is not None:
            steps[step_id] = step
    start = raw.get("start")
    if not isinstance(start, str):
        out.story("'start' must name a step")
        return None, out.errors
    story = Story(
        id=str(story_id),
        age_band=str(age_band),
        tactics=tuple(t for t in tactics if t in TACTICS),
        start=start,
        steps=steps,
        source=path,
        chat=_parse_chat(raw.get("chat"), out),
    )
    if len(steps) == len(raw_steps):
        _check_graph(story, out)
    _check_tactics(story, out)
    return story, out.errors


def check_texts(story: Story, table: Mapping[str, Mapping[str, Any]]) -> list[str]:
    """Missing, empty, unused or unformattable texts of ``story`` in each language."""
    out = _Collector(story.source)
    required, optional = story.text_keys()
    prefix = story.key() + "."
    for lang in texts.LANGUAGES:
        entries = table.get(lang, {})
        for key in sorted(required):
            value = entries.get(key)
            where = _where(story, key)
            if value is None:
                _report(out, where, f"missing text '{key}' in '{lang}'")
            elif not isinstance(value, str) or not value.strip():
                _report(out, where, f"text '{key}' in '{lang}' is empty")
        for key in sorted(k for k in entries if k.startswith(prefix)):
            value = entries[key]
            where = _where(story, key)
            if key not in required and key not in optional:
                _report(out, where, f"unused text '{key}' in '{lang}' (typo in an id?)")
            elif isinstance(value, str) and _PLACEHOLDER.search(value.replace("%%", "")):
                _report(out, where, f"text '{key}' in '{lang}': no '%' in story texts")
            elif not isinstance(value, str) or not value.strip():
                _report(out, where, f"text '{key}' in '{lang}' is empty or not a string")
        _check_spots(story, entries, lang, out)
    return out.errors


def spot_phrases(value: object) -> list[str]:
    """The phrases of a ``spot.<tactic>`` text ("free gems|It's a gift!")."""
    if not isinstance(value, str):
        return []
    return [p.strip() for p in value.split("|") if p.strip()]


def _check_spots(story: Story, entries: Mapping[str, Any], lang: str, out: _Collector) -> None:
    """Each ``spot`` phrase is words of the step's message, for a trick the story teaches."""
    for step in story.steps.values():
        prefix = story.key("steps", step.id, "spot") + "."
        message = entries.get(story.key("steps", step.id, "message"))
        for key in sorted(k for k in entries if k.startswith(prefix)):
            tactic = key[len(prefix) :]
            if tactic not in story.tactics:
                out.step(step.id, f"spot.{tactic} in '{lang}': not a trick this story teaches")
            if not isinstance(message, str):
                out.step(step.id, f"spot.{tactic} in '{lang}': the step has no 'message'")
                continue
            for phrase in spot_phrases(entries[key]):
                if phrase not in message:
                    out.step(
                        step.id,
                        f"spot.{tactic} in '{lang}': {phrase!r} is not in the step's message",
                    )


def _where(story: Story, key: str) -> str | None:
    parts = key.split(".")
    if len(parts) > 4 and parts[2] == "steps":
        return parts[3]
    return None


def _report(out: _Collector, step_id: str | None, message: str) -> None:
    if step_id is None:
        out.story(message)
    else:
        out.step(step_id, message)


# --- loading all stories ----------------------------------------------------


def story_files(roleplay_dir: Path) -> list[Path]:
    return sorted(p for p in roleplay_dir.glob("*.yml") if p.name != STRATEGIES_FILE)


def load_stories(
    roleplay_dir: Path | None = None,
    locales_dir: Path | None = None,
    strategies: set[str] | None = None,
) -> dict[str, Story]:
    """Read and check every story; raise :class:`StoryError` listing all problems.

    ``locales_dir`` defaults to the project's ``locales/``; ``strategies`` to the
    ids in ``strategies.yml`` (the one next to the stories if there is one).
    """
    roleplay_dir = roleplay_dir or ROLEPLAY_DIR
    if strategies is None:
        from bot.stories import understand

        own = roleplay_dir / STRATEGIES_FILE
        strategies = set(understand.load_lexicon(own if own.exists() else None).strategies)
    table = _loaded_table() if locales_dir is None else texts.read_locale_files(locales_dir)
    errors: list[str] = []
    found: dict[str, Story] = {}
    for path in story_files(roleplay_dir):
        try:
            raw = read_yaml(path)
        except StoryError as exc:
            errors.extend(exc.errors)
            continue
        story, problems = parse_story(path, raw, strategies)
        errors.extend(problems)
        if story is None:
            continue
        if story.id in found:
            errors.append(
                f"{display(path)}: duplicate story id '{story.id}' "
                f"(also in {display(found[story.id].source)})"
            )
            continue
        errors.extend(check_texts(story, table))
        found[story.id] = story
    if not found and not errors:
        errors.append(f"{display(roleplay_dir)}: no story files")
    if errors:
        raise StoryError(errors)
    return found


def _loaded_table() -> dict[str, dict[str, Any]]:
    try:
        return texts.read_locale_files(LOCALES_DIR)
    except ValueError as exc:  # a broken locale file elsewhere: report it, do not hide it
        raise StoryError([str(exc)]) from None


@functools.lru_cache(maxsize=1)
def stories() -> dict[str, Story]:
    """Every story, checked, read once on first use."""
    return load_stories()


def get_story(story_id: object) -> Story | None:
    """The story with this id, or ``None`` for anything else (never raises on bad input)."""
    if not isinstance(story_id, str) or not _valid_id(story_id):
        return None
    return stories().get(story_id)


def reset_cache() -> None:
    stories.cache_clear()
