"""The semantic layer inside the Rasa pipeline (docs/safeguarding.md).

``SentenceEncoderFeaturizer`` gives every message a dense sentence feature:
its embedding by the multilingual sentence encoder (``bot.semantic``), so DIET
reads meaning as well as words. ``DisclosureReader`` is the dedicated
disclosure model on the same embeddings (``bot.safeguarding.meaning``): it is
trained with the Rasa model from the NLU examples, kept inside the model
archive, and leaves its reading on the message for ``ChildTextAnnotator``,
which weighs it with the safety net and the intent (``bot.nlu_rules``).
Both are thin adapters: the models are plain Python in ``bot/``.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.featurizers.dense_featurizer.dense_featurizer import DenseFeaturizer
from rasa.nlu.tokenizers.tokenizer import Tokenizer
from rasa.shared.nlu.constants import INTENT, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot import semantic
from bot.safeguarding import meaning

logger = logging.getLogger(__name__)

# Where the reading is left on the message (read and removed by ChildTextAnnotator).
READING = "lumi_reading"
READER_FILE = "disclosure_reader.skops"


def _texts(messages: list[Message]) -> tuple[list[int], list[str]]:
    """Indices and texts of the messages that have a text to read."""
    indices, texts = [], []
    for index, message in enumerate(messages):
        text = message.get(TEXT)
        if isinstance(text, str) and text.strip() and not text.startswith("/"):
            indices.append(index)
            texts.append(text)
    return indices, texts


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER], is_trainable=False)
class SentenceEncoderFeaturizer(DenseFeaturizer, GraphComponent):
    """A sentence feature per message: its multilingual sentence embedding.

    Only the sentence feature: with no transformer layers and no entity
    recognition, DIET reads sentence features alone."""

    @classmethod
    def required_components(cls) -> list[type]:
        return [Tokenizer]

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {**DenseFeaturizer.get_default_config()}

    @classmethod
    def validate_config(cls, config: dict[str, Any]) -> None:
        """Nothing to check: the encoder ships inside its package."""

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> SentenceEncoderFeaturizer:
        return cls(name=execution_context.node_name, config=config)

    def __init__(self, name: str, config: dict[str, Any]) -> None:
        super().__init__(name=name, config=config)
        semantic.warm_up()

    def _featurize(self, messages: list[Message]) -> None:
        indices, texts = _texts(messages)
        vectors = semantic.embed(texts) if texts else np.zeros((0, semantic.DIMENSIONS))
        for index, vector in zip(indices, vectors, strict=True):
            self.add_features_to_message(
                sequence=None,
                sentence=vector.reshape(1, -1).astype(np.float32),
                attribute=TEXT,
                message=messages[index],
            )

    def process(self, messages: list[Message]) -> list[Message]:
        self._featurize(messages)
        return messages

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        self._featurize(training_data.training_examples)
        return training_data


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=True)
class DisclosureReader(GraphComponent):
    """Is this a real-life disclosure, and of what: the dedicated model."""

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {}

    def __init__(
        self,
        model_storage: ModelStorage,
        resource: Resource,
        reader: meaning.Reader | None = None,
    ) -> None:
        self._model_storage = model_storage
        self._resource = resource
        self.reader = reader

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> DisclosureReader:
        return cls(model_storage, resource)

    @classmethod
    def load(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> DisclosureReader:
        try:
            with model_storage.read_from(resource) as model_dir:
                data = (model_dir / READER_FILE).read_bytes()
            reader = meaning.Reader.loads(data)
        except (ValueError, OSError) as error:
            # Without the reader the net and the intent still run: say so loudly.
            logger.error("The disclosure reader could not be loaded (%s).", error)
            reader = None
        semantic.warm_up()
        return cls(model_storage, resource, reader)

    def train(self, training_data: TrainingData) -> Resource:
        texts, labels = [], []
        for example in training_data.intent_examples:
            text, intent = example.get(TEXT), example.get(INTENT)
            if not (isinstance(text, str) and text.strip() and intent):
                continue
            metadata = example.get("metadata") or {}
            intent_meta = metadata.get("intent") if isinstance(metadata, dict) else None
            intent_meta = intent_meta if isinstance(intent_meta, dict) else {}
            texts.append(text)
            labels.append(
                meaning.label(
                    str(intent),
                    intent_meta.get("category"),
                    text,
                    announce=str(intent_meta.get("announce")).lower() == "true",
                )
            )
        self.reader = meaning.train(texts, labels)
        with self._model_storage.write_to(self._resource) as model_dir:
            (model_dir / READER_FILE).write_bytes(self.reader.dumps())
        return self._resource

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        return training_data

    def process(self, messages: list[Message]) -> list[Message]:
        if self.reader is None:
            return messages
        indices, texts = _texts(messages)
        if not texts:
            return messages
        try:
            readings = self.reader.read(texts)
        except Exception:  # never lose a message to the reader
            logger.exception("the disclosure reader failed")
            return messages
        for index, reading in zip(indices, readings, strict=True):
            messages[index].set(READING, reading.as_dict())
        return messages
