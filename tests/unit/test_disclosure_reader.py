"""The disclosure reader (bot/safeguarding/meaning.py) and its Rasa adapters (addons/semantic)."""

from __future__ import annotations

import socket

import pytest

from bot.safeguarding import meaning

TRAIN = [
    ("he says he will send my pics to everyone unless i pay", "sextortion"),
    ("il va publier mes photos si je paye pas", "sextortion"),
    ("she wants more videos or she posts the first one", "sextortion"),
    ("elle veut de largent sinon elle montre ma video", "sextortion"),
    ("i dont want to live anymore", "self_harm"),
    ("je veux plus vivre", "self_harm"),
    ("i keep hurting myself", "self_harm"),
    ("je me fais du mal", "self_harm"),
    ("a man online keeps asking for photos of me", "online"),
    ("un homme en ligne me demande des photos", "online"),
    ("he told me to keep our chat secret", "online"),
    ("il ma dit de garder notre conversation secrete", "online"),
    ("we had pasta for lunch", "none"),
    ("on a mange des pates a midi", "none"),
    ("i love my dog", "none"),
    ("jadore mon chien", "none"),
    ("i scored a goal today", "none"),
    ("jai marque un but", "none"),
    ("he wants her photo", "mention"),
    ("il veut sa photo a elle", "mention"),
]


@pytest.fixture(scope="module")
def reader() -> meaning.Reader:
    return meaning.train([t for t, _ in TRAIN], [label for _, label in TRAIN])


def test_it_reads_meaning_across_languages(reader):
    threat, lunch = reader.read(
        ["hes threatening to post my pictures unless i pay", "we ate pizza"]
    )
    assert threat.disclosure > lunch.disclosure
    assert threat.danger > 0.5 * threat.disclosure
    assert lunch.disclosure < 0.5


def test_an_empty_message_reads_as_nothing(reader):
    assert reader.read_one("   ") == meaning.NOTHING


def test_round_trip_without_pickle(reader):
    again = meaning.Reader.loads(reader.dumps())
    text = "il menace de publier mes photos"
    assert again.read_one(text) == reader.read_one(text)


def test_a_stored_reader_of_another_version_is_refused(reader, monkeypatch):
    data = reader.dumps()
    monkeypatch.setattr(meaning, "VERSION", "0")
    with pytest.raises(ValueError):
        meaning.Reader.loads(data)


@pytest.mark.parametrize(
    ("intent", "category", "text", "label"),
    [
        ("greet", None, "hi", "none"),
        ("mention_risk", None, "he wants her address", "mention"),
        ("disclose_problem", "worry", "im scared of my dad", "worry"),
        ("disclose_problem", None, "i want to kill myself", "self_harm"),
        ("disclose_problem", None, "he is blackmailing me with a photo", "sextortion"),
        ("disclose_problem", None, "he asked for my address", "online"),
        ("disclose_problem", "nonsense", "he asked for my address", "online"),
    ],
)
def test_training_labels(intent, category, text, label):
    assert meaning.label(intent, category, text) == label


# ------------------------------------------------------------ Rasa adapters


@pytest.fixture
def no_network(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("a component tried to open a network connection")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)


def _context(name: str):
    from rasa.engine.graph import ExecutionContext, GraphSchema

    return ExecutionContext(GraphSchema({}), node_name=name)


def test_the_featurizer_gives_a_sentence_feature_from_the_installed_encoder(no_network, tmp_path):
    from rasa.engine.storage.local_model_storage import LocalModelStorage
    from rasa.engine.storage.resource import Resource
    from rasa.shared.nlu.training_data.message import Message

    from addons.semantic import SentenceEncoderFeaturizer
    from bot import semantic

    featurizer = SentenceEncoderFeaturizer.create(
        SentenceEncoderFeaturizer.get_default_config(),
        LocalModelStorage(tmp_path),
        Resource("featurizer"),
        _context("featurizer"),
    )
    messages = [Message(data={"text": "he wants pics of me"}), Message(data={"text": "/start"})]
    featurizer.process(messages)
    sequence, sentence = messages[0].get_dense_features("text")
    assert sequence is None
    assert sentence is not None and sentence.features.shape == (1, semantic.DIMENSIONS)
    assert messages[1].get_dense_features("text") == (None, None)  # payloads are not read


def test_the_reader_component_trains_persists_and_loads(no_network, tmp_path):
    from rasa.engine.storage.local_model_storage import LocalModelStorage
    from rasa.engine.storage.resource import Resource
    from rasa.shared.nlu.training_data.message import Message
    from rasa.shared.nlu.training_data.training_data import TrainingData

    from addons.semantic import READING, DisclosureReader

    storage = LocalModelStorage(tmp_path)
    resource = Resource("reader")
    examples = []
    for text, label in TRAIN:
        intent = {"none": "share_everyday", "mention": "mention_risk"}.get(
            label, "disclose_problem"
        )
        metadata = {"intent": {"category": label}} if intent == "disclose_problem" else {}
        examples.append(Message(data={"text": text, "intent": intent, "metadata": metadata}))
    component = DisclosureReader.create({}, storage, resource, _context("reader"))
    component.train(TrainingData(training_examples=examples))
    loaded = DisclosureReader.load({}, storage, resource, _context("reader"))
    message = Message(data={"text": "je veux plus vivre du tout"})
    loaded.process([message])
    reading = meaning.Reading.from_dict(message.get(READING))
    assert reading is not None and reading.category == "self_harm"
