"""Story files are checked on load: each problem names the file and the step."""

from __future__ import annotations

import copy
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.paths import ROOT
from bot.stories import model, validate
from bot.stories.model import StoryError, load_stories

MINI: dict[str, Any] = {
    "id": "mini",
    "age_band": "8-10",
    "tactics": ["bribe"],
    "start": "a",
    "steps": {
        "a": {
            "tactic": "bribe",
            "choices": [
                {"id": "take", "next": "b", "safe": False, "strategy": "agree"},
                {"id": "no", "next": "b", "safe": True, "strategy": "refuse"},
            ],
        },
        "b": {"rehearsal": True, "tactic": None, "next": "end"},
        "end": {"end": True},
    },
}


def texts_for(story: dict[str, Any], lang: str) -> dict[str, Any]:
    steps: dict[str, Any] = {}
    for step_id, step in story["steps"].items():
        entry: dict[str, Any] = {"text": f"{lang} text", "coplay": f"{lang} question?"}
        if step.get("rehearsal"):
            entry["example"] = f"{lang} example"
        if step.get("choices"):
            entry["choices"] = {
                c["id"]: {"label": f"{lang} label", "feedback": f"{lang} feedback"}
                for c in step["choices"]
            }
        steps[step_id] = entry
    return {
        lang: {
            "title": f"{lang} title",
            "intro": f"{lang} intro",
            "character": "Sam",
            "recap": f"{lang} recap",
            "who_to_tell": f"{lang} who",
            "steps": steps,
        }
    }


def write(
    tmp_path: Path,
    story: dict[str, Any],
    *,
    name: str | None = None,
    locales: dict[str, Any] | None = None,
) -> tuple[Path, Path]:
    roleplay = tmp_path / "roleplay"
    locale_dir = tmp_path / "locales" / "stories"
    roleplay.mkdir(exist_ok=True)
    locale_dir.mkdir(parents=True, exist_ok=True)
    file_id = name or str(story["id"])
    (roleplay / f"{file_id}.yml").write_text(yaml.safe_dump(story), encoding="utf-8")
    for lang in ("en", "fr"):
        data = (locales or {}).get(lang) or texts_for(story, lang)
        (locale_dir / f"{file_id}.{lang}.yml").write_text(
            yaml.safe_dump(data, allow_unicode=True), encoding="utf-8"
        )
    return roleplay, tmp_path / "locales"


def errors_of(tmp_path: Path, story: dict[str, Any], **kwargs: Any) -> list[str]:
    roleplay, locales = write(tmp_path, story, **kwargs)
    with pytest.raises(StoryError) as caught:
        load_stories(roleplay, locales)
    return caught.value.errors


def mini() -> dict[str, Any]:
    return copy.deepcopy(MINI)


def assert_one(errors: list[str], *parts: str) -> None:
    hits = [e for e in errors if all(p in e for p in parts)]
    assert hits, f"no error with {parts} in {errors}"
    assert all("mini.yml" in e for e in hits)


def test_valid_story_loads(tmp_path: Path) -> None:
    roleplay, locales = write(tmp_path, mini())
    found = load_stories(roleplay, locales)
    story = found["mini"]
    assert story.start == "a" and story.steps["b"].kind == "rehearsal"
    assert [c.id for c in story.steps["a"].choices] == ["take", "no"]


def test_unknown_next_step(tmp_path: Path) -> None:
    story = mini()
    story["steps"]["a"]["choices"][1]["next"] = "nowhere"
    assert_one(errors_of(tmp_path, story), "step 'a'", "unknown next step 'nowhere'")


def test_unreachable_step(tmp_path: Path) -> None:
    story = mini()
    story["steps"]["lonely"] = {"end": True}
    assert_one(errors_of(tmp_path, story), "step 'lonely'", "unreachable")


def test_dead_end_and_loop(tmp_path: Path) -> None:
    story = mini()
    story["steps"]["a"]["choices"][0]["next"] = "c"
    story["steps"]["c"] = {
        "choices": [
            {"id": "x", "next": "d", "safe": True, "strategy": "refuse"},
            {"id": "y", "next": "d", "safe": False, "strategy": "agree"},
        ]
    }
    story["steps"]["d"] = {
        "choices": [
            {"id": "x", "next": "c", "safe": True, "strategy": "refuse"},
            {"id": "y", "next": "c", "safe": False, "strategy": "agree"},
        ]
    }
    errors = errors_of(tmp_path, story)
    assert_one(errors, "step 'c'", "dead end")
    assert_one(errors, "step 'd'", "dead end")
    assert_one(errors, "loops back")


@pytest.mark.parametrize("count", [1, 5])
def test_choice_count(tmp_path: Path, count: int) -> None:
    story = mini()
    strategies = ["refuse", "agree", "tell_adult", "ignore", "block_report"]
    story["steps"]["a"]["choices"] = [
        {"id": f"c{i}", "next": "b", "safe": True, "strategy": strategies[i]} for i in range(count)
    ]
    assert_one(errors_of(tmp_path, story), "step 'a'", f"has {count} choice(s)")


