"""Two measured fixes to Rasa 3.6's turn path, installed in the Rasa server.

Profiled in bench/results/profile.txt: after every call to the action server,
Rasa validates the reply with ``jsonschema.validate``, which re-checks the
schema and builds a new validator each time (about 28 ms of CPU per call, 63 %
of the server's time under load); and reading a conversation resolves each
event's class by scanning every Event subclass. Both are replaced by the same
checks done once: a reply that fails validation still goes through Rasa's own
method, so the error raised is exactly Rasa's.
"""

from __future__ import annotations

import functools
from typing import Any

_installed = False


def install() -> None:
    """Patch both (idempotent); called when the REST channel is created."""
    global _installed
    if _installed:
        return
    _cache_action_result_validator()
    _cache_event_classes()
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
