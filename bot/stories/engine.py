"""Playing a role-play story: the handlers the Rasa actions call.

State lives in slots (written only through ``Reply.set``):

- ``story``: ``None`` or the running story, a JSON-able dict::

      {"v": 1, "id": "follower_bribe", "step": "photo", "tries": 0,
       "history": [{"step": "offer", "choice": "no_thanks", "safe": true},
                   {"step": "practice", "reply": "refuse", "safe": true}],
       "spotted": ["bribe"], "missed": ["app_switch"]}

  ``history`` holds what was chosen (choice ids and, on rehearsal steps, the
  kind of reply: never the words typed); ``tries`` counts replies not
  understood on the current step; ``hinted`` (optional) is true on a
  rehearsal step after a risky reply got its hint and a second try.
- ``mode``: ``"story"`` while a story runs, ``"menu"`` after it.
- read only: ``coplay`` (bool), ``age_band``, ``country``.

Every text comes from ``locales/`` (story texts under ``stories.<id>.*``,
engine texts under ``story_ui.*``).
"""

from __future__ import annotations

from typing import Any

from bot import class_space, helplines
from bot import text as texts
from bot.conversation import Reply, Turn, payload
from bot.stories import understand
from bot.stories.model import (
    AGE_BANDS,
    SHOW_EXAMPLE,
    Step,
    Story,
    get_story,
    spot_phrases,
    stories,
)
from bot.tactics import TACTICS

STATE_VERSION = 1
SAFE_REPLIES = ("refuse", "set_boundary", "name_trick", "tell_adult", "block_report", "ignore")
# What made a practice reply risky, by the risky strategy that was read.
RISKY_PARTS = ("share_info", "agree", "keep_secret", "go_along")


# --- state ------------------------------------------------------------------


def new_state(story: Story) -> dict[str, Any]:
    return {
        "v": STATE_VERSION,
        "id": story.id,
        "step": story.start,
        "tries": 0,
        "history": [],
        "spotted": [],
        "missed": [],
    }


def _copy_state(raw: dict[str, Any]) -> dict[str, Any]:
    history = raw.get("history")
    extra = {"hinted": True} if raw.get("hinted") is True else {}
    return {
        **extra,
        "v": STATE_VERSION,
        "id": raw["id"],
        "step": raw["step"],
        "tries": raw.get("tries") if isinstance(raw.get("tries"), int) else 0,
        "history": [dict(h) for h in history if isinstance(h, dict)]
        if isinstance(history, list)
        else [],
        "spotted": [t for t in raw.get("spotted") or [] if isinstance(t, str)],
        "missed": [t for t in raw.get("missed") or [] if isinstance(t, str)],
    }


def current(turn: Turn) -> tuple[Story, Step, dict[str, Any]] | None:
    """The running story, its step and a copy of its state; ``None`` if none (or garbage)."""
    raw = turn.slot("story")
    if not isinstance(raw, dict):
        return None
    story = get_story(raw.get("id"))
    if story is None:
        return None
    step = story.step(raw.get("step"))
    if step is None or step.kind == "end":
        return None
    return story, step, _copy_state(raw)


def score(state: dict[str, Any]) -> int:
    """Percent of safe decisions (choices and rehearsal replies), 100 when none."""
    rated = [h["safe"] for h in state.get("history", []) if isinstance(h.get("safe"), bool)]
    if not rated:
        return 100
    return round(100 * sum(rated) / len(rated))


def _coplay(turn: Turn) -> bool:
    return turn.slot("coplay") in (True, "true", "True", 1)


# --- small text helpers -------------------------------------------------------


def _t(reply: Reply, key: str, **params: Any) -> str:
    return texts.t(key, reply.lang, **params)


def _character(reply: Reply, story: Story) -> str:
    return _t(reply, story.key("character"))


def _trick_name(reply: Reply, tactic: str) -> str:
    return _t(reply, f"tactics.{tactic}.name")


def _button(reply: Reply, key: str, intent: str, **entities: Any) -> dict[str, str]:
    return reply.button(key, payload(intent, **entities))


