"""A class session is a space the pupils stay in (issue 19): every story list a
pupil sees is the teacher's selection, a story added live appears, an ended
session lets the child play on their own, and the class country fills in the
helplines. The story engine runs on a real SQLite store (no Rasa)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from bot import class_space, storage
from bot import text as texts
from bot.conversation import Turn
from bot.session import slots_from_metadata
from bot.storage import Store
from bot.stories import engine

LEARNER = "pupilAAAA0001"
CHOSEN = ["skin_gift", "secret_request"]


@pytest.fixture
def db(tmp_path) -> Any:
    store = storage.configure(f"sqlite:///{tmp_path / 'lumi.db'}")
    store.migrate()
    class_space.clear_cache()
    yield store
    storage.configure(None)
    class_space.clear_cache()


@pytest.fixture
def session(db: Store) -> dict[str, Any]:
    teacher = db.create_teacher("prof@school.test", "a long enough password")
    code = db.create_class_session(teacher, "en", CHOSEN, country="BE", age_band="8-10")
    db.join_class_as(code, LEARNER)
    return {"teacher": teacher, "code": code}


def pupil(code: str | None, **slots: Any) -> Turn:
    return Turn(
        intent="list_stories",
        text="/list_stories",
        slots={"language": "en", "class_code": code, "learner_id": LEARNER, **slots},
    )


def listed(reply) -> list[str]:
    return [s["id"] for s in reply.payloads("story_list")[0]["stories"]]


def test_a_pupil_sees_only_the_teachers_stories_in_the_teachers_order(session) -> None:
    reply = engine.list_stories(pupil(session["code"]))
    assert listed(reply) == CHOSEN
    payloads = [b["payload"] for m in reply.messages for b in m.get("buttons") or []]
    started = [p for p in payloads if p.startswith("/start_story")]
    assert started == [f'/start_story{{"story_id":"{s}"}}' for s in CHOSEN]


def test_after_a_story_the_next_list_is_still_the_selection(session) -> None:
    """The bug the issue saw: "another story" listed all eleven."""
    turn = pupil(session["code"])
    reply = engine.start_story(turn, "skin_gift")
    turn.slots.update(reply.slots)
    for _ in range(30):  # first choice every time, to the end
        buttons = [b for m in reply.messages for b in m.get("buttons") or []]
        if turn.slots.get("mode") == "menu":
            break
        first = buttons[0]["payload"]
        entities = json.loads(first[first.index("{") :])
        reply = engine.choose(turn, entities)
        turn.slots.update(reply.slots)
    assert reply.payloads("story_end"), "the story did not end"
    again = [b for m in reply.messages for b in m.get("buttons") or []]
    assert again[0]["payload"] == "/list_stories"
    assert listed(engine.list_stories(turn)) == CHOSEN


def test_a_story_outside_the_selection_shows_the_class_list(session) -> None:
    reply = engine.start_story(pupil(session["code"]), "meet_up")  # 11-13, not chosen
    assert reply.texts[0] == texts.t("story_ui.class_only", "en")
    assert listed(reply) == CHOSEN
    assert reply.slots.get("story") is None


def test_a_story_added_live_appears_within_the_cache_time(session, db) -> None:
    now = [100.0]
    code = session["code"]

    def clock() -> float:
        return now[0]

    def ids() -> list[str]:
        space = class_space.of_turn(pupil(code), clock=clock)
        assert space is not None
        return list(space.story_ids)

    assert ids() == CHOSEN
    assert db.add_class_story(session["teacher"], code, "genuine_friend") is True
    assert ids() == CHOSEN  # cached
    now[0] += class_space.FRESH_SECONDS + 0.1
    assert ids() == [*CHOSEN, "genuine_friend"]
    assert db.add_class_story(session["teacher"], code, "genuine_friend") is False  # once


def test_an_ended_session_is_no_space(session, db) -> None:
    assert db.end_class_session(session["teacher"], session["code"])
    class_space.clear_cache()
    assert class_space.of_turn(pupil(session["code"])) is None
    assert len(listed(engine.list_stories(pupil(session["code"])))) > len(CHOSEN)


def test_a_database_outage_keeps_the_last_answer(session) -> None:
    code = session["code"]
    now = [0.0]
    answers: list[Any] = [{"status": "open", "story_ids": ["skin_gift"]}, None]
    space = class_space.of_turn(pupil(code), lookup=lambda c: answers.pop(0), clock=lambda: now[0])
    assert space is not None and space.story_ids == ("skin_gift",)
    now[0] = 60.0
    space = class_space.of_turn(pupil(code), lookup=lambda c: answers.pop(0), clock=lambda: now[0])
    assert space is not None and space.story_ids == ("skin_gift",)


def test_no_class_no_restriction(db) -> None:
    assert class_space.of_turn(pupil(None)) is None
    assert len(listed(engine.list_stories(pupil(None)))) == len(engine.stories())


def test_the_class_country_names_the_helpline_at_a_story_end(session) -> None:
    assert engine._country(pupil(session["code"])) == "BE"
    assert engine._country(pupil(session["code"], country="FR")) == "FR"  # the child's choice


def test_leaving_the_class_clears_the_code() -> None:
    assert slots_from_metadata({"class_code": ""}, {"class_code": "ABC234"}) == {"class_code": None}
    assert slots_from_metadata({"class_code": ""}, {}) == {}
    assert slots_from_metadata({"class_code": "abc234"}, {}) == {"class_code": "ABC234"}
