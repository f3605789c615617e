"""rasa_sdk actions as Rasa calls them: a recorded tracker in, exact events and messages out."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import ActionExecuted, SessionStarted, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.base import LumiAction
from actions.check import ActionCheckMessage
from actions.safeguarding import ActionAfterSafeguard, ActionHelp
from actions.session import ActionSessionStart, ActionSetCountry, ActionSetLanguage, ActionStart
from actions.text import ActionHandleText
from bot.conversation import Reply, Turn


def tracker(
    text: str = "",
    intent: str = "",
    entities: list[dict[str, Any]] | None = None,
    metadata: dict[str, Any] | None = None,
    **slots: Any,
) -> Tracker:
    return Tracker(
        sender_id="learner-1",
        slots=slots,
        latest_message={
            "text": text,
            "intent": {"name": intent, "confidence": 1.0},
            "entities": entities or [],
            "metadata": metadata or {},
        },
        events=[],
        paused=False,
        followup_action=None,
        active_loop={},
        latest_action_name="action_listen",
    )


async def run(action, t: Tracker):
    dispatcher = CollectingDispatcher()
    events = await action.run(dispatcher, t, {})
    return dispatcher.messages, events


async def test_start_in_french_from_detected_language():
    messages, events = await run(ActionStart(), tracker("salut", "greet", detected_language="fr"))
    assert messages[0]["text"].startswith("Salut ! Je suis Lumi")
    assert [b["payload"] for b in messages[-1]["buttons"]][-1] == '/set_language{"language":"en"}'
    assert events == [
        SlotSet("mode", "menu"),
        SlotSet("misunderstood", 0),
        SlotSet("language", "fr"),
        SlotSet("reply_language", "fr"),
    ]


async def test_set_language_payload():
    t = tracker(
        '/set_language{"language":"fr"}', "set_language", [{"entity": "language", "value": "fr"}]
    )
    messages, events = await run(ActionSetLanguage(), t)
    assert messages[0]["text"] == "D'accord ! Maintenant je parle français."
    assert SlotSet("language", "fr") in events and SlotSet("language_locked", True) in events


async def test_set_language_bad_value_changes_no_slot():
    t = tracker(
        '/set_language{"language":"xx"}',
        "set_language",
        [{"entity": "language", "value": "xx"}],
        language="en",
        language_locked=True,
    )
    t.slots["reply_language"] = "en"
    messages, events = await run(ActionSetLanguage(), t)
    assert events == []
    assert "English or French" in messages[0]["text"]


async def test_set_country_bad_value_changes_no_slot():
    t = tracker(
        '/set_country{"country":"../../x"}',
        "set_country",
        [{"entity": "country", "value": "../../x"}],
    )
    messages, events = await run(ActionSetCountry(), t)
    assert [e for e in events if e["name"] == "country"] == []
    assert "don't know" in messages[0]["text"]


async def test_metadata_sets_language_and_country():
    t = tracker("/help", "help", metadata={"language": "fr", "country": "CH"})
    messages, events = await run(ActionHelp(), t)
    assert SlotSet("language", "fr") in events
    assert SlotSet("language_locked", True) in events
    assert SlotSet("country", "CH") in events
    custom = [m["custom"] for m in messages if m.get("custom")][0]
    assert custom["kind"] == "helplines" and custom["country"] == "CH" and custom["lang"] == "fr"
    assert custom["helplines"][0]["phone"] == "147"


async def test_session_start_keeps_settings_and_applies_metadata():
    t = tracker(
        language="fr",
        language_locked=True,
        mode="story",
        story={"id": "x"},
        session_started_metadata={"country": "BE", "learner_id": "abcDEF123456"},
    )
    _, events = await run(ActionSessionStart(), t)
    assert events[0] == SessionStarted()
    assert SlotSet("language", "fr") in events
    assert SlotSet("country", "BE") in events
    assert SlotSet("learner_id", "abcDEF123456") in events
    assert SlotSet("story", {"id": "x"}) not in events
    assert events[-2:] == [SlotSet("mode", "menu"), ActionExecuted("action_listen")]


async def test_after_safeguard_starts_support_and_keeps_the_way_back_to_the_story():
    t = tracker(
        "he asks me for pics",
        "disclose_problem",
        mode="story",
        safeguard_level="concern",
        safeguard_topic="online",
    )
    messages, events = await run(ActionAfterSafeguard(), t)
    # no fourth bubble: only the way back to the interrupted story, as a button
    assert [(m["text"], m["buttons"], m["custom"]) for m in messages] == [
        (None, [{"title": "Back to my story", "payload": "/resume"}], {})
    ]
    assert SlotSet("mode", "support") in events
    support = {"return_to": "story", "topic": "online", "level": "concern"}
    assert SlotSet("support", support) in events


async def test_after_safeguard_in_the_menu_says_nothing_more():
    t = tracker("im scared of my dad", "disclose_problem", safeguard_topic="worry")
    messages, events = await run(ActionAfterSafeguard(), t)
    assert messages == []
    assert SlotSet("mode", "support") in events


async def test_check_mode_reads_typed_text_even_if_classified_as_a_menu_command(monkeypatch):
    """A paste that reads like "help" is still the pasted message."""

    class Recorder(LumiAction):
        action_name = "action_recorder"

        def handle(self, turn: Turn) -> Reply:
            raise AssertionError("handle must not run in check mode")

    import bot.dialogue as dialogue

    seen = {}
    monkeypatch.setattr(
        dialogue, "check_pasted", lambda turn: seen.setdefault("turn", turn) and Reply(turn.lang)
    )
    await run(Recorder(), tracker("help me with homework lol", "help", mode="check"))
    assert seen["turn"].text == "help me with homework lol"


async def test_a_failing_handler_still_answers():
    class Broken(LumiAction):
        action_name = "action_broken"

        def handle(self, turn: Turn) -> Reply:
            raise RuntimeError("bug")

    messages, events = await run(Broken(), tracker("salut", "greet", detected_language="fr"))
    assert [m["text"] for m in messages] == ["Oups, il y a eu un souci de mon côté. On réessaie ?"]
    assert events == [SlotSet("language", "fr"), SlotSet("reply_language", "fr")]


async def test_check_message_sets_check_mode():
    messages, events = await run(ActionCheckMessage(), tracker("/check_message", "check_message"))
    assert SlotSet("mode", "check") in events
    assert messages[0]["text"].startswith("Paste")


async def test_free_text_in_menu_small_talk():
    messages, _ = await run(
        ActionHandleText(), tracker("t es qui", "ask_about_bot", detected_language="fr")
    )
    assert "Lumi" in messages[0]["text"]


async def test_a_practice_reply_read_as_check_message_stays_in_the_story():
    """« c'est un piège » on a practice step is the child's reply, not "check a message"."""
    story = {
        "v": 1,
        "id": "skin_gift",
        "step": "practice",
        "tries": 0,
        "history": [],
        "spotted": [],
        "missed": [],
    }
    messages, events = await run(
        ActionCheckMessage(),
        tracker(
            "bien essayé, c'est un piège", "check_message", mode="story", story=story, language="fr"
        ),
    )
    assert SlotSet("mode", "check") not in events
    assert messages[0]["text"].startswith("👍")  # judged as a practice reply
    [story_set] = [e for e in events if e.get("name") == "story"]
    assert story_set["value"]["step"] == "secret"
    assert story_set["value"]["history"][-1]["reply"] == "name_trick"
    # on a choice step, a typed "check this message" is the command as before
    on_choice = {**story, "step": "gift"}
    _, events = await run(
        ActionCheckMessage(),
        tracker("check a message", "check_message", mode="story", story=on_choice),
    )
    assert SlotSet("mode", "check") in events