def _choice_buttons(reply: Reply, story: Story, step: Step) -> list[dict[str, str]]:
    return [
        {
            "title": _t(reply, story.key("steps", step.id, "choices", c.id, "label")),
            "payload": payload("story_choice", story_id=story.id, step=step.id, choice=c.id),
        }
        for c in step.choices
    ]


def _example_button(reply: Reply, story: Story, step: Step) -> list[dict[str, str]]:
    return [
        {
            "title": _t(reply, "story_ui.rehearsal.show_example"),
            "payload": payload(
                "story_choice", story_id=story.id, step=step.id, choice=SHOW_EXAMPLE
            ),
        }
    ]


def _question(reply: Reply, story: Story, step: Step) -> str:
    own = story.key("steps", step.id, "question")
    if texts.has(own, reply.lang):
        return _t(reply, own)
    return _t(reply, "story_ui.question", name=_character(reply, story))


def _step_buttons(reply: Reply, story: Story, step: Step) -> list[dict[str, str]]:
    if step.kind == "rehearsal":
        return _example_button(reply, story, step)
    return _choice_buttons(reply, story, step)


def _ask_again(reply: Reply, story: Story, step: Step, key: str) -> Reply:
    """A short re-ask with the step's buttons (after text not understood)."""
    name = _character(reply, story)
    return reply.say_text(_t(reply, key, name=name), _step_buttons(reply, story, step))


# --- showing a step -----------------------------------------------------------


def segments(text: str, spots: dict[str, list[str]]) -> list[dict[str, str | None]]:
    """``text`` cut into pieces, each either plain (``tactic`` null) or words that
    are a trick: the first place each phrase appears, never overlapping."""
    found: list[tuple[int, int, str]] = []
    for tactic, phrases in spots.items():
        for phrase in phrases:
            start = text.find(phrase)
            if start < 0:
                continue
            end = start + len(phrase)
            if all(end <= a or start >= b for a, b, _ in found):
                found.append((start, end, tactic))
    pieces: list[dict[str, str | None]] = []
    at = 0
    for start, end, tactic in sorted(found):
        if start > at:
            pieces.append({"text": text[at:start], "tactic": None})
        pieces.append({"text": text[start:end], "tactic": tactic})
        at = end
    if at < len(text):
        pieces.append({"text": text[at:], "tactic": None})
    return pieces


def _message(reply: Reply, story: Story, step: Step) -> None:
    """The manipulator's message as it looks on screen (``story_message``), when
    the step has one in its texts."""
    key = story.key("steps", step.id, "message")
    if not texts.has(key, reply.lang):
        return
    text = _t(reply, key)
    sender = next(
        (
            _t(reply, k)
            for k in (story.key("steps", step.id, "sender"), story.key("sender"))
            if texts.has(k, reply.lang)
        ),
        _t(reply, "story_ui.chat.someone"),
    )
    app = step.app or story.chat.app
    # the step's own app name, else the story's (only for a step in the story's
    # app), else the name of the app's kind
    names = [story.key("steps", step.id, "app_name")]
    if app == story.chat.app:
        names.append(story.key("app_name"))
    app_name = next(
        (_t(reply, k) for k in names if texts.has(k, reply.lang)),
        _t(reply, f"story_ui.chat.{app}"),
    )
    spots = {
        tactic: spot_phrases(_t(reply, k))
        for tactic in TACTICS
        if texts.has(k := story.key("steps", step.id, "spot", tactic), reply.lang)
    }
    reply.custom(
        "story_message",
        story_id=story.id,
        step=step.id,
        app=app,
        app_name=app_name,
        sender=sender,
        avatar=step.avatar or story.chat.avatar,
        time=story.time_of(step),
        text=text,
        segments=segments(text, spots),
    )


