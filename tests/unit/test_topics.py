"""The topic of a disclosure decides the shape of the reply (bot/safeguarding/topics.py)."""

import pytest

from bot.safeguarding.topics import TOPICS, topic_of


@pytest.mark.parametrize(
    ("categories", "online", "topic"),
    [
        (("photo_request", "secrecy"), None, "online"),
        (("sextortion", "threat"), None, "sextortion"),
        (("self_harm",), None, "self_harm"),
        (("sextortion", "self_harm"), None, "self_harm_sextortion"),
        (("worry",), None, "worry"),
        (("worry", "photo_request"), None, "online"),
        (("abuse",), False, "worry"),
        (("abuse",), True, "online"),
        ((), None, "online"),
    ],
)
def test_topic_of(categories, online, topic):
    assert topic_of(categories, online=online) == topic
    assert topic in TOPICS


def test_topics_match_the_domain_slot():
    import yaml

    from bot.paths import DOMAIN_DIR

    core = yaml.safe_load((DOMAIN_DIR / "core.yml").read_text(encoding="utf-8"))
    assert tuple(core["slots"]["safeguard_topic"]["values"]) == TOPICS
