"""The "Spot the trick" quiz: a short message, which trick is it?

Data: ``data/quiz/spot_the_trick.yml`` (rounds, items per tactic, the other
tricks a message also shows, what each age band gets, the words that name a
trick); text: ``locales/quiz.<lang>.yml``; trick names come from
``locales/tactics.<lang>.yml``.

Fair by design: an answer naming ANY trick the message really shows is right
(the others are shown as "also there"); a typed answer is read by
:mod:`bot.tactic_names` (name variants, negation); when it is not clear which
trick was meant, Lumi asks instead of guessing.

Slots (written only through ``Reply.set``):

- ``quiz``: a JSON-able dict. While a quiz runs::

      {"v": 1, "items": ["bribe_2", "threat_1", ...], "round": 0,
       "options": ["bribe", "meeting", "secrecy"], "right": 0, "points": 0,
       "mastery": {"bribe": 1}}

  ``round`` is the index of the current message in ``items``; ``options`` the
  tactics on its buttons (the message's main trick and tricks it does not
  show). After a quiz only ``{"v": 1, "mastery": {...}}`` is kept: right
  answers per tactic, summed over quizzes, for the badges.
- ``badges``: list of ``"badge_<tactic>"``, one per tactic found ``badge_after`` times.
- ``mode``: ``"quiz"`` while it runs, ``"menu"`` after.

Buttons: ``/quiz_answer{"round": <1-based number>, "tactic": "<id>"}``.
"""

from __future__ import annotations

import functools
import random
from dataclasses import dataclass, field
from typing import Any

import yaml

from bot import text as texts
from bot.conversation import Reply, Turn, payload
from bot.normalise import normalise
from bot.paths import DATA_DIR
from bot.tactics import TACTICS

QUIZ_FILE = DATA_DIR / "quiz" / "spot_the_trick.yml"
# Longest typed answer read (a chat message is cut before it gets here anyway).
MAX_TEXT = 500
STATE_VERSION = 1
MIN_ITEMS_PER_TACTIC = 3


class QuizError(ValueError):
    """The quiz data or its texts are wrong."""


@dataclass(frozen=True)
class BandRules:
    """What a quiz looks like for one age band."""

    options_per_round: int
    leave_out: frozenset[str]  # item ids not shown to this band


@dataclass(frozen=True)
class QuizData:
    rounds: int
    tactics_per_quiz: int
    options_per_round: int
    points_per_right: int
    badge_after: int
    items: dict[str, tuple[str, ...]]  # tactic -> item ids
    answer_words: dict[str, tuple[str, ...]]  # tactic -> normalised words/phrases
    also: dict[str, tuple[str, ...]] = field(default_factory=dict)  # item -> other tricks shown
    bands: dict[str, BandRules] = field(default_factory=dict)

    def tactic_of(self, item_id: str) -> str | None:
        """The message's main trick (the one its buttons are built around)."""
        for tactic, ids in self.items.items():
            if item_id in ids:
                return tactic
        return None

    def tactics_of(self, item_id: str) -> tuple[str, ...]:
        """Every trick the message shows, the main one first."""
        main = self.tactic_of(item_id)
        if main is None:
            return ()
        return (main, *self.also.get(item_id, ()))

    def rules(self, band: object) -> BandRules:
        """The band's rules (no band: every message, the default number of buttons)."""
        found = self.bands.get(band) if isinstance(band, str) else None
        return found or BandRules(self.options_per_round, frozenset())


