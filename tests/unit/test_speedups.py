"""The patched Rasa checks behave exactly like Rasa's own."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jsonschema import ValidationError
from rasa.core.actions.action import ACTION_LISTEN_NAME, RemoteAction
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import (
    ActionExecuted,
    ActionReverted,
    ActiveLoop,
    BotUttered,
    Event,
    Restarted,
    SessionStarted,
    SlotSet,
    UserUtteranceReverted,
    UserUttered,
)
from rasa.shared.core.trackers import DialogueStateTracker

from addons import speedups


@pytest.fixture(scope="module", autouse=True)
def installed():
    speedups.install()
    speedups.install()  # idempotent


def action() -> RemoteAction:
    return RemoteAction("action_x", None)


def test_valid_action_results_pass():
    assert action()._validate_action_result({"events": [], "responses": [{"text": "hi"}]})


@pytest.mark.parametrize("bad", [{"events": "nope"}, {"responses": 3}, {"events": [{"event": 5}]}])
def test_invalid_action_results_raise_rasas_error(bad):
    with pytest.raises(ValidationError, match="Failed to validate Action server response"):
        action()._validate_action_result(bad)


def test_event_classes_resolve_as_before():
    assert Event.resolve_by_type("slot") is SlotSet
    assert Event.resolve_by_type("user") is UserUttered
    assert Event.resolve_by_type("topic") is None
    assert Event.resolve_by_type("nope", default=SlotSet) is SlotSet
    with pytest.raises(ValueError):
        Event.resolve_by_type("nope")


# --- applied events and states, kept on the tracker, against Rasa's own methods ---------------

ROOT = Path(__file__).resolve().parents[2]


# Lumi's slots do not influence the conversation; this small domain's do, so
# that states carry slot features too.
SMALL_DOMAIN = """
version: "3.1"
intents: [greet, list_stories, story_choice]
entities: [story_id]
slots:
  mode:
    type: categorical
    values: [story, menu]
    influence_conversation: true
    mappings: [{type: custom}]
  misunderstood:
    type: float
    influence_conversation: true
    mappings: [{type: custom}]
  language:
    type: text
    influence_conversation: true
    mappings: [{type: custom}]
  story:
    type: any
    mappings: [{type: custom}]