def test_missing_translation(tmp_path: Path) -> None:
    story = mini()
    french = texts_for(story, "fr")
    del french["fr"]["steps"]["a"]["choices"]["no"]["feedback"]
    del french["fr"]["recap"]
    errors = errors_of(tmp_path, story, locales={"fr": french})
    assert_one(
        errors, "step 'a'", "missing text 'stories.mini.steps.a.choices.no.feedback' in 'fr'"
    )
    assert_one(errors, "missing text 'stories.mini.recap' in 'fr'")
    assert not any("in 'en'" in e for e in errors)


def test_missing_rehearsal_example_and_unused_text(tmp_path: Path) -> None:
    story = mini()
    english = texts_for(story, "en")
    del english["en"]["steps"]["b"]["example"]
    english["en"]["steps"]["a"]["choices"]["typo"] = {"label": "x", "feedback": "y"}
    errors = errors_of(tmp_path, story, locales={"en": english})
    assert_one(errors, "step 'b'", "missing text 'stories.mini.steps.b.example' in 'en'")
    assert_one(errors, "step 'a'", "unused text 'stories.mini.steps.a.choices.typo.label'")


def test_unknown_tactic(tmp_path: Path) -> None:
    story = mini()
    story["steps"]["a"]["tactic"] = "mind_control"
    story["tactics"] = ["bribe", "mind_control"]
    errors = errors_of(tmp_path, story)
    assert_one(errors, "step 'a'", "unknown tactic 'mind_control'")
    assert_one(errors, "unknown tactic 'mind_control'")


def test_tactic_not_listed_or_never_shown(tmp_path: Path) -> None:
    story = mini()
    story["tactics"] = ["secrecy"]
    errors = errors_of(tmp_path, story)
    assert_one(errors, "step 'a'", "tactic 'bribe' is not listed")
    assert_one(errors, "tactic 'secrecy' is listed but no step shows it")


def test_unknown_strategy(tmp_path: Path) -> None:
    story = mini()
    story["steps"]["a"]["choices"][0]["strategy"] = "run_away"
    assert_one(errors_of(tmp_path, story), "step 'a'", "unknown strategy 'run_away'")


@pytest.mark.parametrize("band", ["5-7", "8-13", 10, None])
def test_bad_age_band(tmp_path: Path, band: object) -> None:
    story = mini()
    story["age_band"] = band
    assert_one(errors_of(tmp_path, story), "bad age band")


def test_duplicate_choice_ids_and_strategies(tmp_path: Path) -> None:
    story = mini()
    story["steps"]["a"]["choices"][1]["id"] = "take"
    story["steps"]["a"]["choices"][1]["strategy"] = "agree"
    errors = errors_of(tmp_path, story)
    assert_one(errors, "step 'a'", "duplicate choice id 'take'")
    assert_one(errors, "step 'a'", "two choices use strategy 'agree'")


def test_duplicate_step_ids(tmp_path: Path) -> None:
    roleplay, locales = write(tmp_path, mini())
    text = (roleplay / "mini.yml").read_text(encoding="utf-8")
    text = text.replace("  end:\n    end: true\n", "  end:\n    end: true\n  b:\n    end: true\n")
    (roleplay / "mini.yml").write_text(text, encoding="utf-8")
    with pytest.raises(StoryError) as caught:
        load_stories(roleplay, locales)
    assert_one(caught.value.errors, "'b' is defined twice")


def test_duplicate_story_ids(tmp_path: Path) -> None:
    write(tmp_path, mini())
    errors = errors_of(tmp_path, mini(), name="mini_copy")
    assert any("mini_copy.yml" in e and "must match the file name" in e for e in errors)


def test_no_safe_choice_and_missing_end(tmp_path: Path) -> None:
    story = mini()
    story["steps"]["a"]["choices"][1]["safe"] = False
    assert_one(errors_of(tmp_path, story), "step 'a'", "needs at least one safe choice")
    story = mini()
    story["steps"]["b"] = {
        "choices": [
            {"id": "x", "next": "a", "safe": True, "strategy": "refuse"},
            {"id": "y", "next": "a", "safe": False, "strategy": "agree"},
        ]
    }
    del story["steps"]["end"]
    assert_one(errors_of(tmp_path, story), "has no end step")


def test_all_errors_are_reported_together(tmp_path: Path) -> None:
    story = mini()
    story["age_band"] = "old"
    story["steps"]["a"]["choices"][0]["strategy"] = "dance"
    story["steps"]["b"]["next"] = "nope"
    errors = errors_of(tmp_path, story)
    assert len(errors) >= 3