def parse_quiz(raw: Any, where: str = "spot_the_trick.yml") -> QuizData:
    """Build and check the quiz data (every tactic, enough items, texts in both languages)."""
    if not isinstance(raw, dict):
        raise QuizError(f"{where}: expected a mapping")
    errors: list[str] = []
    items = raw.get("items") or {}
    for tactic in TACTICS:
        ids = items.get(tactic) or []
        if len(ids) < MIN_ITEMS_PER_TACTIC:
            errors.append(f"{where}: tactic '{tactic}' needs {MIN_ITEMS_PER_TACTIC}+ items")
        for item_id in ids:
            for lang in texts.LANGUAGES:
                if not texts.has(f"quiz.messages.{item_id}", lang):
                    errors.append(f"{where}: item '{item_id}' has no text in '{lang}'")
    unknown = sorted(set(items) - set(TACTICS))
    if unknown:
        errors.append(f"{where}: unknown tactics {unknown}")
    all_ids = [i for ids in items.values() for i in ids]
    if len(set(all_ids)) != len(all_ids):
        errors.append(f"{where}: an item id is used twice")
    answer_words: dict[str, tuple[str, ...]] = {}
    for tactic in TACTICS:
        by_lang = (raw.get("answer_words") or {}).get(tactic) or {}
        found = [normalise(str(w)) for lang in texts.LANGUAGES for w in by_lang.get(lang) or []]
        if not found:
            errors.append(f"{where}: tactic '{tactic}' has no answer_words")
        answer_words[tactic] = tuple(found)
    numbers = {}
    for name in (
        "rounds",
        "tactics_per_quiz",
        "options_per_round",
        "points_per_right",
        "badge_after",
    ):
        value = raw.get(name)
        if not isinstance(value, int) or value < 1:
            errors.append(f"{where}: '{name}' must be a positive whole number")
            value = 1
        numbers[name] = value
    if not 2 <= numbers["options_per_round"] <= 4:
        errors.append(f"{where}: options_per_round must be 2 to 4")
    if numbers["rounds"] % numbers["tactics_per_quiz"]:
        errors.append(f"{where}: rounds must be a multiple of tactics_per_quiz")
    per_tactic = numbers["rounds"] // numbers["tactics_per_quiz"]
    if any(len(ids) < per_tactic for ids in items.values()):
        errors.append(f"{where}: each tactic needs at least {per_tactic} items")
    also = _parse_also(raw.get("also"), items, where, errors)
    bands = _parse_bands(raw.get("bands"), items, per_tactic, where, errors)
    if errors:
        raise QuizError("\n".join(errors))
    return QuizData(
        items={t: tuple(items[t]) for t in TACTICS},
        answer_words=answer_words,
        also=also,
        bands=bands,
        **numbers,
    )


def _parse_also(
    raw: Any, items: dict[str, list[str]], where: str, errors: list[str]
) -> dict[str, tuple[str, ...]]:
    """``also: {item: [other tricks it shows]}`` (optional)."""
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        errors.append(f"{where}: 'also' maps item ids to lists of tactics")
        return {}
    main = {i: t for t, ids in items.items() for i in ids}
    also: dict[str, tuple[str, ...]] = {}
    for item_id, tactics in raw.items():
        if item_id not in main:
            errors.append(f"{where}: also: unknown item '{item_id}'")
            continue
        if not isinstance(tactics, list) or not all(t in TACTICS for t in tactics):
            errors.append(f"{where}: also: '{item_id}' needs a list of tactic ids")
            continue
        if main[item_id] in tactics or len(set(tactics)) != len(tactics):
            errors.append(f"{where}: also: '{item_id}' repeats a trick")
            continue
        also[item_id] = tuple(tactics)
    return also


def _parse_bands(
    raw: Any, items: dict[str, list[str]], per_tactic: int, where: str, errors: list[str]
) -> dict[str, BandRules]:
    """``bands: {"8-10": {options_per_round, leave_out}}`` (optional)."""
    from bot.session import AGE_BANDS

    if raw is None:
        return {}
    if not isinstance(raw, dict) or not set(raw) <= set(AGE_BANDS):
        errors.append(f"{where}: 'bands' maps {', '.join(AGE_BANDS)} to their rules")
        return {}
    known = {i for ids in items.values() for i in ids}
    bands: dict[str, BandRules] = {}
    for band, body in raw.items():
        body = body if isinstance(body, dict) else {}
        options = body.get("options_per_round")
        if not isinstance(options, int) or not 2 <= options <= 4:
            errors.append(f"{where}: bands.{band}.options_per_round must be 2 to 4")
            options = 3
        leave_out = body.get("leave_out") or []
        if not isinstance(leave_out, list) or not set(leave_out) <= known:
            errors.append(f"{where}: bands.{band}.leave_out must list known item ids")
            leave_out = []
        for tactic, ids in items.items():
            if len([i for i in ids if i not in leave_out]) < per_tactic:
                errors.append(f"{where}: bands.{band} leaves '{tactic}' too few items")
        bands[band] = BandRules(options, frozenset(leave_out))
    return bands


