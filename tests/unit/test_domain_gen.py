"""Domain responses are generated from locales/ and kept in sync."""

from __future__ import annotations

import yaml

from bot import domain_gen, helplines
from bot.safeguarding.reply import safeguard_messages


def test_committed_responses_are_in_sync_with_locales():
    assert domain_gen.main(["--check"]) == 0, "run `python -m bot.domain_gen`"


def _pick(variations, slots):
    """Rasa's rule: a matching conditional variation, else the default one."""
    matching = [
        v
        for v in variations
        if v.get("condition") and all(slots.get(c["name"]) == c["value"] for c in v["condition"])
    ]
    assert len(matching) <= 1, "conditions must not overlap"
    if matching:
        return matching[0]
    return next(v for v in variations if not v.get("condition"))


def test_every_language_country_and_level_gets_its_own_reply():
    responses = domain_gen.build()["responses"]
    for reply_lang in ("en", "fr", None):
        for country in [*helplines.countries(), None]:
            for level in ("concern", "danger"):
                slots = {"reply_language": reply_lang, "country": country, "safeguard_level": level}
                lang = reply_lang or "en"
                expected = safeguard_messages(lang, country, level)
                intro = _pick(responses["utter_safeguard_intro"], slots)
                steps = _pick(responses["utter_safeguard_steps"], slots)
                help_ = _pick(responses["utter_safeguard_help"], slots)
                assert intro["text"] == expected[0]["text"], slots
                assert steps["text"] == expected[1]["text"], slots
                assert help_["text"] == expected[2]["text"], slots
                assert help_["custom"] == expected[2]["custom"], slots
                assert help_["custom"]["lang"] == lang
                exit_ = _pick(responses["utter_quick_exit"], slots)
                assert exit_["text"] in ("OK.", "D'accord.")


def test_domain_stays_small_enough_to_load_fast():
    """Rasa validates the domain at every start; a huge file costs tens of seconds."""
    assert len(domain_gen.render()) < 250_000


def test_generated_file_parses_and_has_restart():
    data = yaml.safe_load(domain_gen.render())
    assert {"utter_quick_exit", *domain_gen.SAFEGUARD_PARTS} <= set(data["responses"])