def _picture(reply: Reply, story: Story) -> None:
    """The story's illustration (``story_picture``) with its alt text."""
    own = story.key("picture")
    if texts.has(own, reply.lang):
        alt, picture = _t(reply, own), story.id
    else:
        alt, picture = _t(reply, "story_ui.picture_default"), "default"
    reply.custom("story_picture", story_id=story.id, picture=picture, alt=alt)


def render_step(reply: Reply, story: Story, step: Step, coplay: bool) -> Reply:
    """The step's text, its message as on screen, the co-play question (if on), the buttons."""
    reply.say_text(_t(reply, story.key("steps", step.id, "text")))
    _message(reply, story, step)
    if coplay:
        question = _t(reply, story.key("steps", step.id, "coplay"))
        reply.say_text(_t(reply, "story_ui.coplay.question", question=question))
    if step.kind == "rehearsal":
        reply.say_text(_t(reply, "story_ui.rehearsal.prompt"), _example_button(reply, story, step))
    elif step.kind == "choice":
        reply.say_text(_question(reply, story, step), _choice_buttons(reply, story, step))
    return reply


def _go_to(reply: Reply, turn: Turn, story: Story, state: dict[str, Any], next_id: str) -> Reply:
    step = story.steps[next_id]
    if step.kind == "end":
        return _finish(reply, turn, story, state, step)
    state["step"] = step.id
    state["tries"] = 0
    state.pop("hinted", None)
    render_step(reply, story, step, _coplay(turn))
    return reply.set(story=state, mode="story")


def _mark(state: dict[str, Any], tactic: str | None, safe: bool) -> None:
    if not tactic:
        return
    if safe:
        if tactic in state["missed"]:
            state["missed"].remove(tactic)
        if tactic not in state["spotted"]:
            state["spotted"].append(tactic)
    elif tactic not in state["spotted"] and tactic not in state["missed"]:
        state["missed"].append(tactic)


def _trick_line(reply: Reply, tactic: str, safe: bool) -> str:
    key = "story_ui.trick.spotted" if safe else "story_ui.trick.hidden"
    short = _t(reply, f"tactics.{tactic}.short")
    return _t(reply, key, name=_trick_name(reply, tactic), short=short)


def _apply_choice(
    turn: Turn, story: Story, step: Step, state: dict[str, Any], choice_id: str
) -> Reply:
    reply = Reply(turn.lang)
    choice = step.choice(choice_id)
    assert choice is not None
    feedback = _t(reply, story.key("steps", step.id, "choices", choice.id, "feedback"))
    if step.tactic:
        feedback = f"{feedback}\n\n{_trick_line(reply, step.tactic, choice.safe)}"
    reply.say_text(feedback)
    state["history"].append({"step": step.id, "choice": choice.id, "safe": choice.safe})
    _mark(state, step.tactic, choice.safe)
    return _go_to(reply, turn, story, state, choice.next)


# --- the end and its recap ----------------------------------------------------


def _marks(story: Story, state: dict[str, Any]) -> list[dict[str, Any]]:
    """Safe/risky marks per decision with the trick of its step (kept as progress)."""
    marks: list[dict[str, Any]] = []
    for entry in state.get("history", []):
        if not isinstance(entry.get("safe"), bool):
            continue
        step = story.steps.get(str(entry.get("step")))
        marks.append(
            {
                "step": len(marks),  # the decision's position in the story
                "step_id": step.id if step is not None else None,
                "mark": "safe" if entry["safe"] else "risky",
                "tactic": step.tactic if step is not None else None,
            }
        )
    return marks