@functools.lru_cache(maxsize=1)
def quiz_data() -> QuizData:
    """The quiz data, read and checked on first use."""
    raw = yaml.safe_load(QUIZ_FILE.read_text(encoding="utf-8"))
    return parse_quiz(raw)


# --- state --------------------------------------------------------------------


def _mastery(raw: Any) -> dict[str, int]:
    if not isinstance(raw, dict):
        return {}
    return {t: n for t, n in raw.items() if t in TACTICS and isinstance(n, int) and n >= 0}


def _badges(turn: Turn) -> list[str]:
    raw = turn.slot("badges")
    return [b for b in raw if isinstance(b, str)] if isinstance(raw, list) else []


def current(turn: Turn) -> dict[str, Any] | None:
    """A copy of the running quiz's state, or ``None``."""
    raw = turn.slot("quiz")
    if not isinstance(raw, dict):
        return None
    data = quiz_data()
    items = raw.get("items")
    round_ = raw.get("round")
    options = raw.get("options")
    if (
        not isinstance(items, list)
        or not items
        or not all(isinstance(i, str) and data.tactic_of(i) for i in items)
        or not isinstance(round_, int)
        or not 0 <= round_ < len(items)
        or not isinstance(options, list)
        or not all(o in TACTICS for o in options)
        or data.tactic_of(items[round_]) not in options
    ):
        return None
    return {
        "v": STATE_VERSION,
        "items": list(items),
        "round": round_,
        "options": list(options),
        "right": raw.get("right") if isinstance(raw.get("right"), int) else 0,
        "points": raw.get("points") if isinstance(raw.get("points"), int) else 0,
        "mastery": _mastery(raw.get("mastery")),
    }


def _options(data: QuizData, item_id: str, count: int, rng: random.Random) -> list[str]:
    """The message's main trick and ``count - 1`` tricks it does not show, shuffled
    (so exactly one button is right; a typed name of another trick it shows is right too)."""
    shown = data.tactics_of(item_id)
    others = [t for t in TACTICS if t not in shown]
    options = [shown[0], *rng.sample(others, min(count - 1, len(others)))]
    rng.shuffle(options)
    return options


def new_state(turn: Turn, rng: random.Random | None = None) -> dict[str, Any]:
    """A new quiz: tricks without a badge first, each ``rounds/tactics_per_quiz`` times."""
    rng = rng or random.Random()  # noqa: S311 (not security: which questions to ask)
    data = quiz_data()
    badges = set(_badges(turn))
    previous = turn.slot("quiz")
    mastery = _mastery(previous.get("mastery")) if isinstance(previous, dict) else {}
    rules = data.rules(turn.slot("age_band"))
    to_learn = [t for t in TACTICS if f"badge_{t}" not in badges]
    pool = to_learn if len(to_learn) >= data.tactics_per_quiz else list(TACTICS)
    chosen = rng.sample(pool, data.tactics_per_quiz)
    per_tactic = data.rounds // data.tactics_per_quiz
    items = [
        i
        for t in chosen
        for i in rng.sample([x for x in data.items[t] if x not in rules.leave_out], per_tactic)
    ]
    rng.shuffle(items)
    return {
        "v": STATE_VERSION,
        "items": items,
        "round": 0,
        "options": _options(data, items[0], rules.options_per_round, rng),
        "right": 0,
        "points": 0,
        "mastery": mastery,
    }