def test_bad_strategies_file(tmp_path: Path) -> None:
    roleplay, locales = write(tmp_path, mini())
    source = (ROOT / "data" / "roleplay" / "strategies.yml").read_text(encoding="utf-8")
    (roleplay / "strategies.yml").write_text(
        source.replace("'\\bignor\\w*\\b'", "'\\bignor(\\w*\\b'", 1), encoding="utf-8"
    )
    with pytest.raises(StoryError) as caught:
        load_stories(roleplay, locales)
    assert "strategies.yml" in str(caught.value) and "bad pattern" in str(caught.value)


def test_project_stories_are_valid() -> None:
    found = load_stories()
    files = {p.stem for p in model.ROLEPLAY_DIR.glob("*.yml")} - {"strategies"}
    assert set(found) == files
    assert set(found) >= {"follower_bribe", "skin_gift", "genuine_friend"}
    locales = ROOT / "locales" / "stories"
    for story_id in found:
        for lang in ("en", "fr"):
            assert (locales / f"{story_id}.{lang}.yml").is_file(), (story_id, lang)


def test_validate_command_ok() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "bot.stories.validate"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(f"ok: {len(load_stories())} stories, ")


def test_validate_command_reports_problems(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    story = mini()
    story["steps"]["a"]["choices"][0]["next"] = "nowhere"
    roleplay, locales = write(tmp_path, story)
    monkeypatch.setattr(model, "ROLEPLAY_DIR", roleplay)
    monkeypatch.setattr(model, "LOCALES_DIR", locales)
    assert validate.main() == 1
    err = capsys.readouterr().err
    assert "mini.yml: step 'a': unknown next step 'nowhere'" in err


# --- the message mock-ups and "spot the trick" (issue 20): all optional -----------


def with_messages(story: dict[str, Any], lang: str, **step_texts: Any) -> dict[str, Any]:
    data = texts_for(story, lang)
    data[lang].update(sender="Max_Gamer", app_name=f"{lang} chat", picture=f"{lang} picture")
    data[lang]["steps"]["a"].update(step_texts)
    return data


def test_a_story_without_chat_or_messages_still_loads(tmp_path: Path) -> None:
    """Stories written before the mock-ups validate unchanged (defaults apply)."""
    roleplay, locales = write(tmp_path, mini())
    story = load_stories(roleplay, locales)["mini"]
    assert story.chat == model.Chat()
    assert story.time_of(story.steps["a"]) == model.DEFAULT_START_TIME
    assert story.time_of(story.steps["b"]) == "16:33"


def test_chat_messages_and_spots_load(tmp_path: Path) -> None:
    story = mini()
    story["chat"] = {"app": "dm", "avatar": "teal", "start": "17:58"}
    story["steps"]["b"]["chat"] = {"time": "18:30", "app": "group", "avatar": "green"}
    locales = {
        lang: with_messages(
            story, lang, message=f"{lang}: free gems for you!", spot={"bribe": "free gems|for you"}
        )
        for lang in ("en", "fr")
    }
    roleplay, locale_dir = write(tmp_path, story, locales=locales)
    loaded = load_stories(roleplay, locale_dir)["mini"]
    assert loaded.chat == model.Chat(app="dm", avatar="teal", start="17:58")
    assert loaded.time_of(loaded.steps["a"]) == "17:58"
    assert loaded.time_of(loaded.steps["b"]) == "18:30"
    assert (loaded.steps["b"].app, loaded.steps["b"].avatar) == ("group", "green")
    assert (loaded.steps["a"].app, loaded.steps["a"].avatar) == (None, None)


def test_bad_chat_fields(tmp_path: Path) -> None:
    story = mini()
    story["chat"] = {"app": "tiktok", "avatar": "gold", "start": "25:00", "colour": 1}
    story["steps"]["a"]["chat"] = {"app": "fax", "time": 930, "avatar": "gold", "start": "9:00"}
    errors = errors_of(tmp_path, story)
    assert_one(errors, "unknown app 'tiktok'")
    assert_one(errors, "unknown avatar 'gold'")
    assert_one(errors, "start must be a time")
    assert_one(errors, "chat: unknown field 'colour'")
    assert_one(errors, "step 'a'", "unknown app 'fax'")
    assert_one(errors, "step 'a'", "time must be like")
    assert_one(errors, "step 'a'", "unknown avatar 'gold'")
    assert_one(errors, "step 'a'", "chat: unknown field 'start'")


def test_spot_phrases_must_be_in_the_message_and_a_taught_trick(tmp_path: Path) -> None:
    story = mini()
    locales = {
        "en": with_messages(
            story, "en", message="free gems!", spot={"bribe": "free gems|a present", "threat": "x"}
        ),
        "fr": with_messages(story, "fr", spot={"bribe": "gemmes"}),
    }
    errors = errors_of(tmp_path, story, locales=locales)
    assert_one(errors, "step 'a'", "'a present' is not in the step's message")
    assert_one(errors, "step 'a'", "spot.threat in 'en': not a trick this story teaches")
    assert_one(errors, "step 'a'", "spot.bribe in 'fr': the step has no 'message'")
