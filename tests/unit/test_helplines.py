"""The helpline directory: every country right, sources and dates, staleness check."""

from __future__ import annotations

import datetime as dt

import pytest

from bot import helplines
from bot.helplines_check import main as check_main
from bot.safeguarding.reply import safeguard_messages

EXPECTED = {
    # country: phones that must be listed, phones that must never be
    "FR": ({"3018", "119", "3114", "17", "112"}, {"116 111"}),
    "BE": ({"116 000", "103", "102", "112", "101"}, set()),
    "CH": ({"147", "143", "117", "112"}, set()),
    "CA": ({"1-800-668-6868", "1 800 263-2266", "988", "911", "1-866-658-9022"}, set()),
    "LU": ({"116 111", "8002 1234", "113", "112"}, set()),
    "GB": ({"0800 1111", "0808 800 5000", "999"}, {"116 111"}),
    "IE": ({"1800 66 66 66", "112 / 999"}, set()),
    "US": ({"1-800-422-4453", "1-800-843-5678", "988", "911"}, set()),
    "AU": ({"1800 55 1800", "000"}, set()),
}


def test_every_country_of_the_reference_is_covered():
    assert set(helplines.countries()) == set(EXPECTED)


@pytest.mark.parametrize("country", sorted(EXPECTED))
@pytest.mark.parametrize("lang", ["en", "fr"])
def test_each_country_lists_its_helplines(country, lang):
    must, never = EXPECTED[country]
    payloads = helplines.payloads(country, lang)
    phones = {p["phone"] for p in payloads}
    assert must <= phones, must - phones
    assert not (never & phones)
    for p in payloads:
        assert set(p) == {"name", "phone", "sms", "url", "hours", "for", "source", "verified"}
        assert p["name"] and p["hours"] and p["for"]
        assert p["source"].startswith("https://")
        dt.date.fromisoformat(p["verified"])
    # every country ends with the international entries (Take It Down)
    assert payloads[-2]["url"] == "https://takeitdown.ncmec.org"


def test_main_helpline_per_country():
    assert helplines.main_helpline("FR").phone == "3018"
    assert helplines.main_helpline("GB").phone == "0800 1111"
    assert helplines.main_helpline(None).id == "int_child_helpline_international"


# The crisis line(s) a child in danger gets first after the emergency numbers (issue 15).
CRISIS = {
    "FR": ["3114"],
    "BE": ["0800 32 123"],
    "CH": ["147"],
    "CA": ["988", "1-800-668-6868"],
    "LU": ["454545"],
    "GB": ["116 123"],
    "IE": ["116 123"],
    "US": ["988"],
    "AU": ["13 11 14", "1800 55 1800"],
}


def test_every_country_has_its_crisis_lines():
    assert set(CRISIS) == set(EXPECTED)
    for country, phones in CRISIS.items():
        assert [h.phone for h in helplines.crisis(country)] == phones, country


@pytest.mark.parametrize("country", sorted(EXPECTED))
def test_danger_puts_emergency_then_crisis_first(country):
    phones = [h["phone"] for h in helplines_of(safeguard_messages("en", country, "danger"))]
    emergency = [h.phone for h in helplines.emergency(country)]
    assert phones[: len(emergency)] == emergency
    assert phones[len(emergency) : len(emergency) + len(CRISIS[country])] == CRISIS[country]
    contacts = safeguard_messages("en", country, "danger")[1]["text"]
    assert contacts.startswith("If you are in danger right now, call " + emergency[0])


def helplines_of(messages):
    return [h for m in messages if m.get("custom") for h in m["custom"]["helplines"]]


def test_new_entries_name_their_source_and_date():
    for entry_id in ("be_cps", "lu_sos_detresse", "gb_samaritans", "ie_samaritans", "au_lifeline"):
        entry = helplines.by_id(entry_id)
        assert entry.kind == "crisis" and entry.source.startswith("https://")
        assert entry.verified >= dt.date(2026, 12, 6)


def test_unknown_country_gets_international_help_and_is_asked_for():
    assert [h.id for h in helplines.for_country("DE")] == [
        "int_take_it_down",
        "int_child_helpline_international",
    ]
    contacts = safeguard_messages("fr", "DE", "concern")[1]
    assert "Dans quel pays" in contacts["text"] and len(contacts["buttons"]) == 9
    payload = safeguard_messages("fr", "DE", "concern")[2]["custom"]
    assert payload["country"] is None
    # the international directory, not an image-removal service for a child who spoke of no image
    assert [h["url"] for h in payload["helplines"]] == ["https://childhelplineinternational.org"]


def test_stale_entries_are_listed(capsys):
    assert check_main(["--today", "2026-11-23"]) == 0
    assert check_main(["--today", "2028-01-01"]) == 1
    out = capsys.readouterr().out
    assert "fr_3018 (FR): verified 2026-11-01" in out


def test_country_from_text():
    assert helplines.country_from_text("je suis en belgique") == "BE"
    assert helplines.country_from_text("i live in the uk") == "GB"
    assert helplines.country_from_text("jhabite au quebec") == "CA"
    assert helplines.country_from_text("germany") is None