def _finish(reply: Reply, turn: Turn, story: Story, state: dict[str, Any], end: Step) -> Reply:
    reply.say_text(_t(reply, story.key("steps", end.id, "text")))
    if _coplay(turn):
        question = _t(reply, story.key("steps", end.id, "coplay"))
        reply.say_text(_t(reply, "story_ui.coplay.question", question=question))
    met = met_tactics(story, state)
    what_works = story.key("what_works")  # said on every path (the recap: see below)
    lines = [_t(reply, "story_ui.recap.title")]
    if len(met) == len(story.tactics):
        lines.append(_t(reply, story.key("recap")))  # the story's own recap names them all
    reply.say_text("\n\n".join(lines))
    if met:
        key = "story_ui.recap.tricks" if len(met) == len(story.tactics) else "story_ui.recap.path"
        tricks = [_t(reply, key, name=_character(reply, story))]
        for tactic in met:
            tricks.append(
                _t(
                    reply,
                    "story_ui.recap.trick_line",
                    name=_trick_name(reply, tactic),
                    todo=_t(reply, f"tactics.{tactic}.todo"),
                )
            )
        if texts.has(what_works, reply.lang):
            tricks.append("\n" + _t(reply, what_works))
        if len(met) < len(story.tactics):
            tricks.append("\n" + _t(reply, "story_ui.recap.more"))
        reply.say_text("\n".join(tricks))
    elif texts.has(what_works, reply.lang):
        reply.say_text(_t(reply, what_works))
    reply.say_text(_progress(reply, story, state))
    country = _country(turn)
    tell = [_t(reply, story.key("who_to_tell"))]
    if country is not None:
        tell.append(_helpline_line(reply, country))
    else:
        tell.append(_t(reply, "story_ui.recap.no_country"))
    reply.say_text("\n\n".join(tell))
    reply.say("story_ui.recap.door_open" if story.tactics else "story_ui.recap.door_open_no_trick")
    reply.custom("story_end", story_id=story.id, score=score(state))
    reply.record("story_end", story_id=story.id, score=score(state), marks=_marks(story, state))
    buttons = [
        _button(reply, "story_ui.buttons.list", "list_stories"),
        _button(reply, "story_ui.buttons.quiz", "start_quiz"),
        _button(reply, "story_ui.buttons.menu", "start"),
    ]
    if country is None:
        buttons.insert(0, _button(reply, "story_ui.buttons.help", "help"))
    reply.say("story_ui.recap.next", buttons=buttons)
    return reply.set(story=None, mode="menu")


def met_tactics(story: Story, state: dict[str, Any]) -> list[str]:
    """The story's tricks shown on the steps this path went through (story order)."""
    visited = {str(h.get("step")) for h in state.get("history", [])}
    shown = {story.steps[s].tactic for s in visited if s in story.steps}
    return [t for t in story.tactics if t in shown]


def _progress(reply: Reply, story: Story, state: dict[str, Any]) -> str:
    rated = [h["safe"] for h in state["history"] if isinstance(h.get("safe"), bool)]
    safe, total = sum(rated), len(rated)
    if total and safe == total:
        line = _t(reply, "story_ui.recap.all_safe")
    elif safe:
        line = _t(reply, "story_ui.recap.some_safe", safe=safe, total=total)
    else:
        line = _t(reply, "story_ui.recap.none_safe")
    spotted = [t for t in story.tactics if t in state["spotted"]]
    if spotted:
        names = ", ".join(_trick_name(reply, t) for t in spotted)
        line = f"{line}\n{_t(reply, 'story_ui.recap.spotted', names=names)}"
    return line


def _helpline_line(reply: Reply, country: str) -> str:
    line = helplines.main_helpline(country)
    contact = line.phone or line.sms or line.url or ""
    return _t(
        reply,
        "story_ui.recap.helpline",
        name=_t(reply, f"helplines.{line.id}.name"),
        contact=contact,
    )


# --- rehearsal ----------------------------------------------------------------


def _rehearsal_example(
    turn: Turn, story: Story, step: Step, state: dict[str, Any], *, unsure: bool = False
) -> Reply:
    reply = Reply(turn.lang)
    example = _t(reply, story.key("steps", step.id, "example"))
    text = _t(reply, "story_ui.rehearsal.example", example=example)
    if unsure:
        text = f"{_t(reply, 'story_ui.rehearsal.unsure')}\n{text}"
    reply.say_text(text)
    state["history"].append({"step": step.id, "reply": None, "safe": None})
    return _go_to(reply, turn, story, state, str(step.next))


