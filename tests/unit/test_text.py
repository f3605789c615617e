"""Every word comes from locales/, complete in both languages."""

from __future__ import annotations

import re

import pytest

from bot import text as texts
from bot.paths import LOCALES_DIR

PLACEHOLDER = re.compile(r"%\{(\w+)\}")


def test_every_key_exists_in_both_languages():
    table = texts.read_locale_files()
    only_en = sorted(set(table["en"]) - set(table["fr"]))
    only_fr = sorted(set(table["fr"]) - set(table["en"]))
    assert not only_en, f"keys missing in French: {only_en[:20]}"
    assert not only_fr, f"keys missing in English: {only_fr[:20]}"


def test_placeholders_match_between_languages():
    table = texts.read_locale_files()
    for key, en_value in table["en"].items():
        fr_value = table["fr"][key]
        if isinstance(en_value, str) and isinstance(fr_value, str):
            assert set(PLACEHOLDER.findall(en_value)) == set(PLACEHOLDER.findall(fr_value)), key


def test_no_empty_text():
    table = texts.read_locale_files()
    for lang, entries in table.items():
        for key, value in entries.items():
            assert value not in (None, ""), f"{lang}:{key} is empty"


def test_lookup_and_placeholders():
    assert texts.t("menu.language_set", "fr").startswith("D'accord")
    assert "France" in texts.t("menu.country_set", "en", country="France")


def test_unknown_key_raises():
    with pytest.raises(KeyError):
        texts.t("menu.no_such_key", "en")


def test_unknown_language_falls_back_to_english():
    assert texts.t("menu.exit", "de") == texts.t("menu.exit", "en")


def test_bad_locale_file_is_rejected(tmp_path):
    (tmp_path / "menu.en.yml").write_text("fr:\n  a: b\n", encoding="utf-8")
    with pytest.raises(ValueError, match="root key"):
        texts.read_locale_files(tmp_path)
    (tmp_path / "menu.en.yml").unlink()
    (tmp_path / "menu.de.yml").write_text("de:\n  a: b\n", encoding="utf-8")
    with pytest.raises(ValueError, match="named"):
        texts.read_locale_files(tmp_path)


def test_locale_files_are_all_named_by_language():
    for path in LOCALES_DIR.rglob("*.yml"):
        assert path.name.split(".")[1] in texts.LANGUAGES, path
