"""The "Spot the trick" quiz: rounds, points, badges, stale buttons, typed answers."""

from __future__ import annotations

import json
import random
from typing import Any

import pytest

from bot import quiz
from bot import text as texts
from bot.conversation import Reply
from bot.tactics import TACTICS
from tests.conftest import make_turn

LANGS = ("en", "fr")


def base(lang: str, **extra: Any) -> dict[str, Any]:
    return {"language": lang, "language_locked": True, "mode": "menu", **extra}


def play(slots: dict[str, Any], handler: Any, *args: Any, text: str = "") -> tuple[dict, Reply]:
    reply = handler(make_turn(text=text, **slots), *args)
    assert reply.messages
    for message in reply.messages:
        if "text" in message:
            assert message["text"].strip() and "quiz." not in message["text"]
    return {**slots, **reply.slots}, reply


def answer_buttons(reply: Reply) -> list[dict[str, Any]]:
    found = []
    for message in reply.messages:
        for button in message.get("buttons", []):
            if button["payload"].startswith("/quiz_answer"):
                found.append(json.loads(button["payload"][len("/quiz_answer") :]))
    return found


def right_answer(slots: dict[str, Any]) -> str:
    state = slots["quiz"]
    found = quiz.quiz_data().tactic_of(state["items"][state["round"]])
    assert found is not None
    return found


@pytest.mark.parametrize("lang", LANGS)
def test_every_tactic_has_three_messages_in_both_languages(lang: str) -> None:
    data = quiz.quiz_data()
    assert set(data.items) == set(TACTICS)
    for tactic, ids in data.items.items():
        assert len(ids) >= 3, tactic
        for item in ids:
            message = texts.t(f"quiz.messages.{item}", lang)
            assert message.strip() and message != f"quiz.messages.{item}"


@pytest.mark.parametrize("lang", LANGS)
def test_start_quiz_shows_the_first_round(lang: str) -> None:
    slots, reply = play(base(lang), quiz.start_quiz)
    data = quiz.quiz_data()
    assert slots["mode"] == "quiz"
    state = slots["quiz"]
    assert len(state["items"]) == data.rounds and state["round"] == 0
    options = answer_buttons(reply)
    assert len(options) == data.options_per_round
    assert {o["round"] for o in options} == {1}
    assert len({o["tactic"] for o in options}) == len(options)
    assert right_answer(slots) in {o["tactic"] for o in options}
    titles = [b["title"] for m in reply.messages for b in m.get("buttons", [])]
    assert titles == [texts.t(f"tactics.{o['tactic']}.name", lang) for o in options]
    per_tactic: dict[str, int] = {}
    for item in state["items"]:
        tactic = data.tactic_of(item)
        assert tactic is not None
        per_tactic[tactic] = per_tactic.get(tactic, 0) + 1
    assert len(per_tactic) == data.tactics_per_quiz


@pytest.mark.parametrize("lang", LANGS)
def test_all_right_wins_points_and_badges(lang: str) -> None:
    data = quiz.quiz_data()
    slots, _ = play(base(lang), quiz.start_quiz)
    chosen = {data.tactic_of(i) for i in slots["quiz"]["items"]}
    for number in range(1, data.rounds + 1):
        right = right_answer(slots)
        slots, reply = play(slots, quiz.answer, {"round": number, "tactic": right})
        assert reply.texts[0] == texts.t(
            "quiz.right",
            lang,
            name=texts.t(f"tactics.{right}.name", lang),
            short=texts.t(f"tactics.{right}.short", lang),
        )
    assert slots["mode"] == "menu"
    assert sorted(slots["badges"]) == sorted(f"badge_{t}" for t in chosen)
    assert slots["quiz"] == {"v": 1, "mastery": {t: 2 for t in chosen}}
    end = texts.t("quiz.end", lang, right=data.rounds, total=data.rounds, points=data.rounds * 10)
    assert end in reply.texts
    assert texts.t("quiz.door_open", lang) in reply.texts
    payloads = [b["payload"] for m in reply.messages for b in m.get("buttons", [])]
    assert payloads == ["/start_quiz", "/list_stories", "/start"]


def test_wrong_answers_are_kind_and_give_no_badge() -> None:
    slots, _ = play(base("en"), quiz.start_quiz)
    for number in range(1, quiz.quiz_data().rounds + 1):
        wrong = next(t for t in slots["quiz"]["options"] if t != right_answer(slots))
        right = right_answer(slots)
        slots, reply = play(slots, quiz.answer, {"round": str(number), "tactic": wrong})
        expected = texts.t(
            "quiz.wrong",
            "en",
            name=texts.t(f"tactics.{right}.name", "en"),
            short=texts.t(f"tactics.{right}.short", "en"),
        )
        assert reply.texts[0] == expected
    assert "badges" not in slots
    assert texts.t("quiz.no_badges", "en") in reply.texts