# --- showing ------------------------------------------------------------------


def _t(reply: Reply, key: str, **params: Any) -> str:
    return texts.t(key, reply.lang, **params)


def _name(reply: Reply, tactic: str) -> str:
    return _t(reply, f"tactics.{tactic}.name")


def _render_round(reply: Reply, state: dict[str, Any]) -> Reply:
    number = state["round"] + 1
    item = state["items"][state["round"]]
    text = _t(
        reply,
        "quiz.round",
        n=number,
        total=len(state["items"]),
        message=_t(reply, f"quiz.messages.{item}"),
    )
    buttons = [
        {
            "title": _name(reply, tactic),
            "payload": payload("quiz_answer", round=number, tactic=tactic),
        }
        for tactic in state["options"]
    ]
    return reply.say_text(text, buttons)


def _not_running(turn: Turn) -> Reply:
    reply = Reply(turn.lang)
    reply.say(
        "quiz.not_running",
        buttons=[
            reply.button("quiz.buttons.start", payload("start_quiz")),
            reply.button("quiz.buttons.menu", payload("start")),
        ],
    )
    if turn.mode == "quiz":
        reply.set(mode="menu")
    return reply


# --- public handlers ----------------------------------------------------------


def start_quiz(turn: Turn) -> Reply:
    """``/start_quiz``: a new quiz (or, in the middle of one, its current message)."""
    running = current(turn)
    if running is not None and turn.mode == "quiz":
        return show_current(turn)
    state = new_state(turn)
    reply = Reply(turn.lang).say("quiz.intro", total=len(state["items"]))
    _render_round(reply, state)
    return reply.set(quiz=state, mode="quiz")


def show_current(turn: Turn) -> Reply:
    """Show the current message again (after an interruption)."""
    state = current(turn)
    if state is None:
        return _not_running(turn)
    reply = Reply(turn.lang).say("quiz.back")
    _render_round(reply, state)
    return reply.set(quiz=state, mode="quiz")


def _as_int(value: object) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return None


def answer(turn: Turn, entities: dict[str, Any] | None) -> Reply:
    """A button press: ``/quiz_answer{"round": n, "tactic": id}``."""
    entities = entities if isinstance(entities, dict) else {}
    state = current(turn)
    if state is None:
        return _not_running(turn)
    number = _as_int(entities.get("round"))
    tactic = entities.get("tactic")
    if number != state["round"] + 1 or tactic not in state["options"]:
        reply = Reply(turn.lang).say("quiz.stale")
        _render_round(reply, state)
        return reply.set(quiz=state, mode="quiz")
    return _judge(turn, state, str(tactic))


def handle_text(turn: Turn) -> Reply:
    """A typed answer ("the gift one", "2", "les belle parole", "not the secret one")."""
    state = current(turn)
    if state is None:
        return _not_running(turn)
    reading = read_answer(turn.text if isinstance(turn.text, str) else "", state["options"])
    if reading.tactic is not None:
        return _judge(turn, state, reading.tactic)
    reply = Reply(turn.lang)
    if reading.ask:
        return _ask_which(reply, state, reading)
    reply.say("quiz.not_understood")
    _render_round(reply, state)
    return reply.set(quiz=state, mode="quiz")


@dataclass(frozen=True)
class AnswerReading:
    tactic: str | None  # the trick the answer names
    ask: bool = False  # unclear (two tricks named, or only "not the …"): ask which one
    candidates: tuple[str, ...] = ()  # the tricks named, when asking
    excluded: tuple[str, ...] = ()  # the tricks the answer says it is not


def read_answer(text: str, options: list[str]) -> AnswerReading:
    """Which trick a typed answer names: a button's place, or a trick's name (any
    trick, not only those on the buttons: a message can show several)."""
    from bot import tactic_names

    reading = tactic_names.read(text[:MAX_TEXT], quiz_data().answer_words)
    if reading.position is not None and 1 <= reading.position <= len(options):
        return AnswerReading(options[reading.position - 1])
    if len(reading.named) == 1:
        return AnswerReading(reading.named[0])
    if reading.unsure:
        return AnswerReading(None, True, reading.named, reading.negated)
    return AnswerReading(None)


