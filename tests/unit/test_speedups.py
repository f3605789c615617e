"""The patched Rasa checks behave exactly like Rasa's own."""

from __future__ import annotations

import pytest
from jsonschema import ValidationError
from rasa.core.actions.action import RemoteAction
from rasa.shared.core.events import Event, SlotSet, UserUttered

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
