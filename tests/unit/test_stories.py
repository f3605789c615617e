"""The story engine through its public functions, every path, both languages."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from typing import Any

import pytest
import yaml

from bot import stories
from bot import text as texts
from bot.conversation import Reply
from bot.paths import ROOT
from bot.stories import engine, model
from bot.stories.model import AGE_BANDS, ROLEPLAY_DIR, SHOW_EXAMPLE, Story, get_story
from bot.tactics import TACTICS
from tests.conftest import make_turn

LANGS = ("en", "fr")
# Every story of data/roleplay/, found by the loader (a new story is tested
# without touching this file).
STORY_IDS = tuple(sorted(stories.stories()))
MIN_STORIES = 10
MIN_DECISIONS, MAX_DECISIONS = 4, 8
KEY_LIKE = re.compile(r"\b(stories|story_ui|quiz|tactics|helplines)\.[a-z0-9_]+\.")
MAX_DEPTH = 30


def base_slots(lang: str, **extra: Any) -> dict[str, Any]:
    return {"language": lang, "language_locked": True, **extra}


def play(slots: dict[str, Any], handler: Any, *args: Any, text: str = "") -> tuple[dict, Reply]:
    reply = handler(make_turn(text=text, **slots), *args)
    check_reply(reply)
    return {**slots, **reply.slots}, reply


def check_reply(reply: Reply) -> None:
    assert reply.messages, "a reply always says something"
    for message in reply.messages:
        if "text" in message:
            assert message["text"].strip(), "empty text"
            assert not KEY_LIKE.search(message["text"]), f"untranslated: {message['text']}"
            assert "%{" not in message["text"]
        for button in message.get("buttons", []):
            assert button["title"].strip() and button["payload"].startswith("/")
            assert not KEY_LIKE.search(button["title"])


def buttons(reply: Reply, intent: str | None = None) -> list[dict[str, str]]:
    found = [b for m in reply.messages for b in m.get("buttons", [])]
    if intent is None:
        return found
    return [b for b in found if b["payload"].split("{", 1)[0] == f"/{intent}"]


def entities_of(button: dict[str, str]) -> dict[str, Any]:
    _, _, body = button["payload"].partition("{")
    return json.loads("{" + body) if body else {}


def walk(lang: str, story_id: str, **extra: Any) -> list[tuple[list[str], Reply, dict]]:
    """Every path through a story by its buttons: (choices, final reply, final slots)."""
    slots, reply = play(base_slots(lang, **extra), stories.start_story, story_id)
    story = get_story(story_id)
    assert story is not None
    finished: list[tuple[list[str], Reply, dict]] = []

    def explore(slots: dict[str, Any], reply: Reply, path: list[str]) -> None:
        assert len(path) < MAX_DEPTH
        state = slots.get("story")
        if state is None:
            finished.append((path, reply, slots))
            return
        assert slots["mode"] == "story"
        step = story.steps[state["step"]]
        choice_buttons = buttons(reply, "story_choice")
        if step.kind == "choice":
            assert len(choice_buttons) >= 2
            assert [entities_of(b)["choice"] for b in choice_buttons] == [
                c.id for c in step.choices
            ]
        else:
            assert [entities_of(b)["choice"] for b in choice_buttons] == [SHOW_EXAMPLE]
        for button in choice_buttons:
            entities = entities_of(button)
            assert entities["story_id"] == story_id and entities["step"] == step.id
            next_slots, next_reply = play(slots, stories.choose, entities)
            explore(next_slots, next_reply, [*path, entities["choice"]])

    explore(slots, reply, [])
    return finished


def met_on_path(story: Story, path: list[str]) -> set[str]:
    """The tricks of the steps a path of choice ids went through."""
    met, step_id = set(), story.start
    for choice_id in path:
        step = story.steps[step_id]
        if step.tactic:
            met.add(step.tactic)
        step_id = str(step.next) if step.kind == "rehearsal" else step.choice(choice_id).next  # type: ignore[union-attr]
    return met


# --- listing ------------------------------------------------------------------


@pytest.mark.parametrize("lang", LANGS)
def test_list_stories_payload_and_buttons(lang: str) -> None:
    _, reply = play(base_slots(lang), stories.list_stories)
    [listing] = reply.payloads("story_list")
    assert listing["lang"] == lang
    assert {s["id"] for s in listing["stories"]} == set(STORY_IDS)
    for item in listing["stories"]:
        assert item["title"] and set(item["tactics"]) <= set(TACTICS)
    starts = buttons(reply, "start_story")
    assert [entities_of(b)["story_id"] for b in starts] == [s["id"] for s in listing["stories"]]
    for button, story in zip(starts, listing["stories"], strict=True):
        band = get_story(story["id"]).age_band  # type: ignore[union-attr]
        assert band in button["title"]
    assert buttons(reply, "coplay")


def test_same_story_ids_in_both_languages() -> None:
    lists = [
        play(base_slots(lang), stories.list_stories)[1].payloads("story_list")[0] for lang in LANGS
    ]
    ids = [[s["id"] for s in found["stories"]] for found in lists]
    assert ids[0] == ids[1]
    assert sorted(ids[0]) == sorted(STORY_IDS)
    for english, french in zip(lists[0]["stories"], lists[1]["stories"], strict=True):
        assert english["title"] != french["title"], english["id"]
        assert english["tactics"] == french["tactics"]


def test_at_least_ten_stories() -> None:
    assert len(STORY_IDS) >= MIN_STORIES
    assert len(set(STORY_IDS)) == len(STORY_IDS)


# The three shapes of issue 22 and what each must teach; the livestream also
# has a version for the younger band.
ISSUE_22 = {
    "recorded_call": ("11-13", {"threat", "photo_request"}),
    "live_gifts": ("11-13", {"bribe", "app_switch"}),
    "live_coins": ("8-10", {"bribe", "app_switch"}),
    "group_chat": ("11-13", {"secrecy", "app_switch", "personal_info"}),
}


@pytest.mark.parametrize("lang", LANGS)
def test_the_recorded_call_the_live_and_the_group_chat_are_listed_with_their_tactics(
    lang: str,
) -> None:
    _, reply = play(base_slots(lang), stories.list_stories)
    listed = {s["id"]: s for s in reply.payloads("story_list")[0]["stories"]}
    assert len(listed) == 15
    for story_id, (band, tactics) in ISSUE_22.items():
        assert tactics <= set(listed[story_id]["tactics"]), story_id
        assert listed[story_id]["title"] == texts.t(f"stories.{story_id}.title", lang)
        assert get_story(story_id).age_band == band  # type: ignore[union-attr]


# What works against sextortion, in the words every story teaching `threat` says.
WHAT_WORKS_AGAINST_THREATS = {
    "en": (
        "don't pay",
        "stop replying",
        "screenshots",
        "report",
        "same day",
        "never their fault",
        "can be stopped",
    ),
    "fr": (
        "ne pas payer",
        "ne plus répondre",
        "captures d'écran",
        "signaler",
        "jour même",
        "jamais sa faute",
        "ça peut s'arrêter",
    ),
}


@pytest.mark.parametrize("lang", LANGS)
def test_the_recorded_call_ends_with_what_works_on_every_path(lang: str) -> None:
    """Every ending of the sextortion story passes through the grown-up's words
    (not your fault, it can be stopped) and the screenshots step, and says what
    works (don't pay, stop replying, keep screenshots, report, tell the same
    day), whichever tricks the path met; its recap, which names all three
    tricks, only on the paths that met them all."""
    story = get_story("recorded_call")
    assert story is not None
    what_works = texts.t("stories.recorded_call.what_works", lang)
    recap = texts.t("stories.recorded_call.recap", lang)
    paths = walk(lang, "recorded_call")
    partial = 0
    for path, reply, _slots in paths:
        said = " ".join(m.get("text", "") for m in reply.messages)
        assert what_works in said, path
        assert "screenshots" in path or "delete_all" in path, path  # the help step
        assert path[-1] in {c.id for c in story.steps["again"].choices}, path
        met = met_on_path(story, path)
        assert (recap in said) == (met == set(story.tactics)), path
        partial += met != set(story.tactics)
    assert 0 < partial < len(paths)  # both kinds of path are walked
    words = WHAT_WORKS_AGAINST_THREATS[lang]
    for word in words:
        assert word in what_works.lower(), word
    help_text = texts.t("stories.recorded_call.steps.help.text", lang).lower()
    assert ("not your fault" if lang == "en" else "pas ta faute") in help_text


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("band", AGE_BANDS)
def test_the_age_band_filters_the_story_list(lang: str, band: str) -> None:
    _, reply = play(base_slots(lang, age_band=band), stories.list_stories)
    ids = [s["id"] for s in reply.payloads("story_list")[0]["stories"]]
    wanted = sorted(i for i in STORY_IDS if get_story(i).age_band == band)  # type: ignore[union-attr]
    assert ids == wanted and 0 < len(ids) < len(STORY_IDS)
    assert reply.texts[-1] == texts.t("story_ui.list.title_band", lang, band=band)
    [other] = [b for b in AGE_BANDS if b != band]
    listed = buttons(reply, "list_stories")
    assert listed == [
        {
            "title": texts.t("story_ui.list.other_band", lang, band=other),
            "payload": f'/list_stories{{"age_band":"{other}"}}',
        }
    ]
    # the other band's button lists the other band's stories (the slot is unchanged)
    slots, reply = play(base_slots(lang, age_band=band), stories.list_stories, other)
    ids = [s["id"] for s in reply.payloads("story_list")[0]["stories"]]
    assert ids and all(get_story(i).age_band == other for i in ids)  # type: ignore[union-attr]
    assert slots["age_band"] == band


def test_without_age_band_every_story_is_listed() -> None:
    _, reply = play(base_slots("en", age_band="5-7"), stories.list_stories, "nope")
    ids = [s["id"] for s in reply.payloads("story_list")[0]["stories"]]
    assert sorted(ids) == sorted(STORY_IDS)
    bands = [get_story(i).age_band for i in ids]  # type: ignore[union-attr]
    assert bands == sorted(bands, key=AGE_BANDS.index)  # the younger band first
    assert not buttons(reply, "list_stories")


# --- every path -----------------------------------------------------------------


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("story_id", STORY_IDS)
def test_every_path_ends_with_a_recap(lang: str, story_id: str) -> None:
    paths = walk(lang, story_id)
    assert len(paths) >= 2
    story = get_story(story_id)
    assert story is not None
    door = texts.t(
        "story_ui.recap.door_open" if story.tactics else "story_ui.recap.door_open_no_trick", lang
    )
    decision_counts = []
    for path, reply, slots in paths:
        [end] = reply.payloads("story_end")
        assert end == {
            "kind": "story_end",
            "lang": lang,
            "story_id": story_id,
            "score": end["score"],
        }
        assert isinstance(end["score"], int) and 0 <= end["score"] <= 100
        assert door in reply.texts
        assert texts.t(story.key("who_to_tell"), lang) in "\n".join(reply.texts)
        assert {b["payload"] for b in buttons(reply)} >= {"/list_stories", "/start_quiz", "/start"}
        assert slots["story"] is None and slots["mode"] == "menu"
        decision_counts.append(len(path))
    # every decision counts, rehearsal steps too ("show_example" in the path)
    assert MIN_DECISIONS <= max(decision_counts) <= MAX_DECISIONS


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("story_id", STORY_IDS)
def test_the_recap_names_only_the_tricks_met_on_the_path(lang: str, story_id: str) -> None:
    story = get_story(story_id)
    assert story is not None
    for path, reply, _ in walk(lang, story_id):
        met = met_on_path(story, path)
        said = "\n".join(reply.texts)
        for tactic in story.tactics:
            line = texts.t(
                "story_ui.recap.trick_line",
                lang,
                name=texts.t(f"tactics.{tactic}.name", lang),
                todo=texts.t(f"tactics.{tactic}.todo", lang),
            )
            assert (line in said) == (tactic in met), (path, tactic)
        whole = met == set(story.tactics)
        assert (texts.t(story.key("recap"), lang) in said) == whole, path
        assert (texts.t("story_ui.recap.more", lang) in said) == (not whole), path
        if texts.has(story.key("what_works"), lang):  # what works: on every path
            assert texts.t(story.key("what_works"), lang) in said, path


THREAT_STORIES = sorted(i for i in STORY_IDS if "threat" in get_story(i).tactics)  # type: ignore[union-attr]


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("story_id", THREAT_STORIES)
def test_every_sextortion_story_says_what_works_on_every_path(lang: str, story_id: str) -> None:
    """A story with threats (sextortion) tells what works at the end of every path,
    even one that did not meet all its tricks (PEDAGOGY.md, "When a child discloses")."""
    assert len(THREAT_STORIES) >= 2
    story = get_story(story_id)
    assert story is not None
    assert texts.has(story.key("what_works"), lang), story_id
    what_works = texts.t(story.key("what_works"), lang)
    for word in WHAT_WORKS_AGAINST_THREATS[lang]:
        assert word in what_works.lower(), (story_id, word)
    for path, reply, _ in walk(lang, story_id):
        assert what_works in "\n".join(reply.texts), path


@pytest.mark.parametrize("story_id", STORY_IDS)
def test_scores_follow_safe_choices(story_id: str) -> None:
    story = get_story(story_id)
    assert story is not None
    scores = {}
    for path, reply, _ in walk("en", story_id):
        safe = []
        step_id = story.start
        for choice_id in path:
            step = story.steps[step_id]
            if step.kind == "rehearsal":
                step_id = str(step.next)
                continue
            choice = step.choice(choice_id)
            assert choice is not None
            safe.append(choice.safe)
            step_id = choice.next
        expected = round(100 * sum(safe) / len(safe))
        score = reply.payloads("story_end")[0]["score"]
        assert score == expected
        scores[tuple(path)] = score
    assert max(scores.values()) == 100
    assert min(scores.values()) < 100


def test_story_texts_name_the_trick_and_praise() -> None:
    slots, _ = play(base_slots("en"), stories.start_story, "follower_bribe")
    slots, _ = play(slots, stories.choose, _entities("follower_bribe", "compliment", "thanks_only"))
    slots, reply = play(slots, stories.choose, _entities("follower_bribe", "offer", "no_thanks"))
    assert texts.t("tactics.bribe.name", "en") in reply.texts[0]
    slots, reply = play(
        slots, stories.choose, _entities("follower_bribe", "move_app", "go_snapchat")
    )
    feedback = reply.texts[0]
    assert texts.t("tactics.app_switch.name", "en") in feedback
    assert feedback.startswith("Lots of people")


@pytest.mark.parametrize("lang", LANGS)
def test_recap_counts_safe_choices_right_for_any_number(lang: str) -> None:
    seen = set()
    for story_id in STORY_IDS:
        story = get_story(story_id)
        assert story is not None
        for path, reply, _ in walk(lang, story_id):
            safe, total = _safe_count(story, path)
            if 0 < safe < total:
                line = texts.t("story_ui.recap.some_safe", lang, safe=safe, total=total)
                assert any(line in t for t in reply.texts)
                seen.add(safe)
    assert 1 in seen
    one = texts.t("story_ui.recap.some_safe", lang, safe=1, total=4)
    assert "1 choix sûrs" not in one and "1 safe choices" not in one


def _safe_count(story: Story, path: list[str]) -> tuple[int, int]:
    safe = []
    step_id = story.start
    for choice_id in path:
        step = story.steps[step_id]
        if step.kind == "rehearsal":
            step_id = str(step.next)
            continue
        choice = step.choice(choice_id)
        assert choice is not None
        safe.append(choice.safe)
        step_id = choice.next
    return sum(safe), len(safe)


def test_recap_names_the_helpline_of_the_country() -> None:
    path = ["show_mum", "block_report"]
    slots, _ = play(base_slots("fr", country="FR"), stories.start_story, "skin_gift")
    for step, choice in zip(["gift", "grown_up"], path, strict=True):
        slots, reply = play(slots, stories.choose, _entities("skin_gift", step, choice))
    joined = "\n".join(reply.texts)
    assert "3018" in joined
    assert "/help" not in {b["payload"] for b in buttons(reply)}


def test_recap_without_country_offers_help_button() -> None:
    slots, _ = play(base_slots("en"), stories.start_story, "skin_gift")
    slots, _ = play(slots, stories.choose, _entities("skin_gift", "gift", "show_mum"))
    slots, reply = play(slots, stories.choose, _entities("skin_gift", "grown_up", "block_report"))
    assert texts.t("story_ui.recap.no_country", "en") in "\n".join(reply.texts)
    assert "/help" in {b["payload"] for b in buttons(reply)}


# --- co-play --------------------------------------------------------------------


@pytest.mark.parametrize("lang", LANGS)
def test_coplay_questions_only_in_coplay_mode(lang: str) -> None:
    story = get_story("follower_bribe")
    assert story is not None
    coplay_texts = {texts.t(story.key("steps", s, "coplay"), lang) for s in story.steps}
    for coplay in (False, True):
        for _, reply, _ in walk(lang, "follower_bribe", coplay=coplay)[:3]:
            joined = "\n".join(reply.texts)
            assert any(q in joined for q in coplay_texts) is coplay
        _, reply = play(base_slots(lang, coplay=coplay), stories.start_story, "follower_bribe")
        first = texts.t(story.key("steps", "compliment", "coplay"), lang)
        assert any(first in t for t in reply.texts) is coplay


def test_set_coplay_sets_the_slot_and_reshows_the_step() -> None:
    slots, reply = play(base_slots("en"), stories.set_coplay, True)
    assert reply.slots == {"coplay": True}
    assert buttons(reply, "list_stories")
    slots, _ = play(base_slots("en"), stories.start_story, "skin_gift")
    slots, reply = play(slots, stories.set_coplay, "true")
    assert slots["coplay"] is True
    question = texts.t("stories.skin_gift.steps.gift.coplay", "en")
    assert any(question in t for t in reply.texts)
    slots, reply = play(slots, stories.set_coplay, False)
    assert slots["coplay"] is False and not any(question in t for t in reply.texts)
    assert slots["story"]["step"] == "gift"


# --- bad input ------------------------------------------------------------------


@pytest.mark.parametrize(
    "bad_id", [None, "../../etc/passwd", 42, "", "FOLLOWER_BRIBE", {"id": "x"}, "strategies", []]
)
@pytest.mark.parametrize("lang", LANGS)
def test_unknown_story_id_gives_a_clear_reply(bad_id: object, lang: str) -> None:
    _, reply = play(base_slots(lang, mode="menu"), stories.start_story, bad_id)
    assert reply.slots == {}
    assert reply.texts == [texts.t("story_ui.unknown_story", lang)]
    assert [b["payload"] for b in buttons(reply)] == ["/list_stories"]


def _entities(story_id: str, step: str, choice: str) -> dict[str, str]:
    return {"story_id": story_id, "step": step, "choice": choice}


def test_stale_buttons_reshow_the_current_step() -> None:
    slots, _ = play(base_slots("en"), stories.start_story, "skin_gift")
    slots, _ = play(slots, stories.choose, _entities("skin_gift", "gift", "no_thanks"))
    assert slots["story"]["step"] == "school"
    for entities in (
        _entities("skin_gift", "gift", "no_thanks"),  # an earlier step
        _entities("skin_gift", "school", "fly_away"),  # no such choice
        _entities("skin_gift", "practice", SHOW_EXAMPLE),  # a later step
        {"story_id": "skin_gift"},
        {},
    ):
        new_slots, reply = play(slots, stories.choose, entities)
        assert reply.texts[0] == texts.t("story_ui.stale", "en")
        assert new_slots["story"] == slots["story"] and new_slots["mode"] == "story"
        assert len(buttons(reply, "story_choice")) == 3
    new_slots, reply = play(slots, stories.choose, _entities("follower_bribe", "offer", "accept"))
    assert "Leo and the free gems" in reply.texts[0]
    assert new_slots["story"] == slots["story"]
    new_slots, reply = play(slots, stories.choose, None)
    assert new_slots["story"] == slots["story"]


@pytest.mark.parametrize(
    "garbage",
    [
        None,
        "text",
        42,
        {"id": "nope", "step": "a"},
        {"id": "skin_gift", "step": "nope"},
        {"id": "skin_gift", "step": "end"},
        {"id": ["x"]},
    ],
)
def test_no_story_running(garbage: object) -> None:
    slots = base_slots("en", story=garbage, mode="story")
    for handler, args in (
        (stories.choose, (_entities("skin_gift", "gift", "no_thanks"),)),
        (stories.handle_text, ()),
        (stories.show_current, ()),
    ):
        new_slots, reply = play(slots, handler, *args, text="no thanks")
        assert reply.texts
        assert new_slots["mode"] == "menu" and new_slots["story"] is None
        assert buttons(reply, "list_stories")


def test_button_of_a_finished_story_offers_to_replay() -> None:
    _, reply = play(
        base_slots("fr", mode="menu"), stories.choose, _entities("skin_gift", "gift", "no_thanks")
    )
    assert reply.texts == [texts.t("story_ui.finished", "fr")]
    assert '/start_story{"story_id":"skin_gift"}' in [b["payload"] for b in buttons(reply)]
    assert reply.slots == {}


def test_quit_and_show_current() -> None:
    slots, _ = play(base_slots("en"), stories.start_story, "genuine_friend")
    slots, reply = play({**slots, "mode": "menu"}, stories.show_current)
    assert reply.texts[0] == texts.t("story_ui.back", "en")
    assert slots["mode"] == "story" and len(buttons(reply, "story_choice")) == 3
    slots, reply = play(slots, stories.quit_story)
    assert slots["story"] is None and slots["mode"] == "menu"
    assert buttons(reply, "list_stories")


# --- free text ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("lang", "story_id", "path", "text", "expected"),
    [
        ("en", "follower_bribe", ["thanks_only", "no_thanks"], "I'd block him", "block_report"),
        ("fr", "follower_bribe", ["thanks_only"], "je le dis à ma mère", "tell_mum"),
        ("fr", "follower_bribe", [], "jlui réponds pas", "keep_drawing"),
        ("en", "follower_bribe", [], "give him my tiktok", "give_tiktok"),
        ("en", "skin_gift", [], "no thanks", "no_thanks"),
        ("fr", "skin_gift", [], "ok je prends", "take_gems"),
        ("en", "genuine_friend", [], "2", "ask_mum"),
        ("en", "genuine_friend", [], "Ask Mum", "ask_mum"),
    ],
)
def test_free_text_picks_a_choice(
    lang: str, story_id: str, path: list[str], text: str, expected: str
) -> None:
    slots, _ = play(base_slots(lang), stories.start_story, story_id)
    story = get_story(story_id)
    assert story is not None
    for choice in path:
        slots, _ = play(slots, stories.choose, _entities(story_id, slots["story"]["step"], choice))
    step = slots["story"]["step"]
    new_slots, reply = play(slots, stories.handle_text, text=text)
    feedback = texts.t(story.key("steps", step, "choices", expected, "feedback"), lang)
    assert reply.texts[0].startswith(feedback)
    assert new_slots["story"] is None or new_slots["story"]["history"][-1]["choice"] == expected
    assert text not in json.dumps(new_slots, ensure_ascii=False)


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("jsp", "story_ui.unsure"),
        ("banana pancake", "story_ui.not_understood"),
        ("", "story_ui.not_understood"),
    ],
)
def test_text_not_understood_reasks_kindly(lang: str, text: str, key: str) -> None:
    slots, _ = play(base_slots(lang), stories.start_story, "skin_gift")
    new_slots, reply = play(slots, stories.handle_text, text=text)
    assert reply.texts == [texts.t(key, lang, name=texts.t("stories.skin_gift.character", lang))]
    assert len(buttons(reply, "story_choice")) == 3
    assert new_slots["story"]["step"] == "gift" and new_slots["story"]["tries"] == 1
    assert new_slots["story"]["history"] == []


# --- rehearsal ------------------------------------------------------------------


def _at_rehearsal(lang: str = "en") -> dict[str, Any]:
    slots, _ = play(base_slots(lang), stories.start_story, "skin_gift")
    slots, _ = play(slots, stories.choose, _entities("skin_gift", "gift", "no_thanks"))
    slots, reply = play(slots, stories.choose, _entities("skin_gift", "school", "keep_private"))
    assert slots["story"]["step"] == "practice"
    assert texts.t("story_ui.rehearsal.prompt", lang) in reply.texts
    return slots


@pytest.mark.parametrize(
    ("lang", "text", "category"),
    [
        ("en", "no way", "refuse"),
        ("en", "stop asking me", "set_boundary"),
        ("en", "i'll tell my mom", "tell_adult"),
        ("en", "blocked", "block_report"),
        ("en", "nice try, that's a trick", "name_trick"),
        ("fr", "nan", "refuse"),
        ("fr", "laisse moi tranquille", "set_boundary"),
        ("fr", "jvais le dire a mes parents", "tell_adult"),
        ("fr", "je te bloque", "block_report"),
        ("fr", "bien essayé, c'est un piège", "name_trick"),
    ],
)
def test_rehearsal_recognises_the_strategy(lang: str, text: str, category: str) -> None:
    """A safe reply: praise, why it works, the four protective replies, a stronger idea."""
    slots = _at_rehearsal(lang)
    new_slots, reply = play(slots, stories.handle_text, text=text)
    name = texts.t("stories.skin_gift.character", lang)
    first = reply.texts[0]
    assert first.startswith(texts.t(f"story_ui.rehearsal.feedback.{category}", lang, name=name))
    assert texts.t(f"story_ui.rehearsal.why.{category}", lang) in first
    assert texts.t("story_ui.rehearsal.four", lang) in first
    example = texts.t("stories.skin_gift.steps.practice.example", lang)
    assert example in first
    state = new_slots["story"]
    assert state["step"] == "secret"
    assert state["history"][-1] == {"step": "practice", "reply": category, "safe": True}
    assert "personal_info" in state["spotted"]
    assert text not in json.dumps(state, ensure_ascii=False)


@pytest.mark.parametrize(
    ("lang", "risky", "better", "category"),
    [
        ("en", "ok it's rose street", "no, i don't share that", "set_boundary"),
        ("en", "ok jhabite rue des lilas", "nope", "refuse"),
        ("fr", "ok j'habite rue des lilas", "non je dis pas ca", "set_boundary"),
        ("fr", "d'accord c'est rue des lilas", "c'est un piège", "name_trick"),
    ],
)
def test_a_risky_practice_reply_gets_a_hint_and_a_second_try(
    lang: str, risky: str, better: str, category: str
) -> None:
    slots = _at_rehearsal(lang)
    name = texts.t("stories.skin_gift.character", lang)
    slots, reply = play(slots, stories.handle_text, text=risky)
    said = "\n".join(reply.texts)
    assert reply.texts[0].startswith(
        texts.t(
            "story_ui.rehearsal.feedback.risky_trick",
            lang,
            name=name,
            trick=texts.t("tactics.personal_info.name", lang),
        )
    )
    assert texts.t("story_ui.rehearsal.risky_part.share_info", lang) in said
    assert texts.t("story_ui.rehearsal.hint.personal_info", lang) in said
    assert reply.texts[-1] == texts.t("story_ui.rehearsal.try_again", lang, name=name)
    assert [b["payload"] for b in reply.messages[-1]["buttons"]] == [
        '/story_choice{"story_id":"skin_gift","step":"practice","choice":"show_example"}'
    ]
    state = slots["story"]
    assert state["step"] == "practice" and state["hinted"] is True
    assert all(h["step"] != "practice" for h in state["history"])  # nothing judged yet
    assert risky not in json.dumps(slots, ensure_ascii=False)

    slots, reply = play(slots, stories.handle_text, text=better)
    first = reply.texts[0]
    assert first.startswith(texts.t("story_ui.rehearsal.better", lang))
    assert texts.t(f"story_ui.rehearsal.why.{category}", lang) in first
    assert texts.t("story_ui.rehearsal.four", lang) in first
    state = slots["story"]
    assert state["step"] == "secret" and "hinted" not in state
    assert state["history"][-1] == {
        "step": "practice",
        "reply": category,
        "safe": True,
        "second_try": True,
    }
    assert "personal_info" in state["spotted"]
    assert better not in json.dumps(slots, ensure_ascii=False)


@pytest.mark.parametrize("lang", ["en", "fr"])
def test_a_second_risky_reply_shows_the_example_and_moves_on(lang: str) -> None:
    slots = _at_rehearsal(lang)
    slots, _ = play(slots, stories.handle_text, text="ok rose street")
    slots, reply = play(slots, stories.handle_text, text="ok fine its rose street")
    first = reply.texts[0]
    assert first.startswith(texts.t("story_ui.rehearsal.still_risky", lang))
    assert texts.t("stories.skin_gift.steps.practice.example", lang) in first
    state = slots["story"]
    assert state["step"] == "secret"
    assert state["history"][-1] == {
        "step": "practice",
        "reply": "risky",
        "safe": False,
        "second_try": True,
    }
    assert engine.score(state) < 100


def test_a_story_step_may_give_its_own_hint() -> None:
    """``hint`` is optional on a rehearsal step: stories without one still validate."""
    story = get_story("skin_gift")
    assert story is not None
    _, optional = story.text_keys()
    assert "stories.skin_gift.steps.practice.hint" in optional


def test_rehearsal_unclear_then_example() -> None:
    slots = _at_rehearsal()
    slots, reply = play(slots, stories.handle_text, text="lol")
    assert reply.texts[0] == texts.t("story_ui.rehearsal.retry", "en")
    assert slots["story"]["step"] == "practice"
    slots, reply = play(slots, stories.handle_text, text="hmm")
    assert texts.t("stories.skin_gift.steps.practice.example", "en") in reply.texts[0]
    assert slots["story"]["step"] == "secret"
    assert slots["story"]["history"][-1]["safe"] is None


def test_rehearsal_unsure_and_example_button() -> None:
    slots, reply = play(_at_rehearsal("fr"), stories.handle_text, text="jsp")
    assert reply.texts[0].startswith(texts.t("story_ui.rehearsal.unsure", "fr"))
    assert slots["story"]["step"] == "secret"
    slots, reply = play(
        _at_rehearsal("fr"), stories.choose, _entities("skin_gift", "practice", SHOW_EXAMPLE)
    )
    assert texts.t("stories.skin_gift.steps.practice.example", "fr") in reply.texts[0]
    assert slots["story"]["step"] == "secret"


# --- structure and tactics taught -------------------------------------------------


def _longest_path(story: Story) -> int:
    """Decisions on the longest path (choice and rehearsal steps; stories never loop)."""

    def depth(step_id: str) -> int:
        step = story.steps[step_id]
        if step.kind == "end":
            return 0
        if step.kind == "rehearsal":
            return 1 + depth(str(step.next))
        return 1 + max(depth(c.next) for c in step.choices)

    return depth(story.start)


@pytest.mark.parametrize("story_id", STORY_IDS)
def test_story_shape(story_id: str) -> None:
    story = get_story(story_id)
    assert story is not None
    assert MIN_DECISIONS <= _longest_path(story) <= MAX_DECISIONS
    for step in story.steps.values():
        if step.kind == "choice":
            assert 2 <= len(step.choices) <= 4, step.id
            assert any(c.safe for c in step.choices), step.id
        elif step.kind == "rehearsal":
            assert step.next in story.steps, step.id


def _raw_tactics(story_id: str) -> object:
    raw = yaml.safe_load((ROLEPLAY_DIR / f"{story_id}.yml").read_text(encoding="utf-8"))
    return raw.get("tactics", "missing")


@pytest.mark.parametrize("story_id", STORY_IDS)
def test_each_story_teaches_a_tactic_unless_it_says_none(story_id: str) -> None:
    story = get_story(story_id)
    assert story is not None
    shown = {s.tactic for s in story.steps.values() if s.tactic}
    assert shown == set(story.tactics)
    assert set(story.tactics) <= set(TACTICS)
    if not story.tactics:
        # a story with no trick says so explicitly
        assert _raw_tactics(story_id) == []
    else:
        assert len(story.tactics) >= 1


def test_tactics_taught_across_stories() -> None:
    taught = {t for s in stories.stories().values() for t in s.tactics}
    assert taught <= set(TACTICS)
    assert get_story("genuine_friend").tactics == ()  # type: ignore[union-attr]
    no_trick = [s.id for s in stories.stories().values() if not s.tactics]
    assert 0 < len(no_trick) < len(STORY_IDS)


def test_all_contract_tactics_are_taught() -> None:
    taught = {t for s in stories.stories().values() for t in s.tactics}
    assert taught == set(TACTICS)


def test_age_bands_of_first_stories() -> None:
    bands = {s.id: s.age_band for s in stories.stories().values()}
    assert bands["follower_bribe"] == "11-13"
    assert bands["skin_gift"] == "8-10" and bands["genuine_friend"] == "8-10"


def test_nothing_is_read_at_import() -> None:
    code = (
        "import bot.stories, bot.quiz\n"
        "from bot.stories import model, understand\n"
        "assert model.stories.cache_info().currsize == 0\n"
        "assert understand._load.cache_info().currsize == 0\n"
        "assert bot.quiz.quiz_data.cache_info().currsize == 0\n"
        "import sys; assert 'sklearn' not in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True)


def test_engine_score_helper() -> None:
    assert engine.score({"history": []}) == 100
    state = {"history": [{"safe": True}, {"safe": False}, {"safe": None}, {"safe": True}]}
    assert engine.score(state) == 67


# --- the trick as it looks: message mock-ups, spot the trick, pictures (issue 20) ---


@pytest.mark.parametrize("lang", LANGS)
def test_a_manipulators_message_comes_as_a_mock_up(lang: str) -> None:
    slots, reply = play(base_slots(lang), stories.start_story, "skin_gift")
    [picture] = reply.payloads("story_picture")
    assert picture == {
        "kind": "story_picture",
        "lang": lang,
        "story_id": "skin_gift",
        "picture": "skin_gift",
        "alt": texts.t("stories.skin_gift.picture", lang),
    }
    [message] = reply.payloads("story_message")
    text = texts.t("stories.skin_gift.steps.gift.message", lang)
    assert message == {
        "kind": "story_message",
        "lang": lang,
        "story_id": "skin_gift",
        "step": "gift",
        "app": "game_chat",
        "app_name": texts.t("stories.skin_gift.app_name", lang),
        "sender": "Max_Gamer",
        "avatar": "blue",
        "time": "17:02",
        "text": text,
        "segments": message["segments"],
    }
    assert "".join(s["text"] for s in message["segments"]) == text
    tricks = [s for s in message["segments"] if s["tactic"]]
    assert {s["tactic"] for s in tricks} == {"bribe"} and len(tricks) == 2
    # the mock-up comes right after the step's text, before the question
    kinds = [m.get("custom", {}).get("kind") for m in reply.messages]
    assert kinds.index("story_message") == kinds.index("story_picture") + 2
    # later steps are later on the clock
    slots, reply = play(slots, stories.choose, _entities("skin_gift", "gift", "no_thanks"))
    assert reply.payloads("story_message")[0]["time"] == "17:05"


@pytest.mark.parametrize("lang", LANGS)
def test_a_step_in_another_app_shows_that_app_and_its_own_sender(lang: str) -> None:
    """The story's app name is for its own app; a step elsewhere has its own name
    (or its kind's), and another sender can have a colour of their own."""

    def mock_up(story_id: str, step_id: str) -> dict[str, Any]:
        story = get_story(story_id)
        assert story is not None
        reply = Reply(lang)
        engine._message(reply, story, story.steps[step_id])
        [payload] = reply.payloads("story_message")
        return payload

    live = mock_up("live_coins", "coins")
    assert (live["app"], live["app_name"], live["avatar"]) == (
        "live",
        texts.t("stories.live_coins.app_name", lang),
        "brown",
    )
    moved = mock_up("live_coins", "tummy")  # on the "secret app"
    assert (moved["app"], moved["app_name"]) == ("dm", "ChatZap")
    call = mock_up("recorded_call", "dare")  # the chat beside the video call, no app name
    assert (call["app"], call["app_name"]) == (
        "video_call",
        texts.t("story_ui.chat.video_call", lang),
    )
    later = mock_up("recorded_call", "again")  # the next morning, from a new account
    assert (later["app"], later["time"], later["sender"]) == ("dm", "07:50", "e11a.b13")
    group = mock_up("group_chat", "rules")
    assert (group["app"], group["app_name"], group["sender"]) == (
        "group",
        "VIP Squad 🔥",
        "Dex_Wolf",
    )
    direct = mock_up("group_chat", "practice")  # Dex writes to Clara alone: not the group's name
    assert (direct["app"], direct["app_name"]) == ("dm", texts.t("story_ui.chat.dm", lang))
    friend = mock_up("group_chat", "friend")  # her friend passes the trick on
    assert (friend["sender"], friend["avatar"]) == ("Jules", "teal")
    assert [s["tactic"] for s in friend["segments"] if s["tactic"]] == ["app_switch", "secrecy"]


def test_every_mock_up_phrase_is_found_and_every_story_has_a_picture() -> None:
    for story in model.stories().values():
        for lang in LANGS:
            assert texts.has(story.key("picture"), lang), story.id
            for step in story.steps.values():
                key = story.key("steps", step.id, "message")
                if not texts.has(key, lang):
                    continue
                reply = Reply(lang)
                engine._message(reply, story, step)
                [payload] = reply.payloads("story_message")
                wanted = sum(
                    len(model.spot_phrases(texts.t(story.key("steps", step.id, "spot", t), lang)))
                    for t in TACTICS
                    if texts.has(story.key("steps", step.id, "spot", t), lang)
                )
                assert len([s for s in payload["segments"] if s["tactic"]]) == wanted, (
                    story.id,
                    step.id,
                    lang,
                )


def test_segments_never_overlap() -> None:
    pieces = engine.segments("free gems for you", {"bribe": ["free gems", "gems for"]})
    assert pieces == [
        {"text": "free gems", "tactic": "bribe"},
        {"text": " for you", "tactic": None},
    ]
    assert engine.segments("hello", {}) == [{"text": "hello", "tactic": None}]


def test_a_story_without_a_picture_gets_the_default_one() -> None:
    story = get_story("skin_gift")
    assert story is not None
    reply = Reply("fr")
    from unittest import mock

    with mock.patch.object(texts, "has", lambda key, lang: not key.endswith(".picture")):
        engine._picture(reply, story)
    [payload] = reply.payloads("story_picture")
    assert payload["picture"] == "default"
    assert payload["alt"] == texts.t("story_ui.picture_default", "fr")