def _rehearse(turn: Turn, story: Story, step: Step, state: dict[str, Any]) -> Reply:
    """Judge a practice reply. A risky one gets what was risky in it, one hint
    and a second try; a safe one why it works; the four protective replies are
    named. Only the kind of reply is kept, never the words."""
    reading = understand.read_rehearsal(turn.text)
    second_try = state.get("hinted") is True
    if reading.category is None:
        if reading.unsure or state["tries"] >= 1 or second_try:
            return _rehearsal_example(turn, story, step, state, unsure=True)
        reply = Reply(turn.lang)
        state["tries"] += 1
        _ask_again(reply, story, step, "story_ui.rehearsal.retry")
        return reply.set(story=state, mode="story")
    if reading.category == "risky" and not second_try:
        return _coach(turn, story, step, state, reading)
    reply = Reply(turn.lang)
    name = _character(reply, story)
    category = reading.category
    safe = category in SAFE_REPLIES
    parts = []
    if safe:
        if second_try:
            parts.append(_t(reply, "story_ui.rehearsal.better"))
        parts.append(_t(reply, f"story_ui.rehearsal.feedback.{category}", name=name))
        parts.append(_t(reply, f"story_ui.rehearsal.why.{category}"))
        parts.append(_t(reply, "story_ui.rehearsal.four"))
    else:
        parts.append(_t(reply, "story_ui.rehearsal.still_risky"))
        parts.append(_risky_part(reply, reading))
    example = _t(reply, story.key("steps", step.id, "example"))
    key = "story_ui.rehearsal.stronger" if safe else "story_ui.rehearsal.example"
    parts.append(_t(reply, key, example=example))
    reply.say_text("\n\n".join(parts))
    entry: dict[str, Any] = {"step": step.id, "reply": category, "safe": safe}
    if second_try:
        entry["second_try"] = True
    state["history"].append(entry)
    _mark(state, step.tactic, safe)
    return _go_to(reply, turn, story, state, str(step.next))


def _risky_part(reply: Reply, reading: understand.RehearsalReading) -> str:
    """What was risky in a reply, from the risky strategy read in it."""
    risky = [s for s in reading.strategies if s in RISKY_PARTS]
    part = risky[0] if risky else "other"
    return _t(reply, f"story_ui.rehearsal.risky_part.{part}")


def _hint(reply: Reply, story: Story, step: Step) -> str:
    """The step's own hint if it has one, else its trick's, else a general one."""
    own = story.key("steps", step.id, "hint")
    if texts.has(own, reply.lang):
        return _t(reply, "story_ui.rehearsal.hint.own", hint=_t(reply, own))
    return _t(reply, f"story_ui.rehearsal.hint.{step.tactic or 'default'}")


def _coach(
    turn: Turn,
    story: Story,
    step: Step,
    state: dict[str, Any],
    reading: understand.RehearsalReading,
) -> Reply:
    """A first risky reply: kind words, what was risky, one hint, a second try."""
    reply = Reply(turn.lang)
    name = _character(reply, story)
    if step.tactic:
        trick = _trick_name(reply, step.tactic)
        feedback = _t(reply, "story_ui.rehearsal.feedback.risky_trick", name=name, trick=trick)
    else:
        feedback = _t(reply, "story_ui.rehearsal.feedback.risky", name=name)
    parts = [feedback, _risky_part(reply, reading), _hint(reply, story, step)]
    reply.say_text("\n\n".join(parts))
    reply.say_text(
        _t(reply, "story_ui.rehearsal.try_again", name=name), _example_button(reply, story, step)
    )
    state["hinted"] = True
    state["tries"] = 0
    return reply.set(story=state, mode="story")


# --- public handlers ----------------------------------------------------------


def _band(value: object) -> str | None:
    return value if isinstance(value, str) and value in AGE_BANDS else None