def is_right(item_id: str, tactic: str) -> bool:
    """Is ``tactic`` one of the tricks this message shows?"""
    return tactic in quiz_data().tactics_of(item_id)


def _ask_which(reply: Reply, state: dict[str, Any], reading: AnswerReading) -> Reply:
    """Not sure which trick was meant: say so and offer the buttons that fit."""
    number = state["round"] + 1
    offered = [t for t in state["options"] if t in reading.candidates]
    if len(offered) < 2:
        offered = [t for t in state["options"] if t not in reading.excluded] or state["options"]
    if reading.excluded and not reading.candidates:
        names = ", ".join(_name(reply, t) for t in reading.excluded)
        text = _t(reply, "quiz.which_not", names=names)
    else:
        text = _t(reply, "quiz.which")
    buttons = [
        {"title": _name(reply, t), "payload": payload("quiz_answer", round=number, tactic=t)}
        for t in offered
    ]
    reply.say_text(text, buttons)
    return reply.set(quiz=state, mode="quiz")


def _judge(turn: Turn, state: dict[str, Any], chosen: str) -> Reply:
    data = quiz_data()
    reply = Reply(turn.lang)
    item = state["items"][state["round"]]
    shown = data.tactics_of(item)
    correct = chosen in shown
    named = chosen if correct else shown[0]
    badges = _badges(turn)
    reply.record("quiz_answer", tactic=named, correct=correct)
    short = _t(reply, f"tactics.{named}.short")
    key = "quiz.right" if correct else "quiz.wrong"
    text = _t(reply, key, name=_name(reply, named), short=short)
    others = [t for t in shown if t != named]
    if others:
        also = "; ".join(
            _t(reply, "quiz.also_item", name=_name(reply, t), short=_t(reply, f"tactics.{t}.short"))
            for t in others
        )
        text = f"{text}\n{_t(reply, 'quiz.also', tricks=also)}"
    reply.say_text(text)
    if correct:
        state["right"] += 1
        state["points"] += data.points_per_right
        state["mastery"][chosen] = state["mastery"].get(chosen, 0) + 1
        badge = f"badge_{chosen}"
        if state["mastery"][chosen] >= data.badge_after and badge not in badges:
            badges = [*badges, badge]
            reply.say("quiz.badge", name=_name(reply, chosen))
            reply.set(badges=badges)
            reply.record("badge", badge_id=badge)
    state["round"] += 1
    if state["round"] < len(state["items"]):
        count = data.rules(turn.slot("age_band")).options_per_round
        next_item = state["items"][state["round"]]
        state["options"] = _options(data, next_item, count, random.Random())  # noqa: S311
        _render_round(reply, state)
        return reply.set(quiz=state, mode="quiz")
    return _finish(reply, state, badges)


def _finish(reply: Reply, state: dict[str, Any], badges: list[str]) -> Reply:
    reply.say("quiz.end", right=state["right"], total=len(state["items"]), points=state["points"])
    owned = [b.removeprefix("badge_") for b in badges if b.removeprefix("badge_") in TACTICS]
    reply.custom(
        "quiz_end",
        right=state["right"],
        total=len(state["items"]),
        points=state["points"],
        badges=[f"badge_{t}" for t in owned],
    )
    if owned:
        reply.say("quiz.badges", names=", ".join(_name(reply, t) for t in owned))
    else:
        reply.say("quiz.no_badges")
    reply.say("quiz.door_open")
    reply.say(
        "quiz.next",
        buttons=[
            reply.button("quiz.buttons.again", payload("start_quiz")),
            reply.button("quiz.buttons.stories", payload("list_stories")),
            reply.button("quiz.buttons.menu", payload("start")),
        ],
    )
    return reply.set(quiz={"v": STATE_VERSION, "mastery": state["mastery"]}, mode="menu")