actions: [action_start, action_list_stories, action_story_choice]
"""


@pytest.fixture(scope="module", params=["lumi", "small"])
def domain(request) -> Domain:
    if request.param == "small":
        return Domain.from_yaml(SMALL_DOMAIN)
    return Domain.load(str(ROOT / "domain"))


def _event(kind: str, pick: int, domain: Domain) -> Event:
    intents = sorted(domain.intents)
    actions = [
        ACTION_LISTEN_NAME,
        *sorted(a for a in domain.user_actions if a.startswith("action_")),
    ]
    if kind == "user":
        return UserUttered("x", {"name": intents[pick % len(intents)], "confidence": 1.0})
    if kind == "action":
        return ActionExecuted(actions[pick % len(actions)])
    if kind == "loop_action":
        return ActionExecuted("some_form")
    if kind == "slot":
        choices = [
            ("mode", "story"),
            ("mode", "menu"),
            ("language", "fr"),
            ("language", "en"),
            ("misunderstood", pick % 4),
            ("story", {"id": "x", "step": str(pick)}),
        ]
        name, value = choices[pick % len(choices)]
        return SlotSet(name, value)
    simple = {
        "bot": lambda: BotUttered("hi"),
        "session": SessionStarted,
        "restart": Restarted,
        "revert_user": UserUtteranceReverted,
        "revert_action": ActionReverted,
        "loop_on": lambda: ActiveLoop("some_form"),
        "loop_off": lambda: ActiveLoop(None),
    }
    return simple[kind]()


KINDS = st.sampled_from(
    [
        "user",
        "action",
        "action",
        "action",
        "slot",
        "slot",
        "bot",
        "loop_action",
        "session",
        "restart",
        "revert_user",
        "revert_action",
        "loop_on",
        "loop_off",
    ]
)


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.lists(st.tuples(KINDS, st.integers(0, 50)), max_size=60), st.booleans())
def test_kept_applied_events_and_states_are_rasas(domain, steps, omit_unset):
    tracker = DialogueStateTracker.from_events("s", [], domain.slots)
    for kind, pick in steps:
        tracker.update(_event(kind, pick, domain))
        applied = tracker.applied_events()
        assert [id(e) for e in applied] == [
            id(e) for e in speedups.ORIGINAL["applied_events"](tracker)
        ]
        applied.clear()  # a caller changing its list changes nothing kept
        states = domain.states_for_tracker_history(tracker, omit_unset_slots=omit_unset)
        assert states == speedups.ORIGINAL["states"](domain, tracker, omit_unset_slots=omit_unset)
        for state in states:  # nor does a caller changing the states (RulePolicy does)
            state.clear()


def test_a_copied_tracker_keeps_nothing(domain):
    tracker = DialogueStateTracker.from_events(
        "s", [ActionExecuted(ACTION_LISTEN_NAME)], domain.slots
    )
    domain.states_for_tracker_history(tracker)
    twin = copy.deepcopy(tracker)
    assert not twin.__dict__.get("_lumi_kept")
    twin.update(UserUttered("x", {"name": "greet", "confidence": 1.0}))
    assert domain.states_for_tracker_history(twin) == speedups.ORIGINAL["states"](domain, twin)


# --- what an action call sends -----------------------------------------------------------------


def test_an_action_call_sends_this_turns_events_and_the_same_state(domain):
    from rasa.utils.endpoints import EndpointConfig

    events = [
        ActionExecuted(ACTION_LISTEN_NAME),
        UserUttered("hi", {"name": "greet", "confidence": 1.0}),
        SlotSet("mode", "menu"),
        ActionExecuted("action_start"),
        BotUttered("hello"),
        ActionExecuted(ACTION_LISTEN_NAME),
        UserUttered("/list_stories", {"name": "list_stories", "confidence": 1.0}),
        SlotSet("mode", "story"),
    ]
    tracker = DialogueStateTracker.from_events("s", events, domain.slots)
    remote = RemoteAction("action_list_stories", EndpointConfig("http://localhost:1"))
    sent = remote._action_call_format(tracker, domain)
    rasas = speedups.ORIGINAL["action_call"](remote, tracker, domain)
    assert [e["event"] for e in sent["tracker"]["events"]] == ["user", "slot"]
    assert sent["tracker"]["events"][0]["text"] == "/list_stories"
    assert len(rasas["tracker"]["events"]) == len(events)
    assert {k: v for k, v in sent["tracker"].items() if k != "events"} == {
        k: v for k, v in rasas["tracker"].items() if k != "events"
    }
    assert {k: v for k, v in sent.items() if k != "tracker"} == {
        k: v for k, v in rasas.items() if k != "tracker"
    }


def test_a_conversation_without_user_message_sends_every_event(domain):
    tracker = DialogueStateTracker.from_events(
        "s", [ActionExecuted("action_session_start"), SessionStarted()], domain.slots
    )
    assert [type(e) for e in speedups.this_turns_events(tracker)] == [
        ActionExecuted,
        SessionStarted,
    ]


def test_the_fast_json_store_reads_back_and_raises_rasas_error(domain):
    from rasa.core.tracker_store import TrackerDeserialisationException

    from addons.tracker_store import RedactingInMemoryTrackerStore, serialise_redacted

    store = RedactingInMemoryTrackerStore(domain)
    events = [ActionExecuted(ACTION_LISTEN_NAME), SlotSet("language", "fr"), BotUttered("a/b")]
    tracker = DialogueStateTracker.from_events("s", events, domain.slots)
    again = store.deserialise_tracker("s", serialise_redacted(tracker))
    assert again is not None and again.get_slot("language") == "fr"
    with pytest.raises(TrackerDeserialisationException):
        store.deserialise_tracker("s", b"\xff\xfe not json")
