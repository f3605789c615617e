"""Domain responses are generated from locales/ and kept in sync."""

from __future__ import annotations

import itertools

import yaml

from bot import domain_gen, helplines
from bot.safeguarding.reply import LEVELS, safeguard_messages
from bot.safeguarding.topics import TOPICS

LANGS = ("en", "fr")
COUNTRIES = [*helplines.countries(), None]


def test_committed_responses_are_in_sync_with_locales():
    assert domain_gen.main(["--check"]) == 0, "run `python -m bot.domain_gen`"


def _pick(variations, slots):
    """Rasa's rule: a matching conditional variation, else the default one."""
    matching = [
        v
        for v in variations
        if v.get("condition") and all(slots.get(c["name"]) == c["value"] for c in v["condition"])
    ]
    assert len(matching) <= 1, f"conditions must not overlap: {slots}"
    if matching:
        return matching[0]
    return next(v for v in variations if not v.get("condition"))


def _filled(value):
    """What Rasa makes of a response string with no slot in it: doubled braces become single
    (rasa.core.nlg.interpolator.interpolate_text, checked against Rasa in tests/conversation)."""
    if isinstance(value, str):
        return value.format()
    if isinstance(value, list):
        return [_filled(v) for v in value]
    if isinstance(value, dict):
        return {k: _filled(v) for k, v in value.items()}
    return value


def _as_message(variation):
    return _filled({k: v for k, v in variation.items() if k != "condition"})


def test_every_language_country_level_and_topic_gets_its_own_first_reply():
    responses = domain_gen.build()["responses"]
    for lang, country, level, topic in itertools.product(LANGS, COUNTRIES, LEVELS, TOPICS):
        slots = {
            "reply_language": lang,
            "country": country,
            "safeguard_level": level,
            "safeguard_topic": topic,
        }
        expected = safeguard_messages(lang, country, level, topic)
        got = [_as_message(_pick(responses[name], slots)) for name in domain_gen.SAFEGUARD_PARTS]
        assert got == expected, slots
        exit_ = _as_message(_pick(responses[domain_gen.QUICK_EXIT], slots))
        assert exit_["custom"] == {"kind": "exit", "lang": lang}
        assert exit_["text"] in ("OK.", "D'accord.")


def test_button_payloads_survive_rasas_slot_filling():
    """``/set_country{"country":"FR"}`` is written with doubled braces (Rasa would
    otherwise read it as a slot and log an error per button)."""
    responses = domain_gen.build()["responses"]
    chips = [
        b["payload"] for v in responses["utter_safeguard_contacts"] for b in v.get("buttons") or []
    ]
    assert chips and all(p.startswith('/set_country{{"country":"') for p in chips)
    assert _filled('/set_country{{"country":"FR"}}') == '/set_country{"country":"FR"}'


def test_domain_stays_small_enough_to_load_fast():
    """Rasa validates the domain at every start; a huge file costs tens of seconds."""
    assert len(domain_gen.render()) < 250_000


def test_generated_file_parses_and_has_every_response():
    data = yaml.safe_load(domain_gen.render())
    expected = {domain_gen.QUICK_EXIT, *domain_gen.SAFEGUARD_PARTS}
    assert expected <= set(data["responses"])
