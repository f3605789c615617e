"""NLU components that run in the Rasa server on every message.

``LongTextGuard`` keeps the classifiers' input short (a 20,000-character paste is
read whole by the message checker, but the intent classifier only needs the
start). ``ChildTextAnnotator`` runs after the classifiers: it adds the detected
language and the metadata country as entities (slots are filled from them, so
domain responses use the right language even without the action server), turns
language requests and safe words into their intents, and applies the safety net:
a disclosure the patterns catch becomes ``disclose_problem`` whatever the
classifier said, so recall never rests on one classifier alone.
"""

from __future__ import annotations

import logging
from typing import Any

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from addons.semantic import READING
from bot import helplines, language
from bot.nlu_rules import annotate
from bot.normalise import collapse_repeated_words

logger = logging.getLogger(__name__)

FULL_TEXT = "lumi_full_text"


class _Untrained(GraphComponent):
    """A component with a config and nothing to train."""

    def __init__(self, config: dict[str, Any]) -> None:
        self.config = config

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> GraphComponent:
        return cls(config)

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        return training_data


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.MESSAGE_TOKENIZER], is_trainable=False)
class LongTextGuard(_Untrained):
    """Cuts the text the classifiers see to ``max_chars`` and runs of one word to
    three (the full text is kept for the safety net, the actions and the checker)."""

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {"max_chars": 1000}

    def __init__(self, config: dict[str, Any]) -> None:
        super().__init__(config)
        self.max_chars = int(config.get("max_chars", 1000))

    def process(self, messages: list[Message]) -> list[Message]:
        for message in messages:
            text = message.get("text")
            if not isinstance(text, str):
                continue
            short = text if text.startswith("/") else collapse_repeated_words(text)
            short = short[: self.max_chars]
            if short != text:
                message.data[FULL_TEXT] = text
                message.data["text"] = short
        return messages


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=False)
class ChildTextAnnotator(_Untrained):
    """Language, country, language requests, safe words and the safety net."""

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        # A disclosure the classifier ranks first with at least this confidence
        # counts even when the fallback classifier replaced it.
        return {"disclosure_min_confidence": 0.3}

    def __init__(self, config: dict[str, Any]) -> None:
        super().__init__(config)
        self.min_confidence = float(config.get("disclosure_min_confidence", 0.3))
        language.warm_up()
        helplines.directory()
        from bot.safeguarding import screen

        screen.warm_up()

    def process(self, messages: list[Message]) -> list[Message]:
        for message in messages:
            try:
                self._annotate(message)
            except Exception:  # never lose a message to a bug here
                logger.exception("annotating a message failed")
        return messages

    def _annotate(self, message: Message) -> None:
        full = message.data.pop(FULL_TEXT, None)
        if full is not None:
            # The classifiers have run on the start of a long text; the rest of the
            # conversation (actions, the message checker) reads it whole.
            message.data["text"] = full
        text = message.get("text") or ""
        intent = message.get("intent") or {}
        ranking = message.get("intent_ranking") or []
        result = annotate(
            text=text if isinstance(text, str) else "",
            metadata=message.get("metadata") or {},
            intent=str(intent.get("name") or ""),
            confidence=float(intent.get("confidence") or 0.0),
            ranking=[(str(r.get("name")), float(r.get("confidence") or 0.0)) for r in ranking],
            min_confidence=self.min_confidence,
            reading=message.data.pop(READING, None),
        )
        if result.intent and result.intent != intent.get("name"):
            new_intent = {"name": result.intent, "confidence": 1.0}
            message.set("intent", new_intent, add_to_output=True)
            others = [r for r in ranking if r.get("name") != result.intent]
            message.set("intent_ranking", [new_intent, *others], add_to_output=True)
        if result.entities:
            entities = list(message.get("entities") or [])
            for name, value in result.entities.items():
                entities.append(
                    {
                        "entity": name,
                        "value": value,
                        "start": 0,
                        "end": 0,
                        "extractor": self.__class__.__name__,
                    }
                )
            # set with add_to_output: Rasa only returns declared output properties
            message.set("entities", entities, add_to_output=True)