def test_badge_is_won_once_and_new_quiz_prefers_other_tricks() -> None:
    slots = base("en", badges=["badge_bribe"], quiz={"v": 1, "mastery": {"bribe": 5}})
    slots["quiz"] = {
        "v": 1,
        "items": ["bribe_1", "secrecy_1"],
        "round": 0,
        "options": ["bribe", "threat", "meeting"],
        "right": 0,
        "points": 0,
        "mastery": {"bribe": 5},
    }
    slots["mode"] = "quiz"
    slots, reply = play(slots, quiz.answer, {"round": 1, "tactic": "bribe"})
    assert "badges" not in reply.slots
    assert slots["quiz"]["mastery"]["bribe"] == 6
    for _ in range(20):
        fresh = quiz.new_state(
            make_turn(**base("en", badges=[f"badge_{t}" for t in TACTICS[:5]])), random.Random()
        )
        chosen = {quiz.quiz_data().tactic_of(i) for i in fresh["items"]}
        assert chosen == set(TACTICS[5:])


def test_stale_and_foreign_buttons() -> None:
    slots, _ = play(base("fr"), quiz.start_quiz)
    outside = next(t for t in TACTICS if t not in slots["quiz"]["options"])
    for entities in (
        {"round": 2, "tactic": right_answer(slots)},
        {"round": 1, "tactic": outside},
        {"round": "abc", "tactic": right_answer(slots)},
        {},
        None,
    ):
        new_slots, reply = play(slots, quiz.answer, entities)
        assert reply.texts[0] == texts.t("quiz.stale", "fr")
        assert new_slots["quiz"] == slots["quiz"]
        assert len(answer_buttons(reply)) == quiz.quiz_data().options_per_round


@pytest.mark.parametrize(
    "garbage", [None, "x", {"items": []}, {"items": ["nope"], "round": 0, "options": []}]
)
def test_no_quiz_running(garbage: object) -> None:
    slots = base("en", quiz=garbage, mode="quiz")
    for handler, args in (
        (quiz.answer, ({"round": 1, "tactic": "bribe"},)),
        (quiz.handle_text, ()),
        (quiz.show_current, ()),
    ):
        new_slots, reply = play(slots, handler, *args, text="secret")
        assert reply.texts == [texts.t("quiz.not_running", "en")]
        assert new_slots["mode"] == "menu"


def test_typed_answers() -> None:
    slots, _ = play(base("en"), quiz.start_quiz)
    options = slots["quiz"]["options"]
    index = options.index(right_answer(slots))
    new_slots, reply = play(slots, quiz.handle_text, text=str(index + 1))
    assert new_slots["quiz"]["right"] == 1
    slots["quiz"] = {
        **slots["quiz"],
        "options": ["secrecy", "meeting", "threat"],
        "items": ["secrecy_1", *slots["quiz"]["items"][1:]],
    }
    new_slots, reply = play(slots, quiz.handle_text, text="its the secret one")
    assert new_slots["quiz"]["right"] == 1
    new_slots, reply = play(slots, quiz.handle_text, text="c'est la menace")
    assert new_slots["quiz"]["right"] == 0 and new_slots["quiz"]["round"] == 1
    new_slots, reply = play(slots, quiz.handle_text, text="banana")
    assert reply.texts[0] == texts.t("quiz.not_understood", "en")
    assert new_slots["quiz"]["round"] == 0


def test_start_during_a_quiz_resumes_it() -> None:
    slots, _ = play(base("en"), quiz.start_quiz)
    again, reply = play(slots, quiz.start_quiz)
    assert again["quiz"] == slots["quiz"]
    assert reply.texts[0] == texts.t("quiz.back", "en")
    fresh, _ = play({**slots, "mode": "menu"}, quiz.start_quiz)
    assert fresh["quiz"]["round"] == 0


def test_bad_quiz_data_is_reported() -> None:
    raw: dict[str, Any] = {
        "rounds": 6,
        "tactics_per_quiz": 3,
        "options_per_round": 5,
        "points_per_right": 10,
        "badge_after": 2,
        "items": {"bribe": ["bribe_1", "nope_1"]},
        "answer_words": {},
    }
    with pytest.raises(quiz.QuizError) as caught:
        quiz.parse_quiz(raw)
    message = str(caught.value)
    assert "tactic 'secrecy' needs 3+ items" in message
    assert "item 'nope_1' has no text in 'en'" in message
    assert "options_per_round must be 2 to 4" in message
