"""A way to the adult in the room (issue 16, item 5), in both languages.

After a disclosure in a class session Lumi offers to tell the teacher; only on
the child's yes does the teacher's dashboard show an alert with the child's
class name, never their words, until the teacher marks it seen. At home the
same choice gives the first sentence to say to a parent. The actions are run as
Rasa runs them (a recorded tracker, a CollectingDispatcher) and the dashboard
through the real web app, on one SQLite store.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from argon2 import PasswordHasher
from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from starlette.testclient import TestClient

from actions.safeguarding import ActionAfterSafeguard, ActionAnswerAdultOffer
from actions.text import ActionHandleText
from bot import class_space, storage
from bot import text as texts
from bot.conversation import Turn
from bot.safeguarding import adult_in_room
from bot.storage import Store
from bot.web.app import create_app
from bot.web.lessons import pseudonym_label

PASSWORD = "a long enough password"
LEARNER = "learnerKID0001"
# What a child might have typed before saying yes: it must never reach the teacher.
DISCLOSURE = {
    "en": "a man online says he will post my photo if i dont send more",
    "fr": "un homme en ligne dit qu'il va publier ma photo si j'en envoie pas d'autres",
}
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@pytest.fixture
def db(tmp_path, monkeypatch) -> Any:
    monkeypatch.setattr(
        Store, "_hasher", lambda self: PasswordHasher(time_cost=1, memory_cost=256, parallelism=1)
    )
    url = f"sqlite:///{tmp_path / 'lumi.db'}"
    store = storage.configure(url)
    store.migrate()
    class_space.clear_cache()
    yield store
    storage.configure(None)
    class_space.clear_cache()


@pytest.fixture
def lesson(db: Store) -> dict[str, Any]:
    """A teacher signed in on the web app, a class session, a child who joined it."""
    teacher_id = db.create_teacher("prof@school.test", PASSWORD)
    code = db.create_class_session(teacher_id, "fr", ["skin_gift"], title="CM2 B")
    joined = db.join_class_as(code, LEARNER)
    client = TestClient(create_app("http://rasa.invalid", store=db, secret_key="k" * 40))
    token = CSRF.search(client.get("/teacher/login").text).group(1)
    signed = client.post(
        "/teacher/login",
        data={"csrf_token": token, "username": "prof@school.test", "password": PASSWORD},
        follow_redirects=False,
    )
    assert signed.status_code == 303
    return {"code": code, "client": client, "pseudonym": joined["pseudonym"]}


def tracker(intent: str, text: str = "", **slots: Any) -> Tracker:
    return Tracker(
        sender_id=LEARNER,
        slots=slots,
        latest_message={
            "text": text or f"/{intent}",
            "intent": {"name": intent, "confidence": 1.0},
            "entities": [],
            "metadata": {},
        },
        events=[],
        paused=False,
        followup_action=None,
        active_loop={},
        latest_action_name="action_listen",
    )


async def run(action, t: Tracker) -> tuple[list[dict[str, Any]], list[Any]]:
    dispatcher = CollectingDispatcher()
    events = await action.run(dispatcher, t, {})
    return dispatcher.messages, events


def dashboard(lesson: dict[str, Any]) -> dict[str, Any]:
    response = lesson["client"].get(f"/teacher/class/{lesson['code']}/data.json")
    assert response.status_code == 200
    return response.json()


def texts_of(messages: list[dict[str, Any]]) -> list[str]:
    return [m["text"] for m in messages if m.get("text")]


# ----------------------------------------------------------------- the offer


@pytest.mark.parametrize("lang", ["en", "fr"])
async def test_in_a_class_the_offer_is_to_tell_the_teacher(lang, lesson) -> None:
    slots = {"language": lang, "language_locked": True, "mode": "menu"}
    slots.update(class_code=lesson["code"], learner_id=LEARNER)
    messages, events = await run(
        ActionAfterSafeguard(), tracker("disclose_problem", DISCLOSURE[lang], **slots)
    )
    offer = next(
        m for m in messages if m.get("text") == texts.t("adult_in_room.teacher_offer", lang)
    )
    assert [b["payload"] for b in offer["buttons"]] == [
        "/accept_adult_offer",
        "/decline_adult_offer",
    ]
    assert [b["title"] for b in offer["buttons"]] == [
        texts.t("adult_in_room.teacher_yes", lang),
        texts.t("adult_in_room.teacher_no", lang),
    ]
    assert SlotSet("adult_offer", {"to": "teacher", "answered": False}) in events
    # the offer alone raises nothing: the teacher sees nothing before the child's yes
    assert dashboard(lesson)["alerts"] == []


@pytest.mark.parametrize("lang", ["en", "fr"])
async def test_at_home_no_offer_bubble_is_added(lang, db) -> None:
    """At home the first reply's "Help me tell a grown-up" is the way to a parent
    (the first reply keeps to three bubbles; and for a worry about a parent an
    offer to talk with one would be wrong)."""
    slots = {"language": lang, "language_locked": True, "mode": "menu", "learner_id": LEARNER}
    messages, events = await run(
        ActionAfterSafeguard(), tracker("disclose_problem", DISCLOSURE[lang], **slots)
    )
    assert texts.t("adult_in_room.parent_offer", lang) not in texts_of(messages)
    assert texts.t("adult_in_room.teacher_offer", lang) not in texts_of(messages)
    assert not [e for e in events if getattr(e, "key", None) == "adult_offer"]


def test_offered_once_per_conversation() -> None:
    turn = Turn(slots={"language": "en", "adult_offer": {"to": "parent", "answered": True}})
    assert adult_in_room.offer(turn).messages == []
    assert adult_in_room.offer(turn).slots == {}


# ----------------------------------------------------------------- the answer


@pytest.mark.parametrize("lang", ["en", "fr"])
async def test_yes_in_class_shows_the_alert_with_the_class_name_only_until_seen(
    lang, lesson
) -> None:
    code = lesson["code"]
    offered = {"to": "teacher", "answered": False}
    slots = {"language": lang, "language_locked": True, "mode": "rehearsal"}
    slots.update(class_code=code, learner_id=LEARNER, adult_offer=offered)
    assert dashboard(lesson)["alerts"] == []

    messages, events = await run(ActionAnswerAdultOffer(), tracker("accept_adult_offer", **slots))
    assert texts_of(messages) == [texts.t("adult_in_room.teacher_told", lang)]
    assert [b["payload"] for b in messages[-1]["buttons"]] == ["/help", "/start"]
    assert events == [
        SlotSet("adult_offer", {"to": "teacher", "answered": True}),
        SlotSet("reply_language", lang),
    ]

    data = dashboard(lesson)
    name = pseudonym_label(lesson["pseudonym"], "fr")  # the class's language
    assert [a["name"] for a in data["alerts"]] == [name]
    alert = data["alerts"][0]
    assert set(alert) == {"id", "name", "time"}
    page = lesson["client"].get(f"/teacher/class/{code}").text
    assert name in page
    for typed in DISCLOSURE.values():  # nothing the child wrote, in any form
        assert typed not in page and typed not in str(data)
        for word in ("photo", "post", "publier"):
            assert word not in str(data["alerts"])
    # a second yes while the first is unseen adds nothing
    await run(ActionAnswerAdultOffer(), tracker("accept_adult_offer", **slots))
    assert len(dashboard(lesson)["alerts"]) == 1

    token = CSRF.search(page).group(1)
    seen = lesson["client"].post(
        f"/teacher/class/{code}/alerts/{alert['id']}/seen",
        data={"csrf_token": token},
        follow_redirects=False,
    )
    assert seen.status_code == 303
    assert dashboard(lesson)["alerts"] == []
    assert (
        name
        not in lesson["client"].get(f"/teacher/class/{code}").text.split('id="alerts"')[1][:2000]
    )


@pytest.mark.parametrize("lang", ["en", "fr"])
async def test_no_in_class_raises_nothing(lang, lesson) -> None:
    slots = {"language": lang, "language_locked": True, "mode": "rehearsal"}
    slots.update(class_code=lesson["code"], learner_id=LEARNER)
    slots["adult_offer"] = {"to": "teacher", "answered": False}
    messages, events = await run(ActionAnswerAdultOffer(), tracker("decline_adult_offer", **slots))
    assert texts_of(messages) == [texts.t("adult_in_room.teacher_declined", lang)]
    assert SlotSet("adult_offer", {"to": "teacher", "answered": True}) in events
    assert dashboard(lesson)["alerts"] == []


@pytest.mark.parametrize("lang", ["en", "fr"])
async def test_a_typed_yes_answers_the_open_offer(lang, lesson) -> None:
    slots = {"language": lang, "language_locked": True, "mode": "rehearsal"}
    slots.update(class_code=lesson["code"], learner_id=LEARNER)
    slots["adult_offer"] = {"to": "teacher", "answered": False}
    typed = {"en": "yes", "fr": "oui"}[lang]
    messages, _ = await run(ActionHandleText(), tracker("affirm", typed, **slots))
    assert texts_of(messages) == [texts.t("adult_in_room.teacher_told", lang)]
    assert len(dashboard(lesson)["alerts"]) == 1


@pytest.mark.parametrize("lang", ["en", "fr"])
async def test_yes_at_home_gives_the_first_sentence(lang, db) -> None:
    slots = {"language": lang, "language_locked": True, "mode": "rehearsal"}
    slots.update(learner_id=LEARNER, adult_offer={"to": "parent", "answered": False})
    messages, events = await run(ActionAnswerAdultOffer(), tracker("accept_adult_offer", **slots))
    assert texts_of(messages) == [
        texts.t("adult_in_room.parent_first_sentence", lang),
        texts.t("adult_in_room.parent_tips", lang),
    ]
    assert SlotSet("adult_offer", {"to": "parent", "answered": True}) in events


@pytest.mark.parametrize("lang", ["en", "fr"])
async def test_when_the_alert_cannot_be_stored_the_child_is_told_how_to_ask(lang, lesson) -> None:
    storage.configure("postgresql+psycopg2://lumi:x@127.0.0.1:1/nowhere")  # database down
    slots = {"language": lang, "language_locked": True, "mode": "rehearsal"}
    slots.update(class_code=lesson["code"], learner_id=LEARNER)
    slots["adult_offer"] = {"to": "teacher", "answered": False}
    messages, _ = await run(ActionAnswerAdultOffer(), tracker("accept_adult_offer", **slots))
    assert texts_of(messages) == [texts.t("adult_in_room.teacher_not_sent", lang)]


async def test_an_old_button_without_an_offer_gets_a_calm_reply(db) -> None:
    messages, events = await run(
        ActionAnswerAdultOffer(), tracker("accept_adult_offer", language="en")
    )
    assert texts_of(messages) == [texts.t("adult_in_room.no_offer", "en")]
    assert not any(e.get("name") == "adult_offer" for e in events)


def test_a_child_who_did_not_join_raises_no_alert(lesson, db) -> None:
    assert db.raise_class_alert(lesson["code"], "someoneElse123") == "not_member"
    assert db.raise_class_alert("ZZZZZZ", LEARNER) == "unknown"
    assert dashboard(lesson)["alerts"] == []


def test_another_teacher_cannot_mark_the_alert(lesson, db) -> None:
    other = db.create_teacher("other@school.test", PASSWORD)
    assert db.raise_class_alert(lesson["code"], LEARNER) == "ok"
    alert = db.class_alerts(db.verify_teacher("prof@school.test", PASSWORD), lesson["code"])[0]
    assert db.mark_alert_seen(other, lesson["code"], alert["id"]) is False
    assert len(dashboard(lesson)["alerts"]) == 1