def _sorted_stories(turn: Turn) -> list[Story]:
    """Every story (8-10 first); in a class session, the teacher's selection
    only, in the teacher's order (``bot.class_space``)."""
    space = class_space.of_turn(turn)
    if space is not None:
        known = stories()
        chosen = [known[s] for s in space.story_ids if s in known]
        if space.age_band in AGE_BANDS:
            chosen = [s for s in chosen if s.age_band == space.age_band] or chosen
        if chosen:
            return chosen
    return sorted(stories().values(), key=lambda s: (AGE_BANDS.index(s.age_band), s.id))


def _country(turn: Turn) -> str | None:
    """The child's country, else their class session's (set by the teacher)."""
    country = helplines.known_country(turn.slot("country"))
    if country is None:
        space = class_space.of_turn(turn)
        country = helplines.known_country(space.country) if space else None
    return country


def list_stories(turn: Turn, band: object = None) -> Reply:
    """``/list_stories``: the ``story_list`` payload and one button per story.

    In a class session, the teacher's selection. Otherwise, with an age band
    (``band``, from a ``/list_stories{"age_band": ...}`` button, else the
    ``age_band`` slot) only that band's stories are listed, with a button to
    the other band's; without one, every story (8-10 first).
    """
    reply = Reply(turn.lang)
    in_class = class_space.of_turn(turn) is not None
    chosen = None if in_class else _band(band) or _band(turn.slot("age_band"))
    found = _sorted_stories(turn)
    if chosen:
        found = [s for s in found if s.age_band == chosen]
    reply.custom(
        "story_list",
        stories=[
            {"id": s.id, "title": _t(reply, s.key("title")), "tactics": list(s.tactics)}
            for s in found
        ],
    )
    buttons = []
    for story in found:
        ages = _t(reply, "story_ui.list.ages", band=story.age_band)
        title = _t(reply, "story_ui.list.button", title=_t(reply, story.key("title")), ages=ages)
        buttons.append({"title": title, "payload": payload("start_story", story_id=story.id)})
    if chosen:
        for other in (b for b in AGE_BANDS if b != chosen):
            link = payload("list_stories", age_band=other)
            buttons.append(reply.button("story_ui.list.other_band", link, band=other))
    if _coplay(turn):
        buttons.append(_button(reply, "story_ui.coplay.button_off", "coplay", on=False))
    else:
        buttons.append(_button(reply, "story_ui.coplay.button_on", "coplay", on=True))
    key = "story_ui.list.title_band" if chosen else "story_ui.list.title"
    return reply.say(key, buttons=buttons, band=chosen or "")


def start_story(turn: Turn, story_id: object) -> Reply:
    """``/start_story{"story_id": ...}``; an unknown id changes nothing."""
    story = get_story(story_id)
    reply = Reply(turn.lang)
    if story is None:
        return reply.say(
            "story_ui.unknown_story",
            buttons=[_button(reply, "story_ui.buttons.stories", "list_stories")],
        )
    if story not in _sorted_stories(turn):  # in a class: a story the teacher did not choose
        return Reply(turn.lang).say("story_ui.class_only").extend(list_stories(turn))
    reply.say(
        "story_ui.start", title=_t(reply, story.key("title")), intro=_t(reply, story.key("intro"))
    )
    _picture(reply, story)
    state = new_state(story)
    reply.record("story_start", story_id=story.id)
    render_step(reply, story, story.steps[story.start], _coplay(turn))
    return reply.set(story=state, mode="story")


def _no_story(turn: Turn, story_id: object) -> Reply:
    reply = Reply(turn.lang)
    story = get_story(story_id)
    stories_button = _button(reply, "story_ui.buttons.stories", "list_stories")
    if story is not None:
        replay = _button(reply, "story_ui.buttons.replay", "start_story", story_id=story.id)
        reply.say("story_ui.finished", buttons=[replay, stories_button])
    else:
        reply.say("story_ui.no_story", buttons=[stories_button])
    if turn.mode == "story":
        reply.set(story=None, mode="menu")
    return reply


def _reshow(turn: Turn, story: Story, step: Step, state: dict[str, Any], key: str) -> Reply:
    reply = Reply(turn.lang)
    reply.say(key, title=_t(reply, story.key("title")))
    render_step(reply, story, step, _coplay(turn))
    return reply.set(story=state, mode="story")


