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


@pytest.mark.parametrize("country", sorted(EXPECTED))
def test_danger_puts_emergency_first(country):
    first = helplines.for_country(country, "danger")[0]
    assert first.kind == "emergency"
    intro = safeguard_messages("en", country, "danger")[0]["text"]
    assert intro.startswith("If you are in danger right now, call " + first.phone)


def test_unknown_country_gets_international_help_and_is_asked_for():
    assert [h.id for h in helplines.for_country("DE")] == [
        "int_take_it_down",
        "int_child_helpline_international",
    ]
    last = safeguard_messages("fr", "DE", "concern")[-1]
    assert "Dans quel pays" in last["text"] and len(last["buttons"]) == 9
    assert last["custom"]["country"] is None


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
