"""Measured fixes to Rasa 3.6's turn path, installed in the Rasa server.

Profiled in bench/results/profile.txt (docs/performance.md):

- After every call to the action server, Rasa validates the reply with
  ``jsonschema.validate``, which re-checks the schema and builds a new validator
  each time (about 28 ms of CPU per call). Replaced by a validator built once;
  a reply that fails still goes through Rasa's own method, so the error raised
  is exactly Rasa's.
- Reading a conversation resolves each event's class by scanning every Event
  subclass: cached by name.
- A button press (``/intent{...}`` with an intent of the domain) runs the whole
  NLU pipeline (featurizers, DIET in TensorFlow, our annotator) and then the
  pipeline's last component, RegexMessageHandler, throws all of it away and
  replaces the message by the payload's intent and entities. The shortcut asks
  RegexMessageHandler's own unpacking first and skips the pipeline when it
  would have replaced the message; anything else (typed text, unknown intents,
  odd payloads) goes through the pipeline as before.
- ``DialogueStateTracker.applied_events`` walks the whole conversation with
  slow ``isinstance`` checks, several times per turn (each prediction, the
  session check, slots). The result is kept on the tracker and extended with
  the events appended since; any event that can undo earlier ones (restart,
  session start, rewind, loops) makes it recompute with Rasa's own method.
- RulePolicy turns the whole conversation into states before every prediction
  (``Domain.states_for_tracker_history``: replay every event, one state per
  action), two or three times per turn on the same growing tracker. The
  replay and the states already made are kept on the tracker and continued
  with the new events; a tracker whose earlier events changed starts again.
- Every action call sent the whole conversation (every event since the first
  message) to the action server, which parsed it and never read it: our
  actions read slots and the latest message. Only this turn's events (from the
  latest user message) are sent now; slots, latest message and the rest of the
  tracker state are unchanged.
"""

from __future__ import annotations

import functools
from typing import Any

_installed = False
# Rasa's own methods, before the patches: the tests compare both on the same inputs.
ORIGINAL: dict[str, Any] = {}


def install() -> None:
    """Patch both (idempotent); called when the REST channel is created."""
    global _installed
    if _installed:
        return
    _cache_action_result_validator()
    _cache_event_classes()
    _skip_nlu_for_intent_payloads()
    _send_only_this_turns_events()
    _cache_applied_events()
    _continue_states()
    _installed = True


def _cache_action_result_validator() -> None:
    import jsonschema
    from rasa.core.actions.action import RemoteAction

    spec = RemoteAction.action_response_format_spec()
    validator_class = jsonschema.validators.validator_for(spec)
    validator_class.check_schema(spec)
    validator = validator_class(spec)
    original = RemoteAction._validate_action_result

    def _validate_action_result(self: Any, result: dict[str, Any]) -> bool:
        if validator.is_valid(result):
            return True
        return bool(original(self, result))  # raises Rasa's own error

    RemoteAction._validate_action_result = _validate_action_result


def _cache_event_classes() -> None:
    from rasa.shared.core.events import Event

    original = Event.resolve_by_type

    @functools.cache
    def _known(type_name: str) -> Any:
        from rasa.shared.utils.common import all_subclasses

        for cls in all_subclasses(Event):
            if cls.type_name == type_name:
                return cls
        return None

    def resolve_by_type(type_name: str, default: Any = None) -> Any:
        found = _known(type_name)
        return found if found is not None else original(type_name, default)

    Event.resolve_by_type = staticmethod(resolve_by_type)


REGEX_HANDLER = "RegexMessageHandler"


def parse_intent_payload(text: Any, domain: Any) -> Any:
    """The message RegexMessageHandler would put in place of this one, or None.

    None when the text is not ``/<intent of the domain>`` optionally followed by
    ``@confidence`` and ``{entities}``: those messages go through the pipeline.
    """
    from rasa.shared.core.training_data.story_reader.yaml_story_reader import YAMLStoryReader
    from rasa.shared.nlu.constants import TEXT
    from rasa.shared.nlu.training_data.message import Message

    if not isinstance(text, str) or not text.strip().startswith("/"):
        return None
    match = _payload_pattern().match(text.strip())
    if not match or match.group("rest") or match.group("name").strip() not in domain.intents:
        return None
    unpacked = YAMLStoryReader.unpack_regex_message(
        Message({TEXT: text}), domain, entity_extractor_name=REGEX_HANDLER
    )
    return unpacked if unpacked.get("intent") else None


@functools.cache
def _payload_pattern() -> Any:
    from rasa.shared.core.training_data.story_reader.yaml_story_reader import YAMLStoryReader

    return YAMLStoryReader._regex_message_pattern()


def _skip_nlu_for_intent_payloads() -> None:
    from rasa.core.processor import MessageProcessor
    from rasa.shared.nlu.constants import (
        ENTITIES,
        INTENT,
        INTENT_NAME_KEY,
        PREDICTED_CONFIDENCE_KEY,
        TEXT,
    )

    original = ORIGINAL["parse"] = MessageProcessor._parse_message_with_graph

    def _parse_message_with_graph(
        self: Any, message: Any, tracker: Any, only_output_properties: bool = True
    ) -> dict[str, Any]:
        unpacked = parse_intent_payload(message.text, self.domain)
        if unpacked is None:
            result: dict[str, Any] = original(self, message, tracker, only_output_properties)
            return result
        # The same dictionary Rasa builds from the pipeline's output.
        parse_data: dict[str, Any] = {
            TEXT: "",
            INTENT: {INTENT_NAME_KEY: None, PREDICTED_CONFIDENCE_KEY: 0.0},
            ENTITIES: [],
        }
        parse_data.update(unpacked.as_dict(only_output_properties=only_output_properties))
        return parse_data

    MessageProcessor._parse_message_with_graph = _parse_message_with_graph