def choose(turn: Turn, entities: dict[str, Any] | None) -> Reply:
    """A button press: ``/story_choice{"story_id", "step", "choice"}``."""
    entities = entities if isinstance(entities, dict) else {}
    story_id = entities.get("story_id")
    found = current(turn)
    if found is None:
        return _no_story(turn, story_id)
    story, step, state = found
    if story_id is not None and story_id != story.id:
        return _reshow(turn, story, step, state, "story_ui.other_story")
    choice_id = entities.get("choice")
    if entities.get("step") != step.id:
        return _reshow(turn, story, step, state, "story_ui.stale")
    if step.kind == "rehearsal":
        if choice_id == SHOW_EXAMPLE:
            return _rehearsal_example(turn, story, step, state)
        return _reshow(turn, story, step, state, "story_ui.stale")
    if step.choice(choice_id) is None:
        return _reshow(turn, story, step, state, "story_ui.stale")
    return _apply_choice(turn, story, step, state, str(choice_id))


def _labels(story: Story, step: Step) -> dict[str, list[str]]:
    return {
        c.id: [
            texts.t(story.key("steps", step.id, "choices", c.id, "label"), lang)
            for lang in texts.LANGUAGES
        ]
        for c in step.choices
    }


def handle_text(turn: Turn) -> Reply:
    """Free text while a story runs: a choice, or a practice reply on a rehearsal step."""
    found = current(turn)
    if found is None:
        return _no_story(turn, None)
    story, step, state = found
    text = turn.text if isinstance(turn.text, str) else ""
    if step.kind == "rehearsal":
        if not text.strip():
            reply = Reply(turn.lang)
            return _ask_again(reply, story, step, "story_ui.rehearsal.retry").set(
                story=state, mode="story"
            )
        return _rehearse(turn, story, step, state)
    match = understand.choice_for(step, text, _labels(story, step))
    if match.choice_id is not None:
        return _apply_choice(turn, story, step, state, match.choice_id)
    reply = Reply(turn.lang)
    state["tries"] += 1
    key = {"unsure": "story_ui.unsure", "which": "story_ui.which"}.get(
        match.how, "story_ui.not_understood"
    )
    return _ask_again(reply, story, step, key).set(story=state, mode="story")


def show_current(turn: Turn) -> Reply:
    """Show the current step again (after an interruption)."""
    found = current(turn)
    if found is None:
        return _no_story(turn, None)
    story, step, state = found
    reply = Reply(turn.lang).say("story_ui.back")
    render_step(reply, story, step, _coplay(turn))
    return reply.set(story=state, mode="story")


def quit_story(turn: Turn) -> Reply:
    """Stop the running story (nothing is kept)."""
    reply = Reply(turn.lang)
    stories_button = _button(reply, "story_ui.buttons.stories", "list_stories")
    menu_button = _button(reply, "story_ui.buttons.menu", "start")
    if current(turn) is None:
        reply.say("story_ui.no_story", buttons=[stories_button, menu_button])
    else:
        reply.say("story_ui.quit", buttons=[stories_button, menu_button])
    return reply.set(story=None, mode="menu")


def _as_bool(value: object) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in ("true", "1", "yes", "on", "oui")
    return bool(value)


def set_coplay(turn: Turn, on: object) -> Reply:
    """``/coplay{"on": true}``: a discussion question for the grown-up at each step."""
    enabled = _as_bool(on)
    reply = Reply(turn.lang).set(coplay=enabled)
    reply.say("story_ui.coplay.enabled" if enabled else "story_ui.coplay.disabled")
    found = current(turn)
    if found is not None:
        story, step, state = found
        render_step(reply, story, step, enabled)
        return reply.set(story=state, mode="story")
    button = _button(reply, "story_ui.buttons.stories", "list_stories")
    reply.messages[-1]["buttons"] = [button]
    return reply