def this_turns_events(tracker: Any) -> list[Any]:
    """The events from the latest user message on (all of them if there is none)."""
    from rasa.shared.core.events import UserUttered

    turn: list[Any] = []
    for event in reversed(tracker.events):  # back to the latest user message only
        turn.append(event)
        if isinstance(event, UserUttered):
            turn.reverse()
            return turn
    return list(tracker.events)


def _send_only_this_turns_events() -> None:
    from rasa.core.actions.action import RemoteAction
    from rasa.shared.core.trackers import EventVerbosity

    original = ORIGINAL["action_call"] = RemoteAction._action_call_format

    def _action_call_format(self: Any, tracker: Any, domain: Any) -> dict[str, Any]:
        call: dict[str, Any] = original(self, _WithoutEvents(tracker), domain)
        call["tracker"]["events"] = [event.as_dict() for event in this_turns_events(tracker)]
        return call

    class _WithoutEvents:
        """The tracker as Rasa's method sees it, its state built without events."""

        def __init__(self, tracker: Any) -> None:
            self._tracker = tracker

        def __getattr__(self, name: str) -> Any:
            return getattr(self._tracker, name)

        def current_state(self, event_verbosity: Any = EventVerbosity.NONE) -> dict[str, Any]:
            return dict(self._tracker.current_state(EventVerbosity.NONE))

    RemoteAction._action_call_format = _action_call_format


class _Kept(dict[Any, Any]):
    """What the speedups keep on a tracker. A copy of the tracker (deepcopy,
    pickle) starts with nothing kept, so it never shares replay state."""

    def __copy__(self) -> _Kept:
        return _Kept()

    def __deepcopy__(self, memo: dict[int, Any]) -> _Kept:
        return _Kept()

    def __reduce__(self) -> tuple[Any, ...]:
        return (_Kept, ())


def _kept(tracker: Any) -> _Kept:
    kept = tracker.__dict__.get("_lumi_kept")
    if kept is None:
        kept = tracker.__dict__["_lumi_kept"] = _Kept()
    return kept


def _cache_applied_events() -> None:
    from itertools import islice

    from rasa.shared.core.events import (
        ActionExecuted,
        ActionReverted,
        ActiveLoop,
        Restarted,
        SessionStarted,
        UserUtteranceReverted,
    )
    from rasa.shared.core.trackers import DialogueStateTracker

    original = ORIGINAL["applied_events"] = DialogueStateTracker.applied_events
    rewinding = (ActiveLoop, Restarted, SessionStarted, ActionReverted, UserUtteranceReverted)

    def applied_events(self: Any) -> list[Any]:
        events = self.events
        count = len(events)
        kept = _kept(self)
        cached = kept.get("applied")
        applied: list[Any] | None = None
        loop_names: set[str] = set()
        if (
            cached is not None
            and cached[0] is events
            and events.maxlen is None
            and count >= cached[1]
            and (cached[1] == 0 or events[cached[1] - 1] is cached[2])
        ):
            _, known, _, known_applied, known_loops = cached
            new = list(islice(events, known, None))
            if not any(
                isinstance(event, rewinding)
                or (isinstance(event, ActionExecuted) and event.action_name in known_loops)
                for event in new
            ):
                applied, loop_names = known_applied + new, known_loops
        if applied is None:
            applied = original(self)
            loop_names = {e.name for e in events if isinstance(e, ActiveLoop) and e.name}
        last = events[count - 1] if count else None
        kept["applied"] = (events, count, last, applied, loop_names)
        return list(applied)

    DialogueStateTracker.applied_events = applied_events


def _continue_states() -> None:
    from rasa.shared.core.domain import Domain
    from rasa.shared.core.events import ActionExecuted

    original = ORIGINAL["states"] = Domain.states_for_tracker_history

    def states_for_tracker_history(
        self: Any,
        tracker: Any,
        omit_unset_slots: bool = False,
        ignore_rule_only_turns: bool = False,
        rule_only_data: dict[str, Any] | None = None,
    ) -> list[Any]:
        if ignore_rule_only_turns:
            result: list[Any] = original(self, tracker, omit_unset_slots, True, rule_only_data)
            return result
        applied = tracker.applied_events()
        kept = _kept(tracker)
        entry = kept.get(("states", omit_unset_slots))
        if (
            entry is not None
            and entry["domain"] is self
            and len(applied) >= len(entry["events"])
            and all(a is b for a, b in zip(entry["events"], applied, strict=False))
        ):
            replay, states, start = entry["replay"], entry["states"], len(entry["events"])
        else:
            replay, states, start = tracker.init_copy(), [], 0
        # Domain.states_for_tracker_history without rule-only turns: a state
        # before each action, and one for the tracker as it is now.
        for event in applied[start:]:
            if isinstance(event, ActionExecuted):
                states.append(self._clean_state(self.get_active_state(replay, omit_unset_slots)))
            replay.update(event)
        final = self._clean_state(self.get_active_state(replay, omit_unset_slots))
        kept[("states", omit_unset_slots)] = {
            "domain": self,
            "events": applied,
            "replay": replay,
            "states": states,
        }
        # callers may change the states they get (RulePolicy edits the last one)
        return [{key: dict(sub) for key, sub in state.items()} for state in states] + [final]

    Domain.states_for_tracker_history = states_for_tracker_history
