"""The "Spot the trick" quiz: rounds, points, badges, stale buttons, typed answers."""

from __future__ import annotations

import json
import random
from typing import Any

import pytest

from bot import quiz
from bot import text as texts
from bot.conversation import Reply
from bot.tactics import TACTICS
from tests.conftest import make_turn

LANGS = ("en", "fr")


def base(lang: str, **extra: Any) -> dict[str, Any]:
    return {"language": lang, "language_locked": True, "mode": "menu", **extra}


def play(slots: dict[str, Any], handler: Any, *args: Any, text: str = "") -> tuple[dict, Reply]:
    reply = handler(make_turn(text=text, **slots), *args)
    assert reply.messages
    for message in reply.messages:
        if "text" in message:
            assert message["text"].strip() and "quiz." not in message["text"]
    return {**slots, **reply.slots}, reply


def answer_buttons(reply: Reply) -> list[dict[str, Any]]:
    found = []
    for message in reply.messages:
        for button in message.get("buttons", []):
            if button["payload"].startswith("/quiz_answer"):
                found.append(json.loads(button["payload"][len("/quiz_answer") :]))
    return found


def right_answer(slots: dict[str, Any]) -> str:
    state = slots["quiz"]
    found = quiz.quiz_data().tactic_of(state["items"][state["round"]])
    assert found is not None
    return found


@pytest.mark.parametrize("lang", LANGS)
def test_every_tactic_has_three_messages_in_both_languages(lang: str) -> None:
    data = quiz.quiz_data()
    assert set(data.items) == set(TACTICS)
    for tactic, ids in data.items.items():
        assert len(ids) >= 3, tactic
        for item in ids:
            message = texts.t(f"quiz.messages.{item}", lang)
            assert message.strip() and message != f"quiz.messages.{item}"


@pytest.mark.parametrize("lang", LANGS)
def test_start_quiz_shows_the_first_round(lang: str) -> None:
    slots, reply = play(base(lang), quiz.start_quiz)
    data = quiz.quiz_data()
    assert slots["mode"] == "quiz"
    state = slots["quiz"]
    assert len(state["items"]) == data.rounds and state["round"] == 0
    options = answer_buttons(reply)
    assert len(options) == data.options_per_round
    assert {o["round"] for o in options} == {1}
    assert len({o["tactic"] for o in options}) == len(options)
    assert right_answer(slots) in {o["tactic"] for o in options}
    titles = [b["title"] for m in reply.messages for b in m.get("buttons", [])]
    assert titles == [texts.t(f"tactics.{o['tactic']}.name", lang) for o in options]
    per_tactic: dict[str, int] = {}
    for item in state["items"]:
        tactic = data.tactic_of(item)
        assert tactic is not None
        per_tactic[tactic] = per_tactic.get(tactic, 0) + 1
    assert len(per_tactic) == data.tactics_per_quiz


@pytest.mark.parametrize("lang", LANGS)
def test_all_right_wins_points_and_badges(lang: str) -> None:
    data = quiz.quiz_data()
    slots, _ = play(base(lang), quiz.start_quiz)
    chosen = {data.tactic_of(i) for i in slots["quiz"]["items"]}
    for number in range(1, data.rounds + 1):
        right = right_answer(slots)
        slots, reply = play(slots, quiz.answer, {"round": number, "tactic": right})
        assert reply.texts[0].startswith(
            texts.t(
                "quiz.right",
                lang,
                name=texts.t(f"tactics.{right}.name", lang),
                short=texts.t(f"tactics.{right}.short", lang),
            )
        )
    assert slots["mode"] == "menu"
    assert sorted(slots["badges"]) == sorted(f"badge_{t}" for t in chosen)
    assert slots["quiz"] == {"v": 1, "mastery": {t: 2 for t in chosen}}
    end = texts.t("quiz.end", lang, right=data.rounds, total=data.rounds, points=data.rounds * 10)
    assert end in reply.texts
    assert texts.t("quiz.door_open", lang) in reply.texts
    payloads = [b["payload"] for m in reply.messages for b in m.get("buttons", [])]
    assert payloads == ["/start_quiz", "/list_stories", "/start"]


def test_wrong_answers_are_kind_and_give_no_badge() -> None:
    slots, _ = play(base("en"), quiz.start_quiz)
    for number in range(1, quiz.quiz_data().rounds + 1):
        wrong = next(t for t in slots["quiz"]["options"] if t != right_answer(slots))
        right = right_answer(slots)
        slots, reply = play(slots, quiz.answer, {"round": str(number), "tactic": wrong})
        expected = texts.t(
            "quiz.wrong",
            "en",
            name=texts.t(f"tactics.{right}.name", "en"),
            short=texts.t(f"tactics.{right}.short", "en"),
        )
        assert reply.texts[0].startswith(expected)
    assert "badges" not in slots
    assert texts.t("quiz.no_badges", "en") in reply.texts


def test_badge_is_won_once_and_new_quiz_prefers_other_tricks() -> None:
    slots = base("en", badges=["badge_bribe"], quiz={"v": 1, "mastery": {"bribe": 5}})
    slots["quiz"] = {
        "v": 1,
        "items": ["bribe_1", "secrecy_1"],
        "round": 0,
        "options": ["bribe", "threat", "meeting"],
        "right": 0,
        "points": 0,
        "mastery": {"bribe": 5},
    }
    slots["mode"] = "quiz"
    slots, reply = play(slots, quiz.answer, {"round": 1, "tactic": "bribe"})
    assert "badges" not in reply.slots
    assert slots["quiz"]["mastery"]["bribe"] == 6
    for _ in range(20):
        fresh = quiz.new_state(
            make_turn(**base("en", badges=[f"badge_{t}" for t in TACTICS[:5]])), random.Random()
        )
        chosen = {quiz.quiz_data().tactic_of(i) for i in fresh["items"]}
        assert chosen == set(TACTICS[5:])


def test_stale_and_foreign_buttons() -> None:
    slots, _ = play(base("fr"), quiz.start_quiz)
    outside = next(t for t in TACTICS if t not in slots["quiz"]["options"])
    for entities in (
        {"round": 2, "tactic": right_answer(slots)},
        {"round": 1, "tactic": outside},
        {"round": "abc", "tactic": right_answer(slots)},
        {},
        None,
    ):
        new_slots, reply = play(slots, quiz.answer, entities)
        assert reply.texts[0] == texts.t("quiz.stale", "fr")
        assert new_slots["quiz"] == slots["quiz"]
        assert len(answer_buttons(reply)) == quiz.quiz_data().options_per_round


@pytest.mark.parametrize(
    "garbage", [None, "x", {"items": []}, {"items": ["nope"], "round": 0, "options": []}]
)
def test_no_quiz_running(garbage: object) -> None:
    slots = base("en", quiz=garbage, mode="quiz")
    for handler, args in (
        (quiz.answer, ({"round": 1, "tactic": "bribe"},)),
        (quiz.handle_text, ()),
        (quiz.show_current, ()),
    ):
        new_slots, reply = play(slots, handler, *args, text="secret")
        assert reply.texts == [texts.t("quiz.not_running", "en")]
        assert new_slots["mode"] == "menu"


def test_typed_answers() -> None:
    slots, _ = play(base("en"), quiz.start_quiz)
    options = slots["quiz"]["options"]
    index = options.index(right_answer(slots))
    new_slots, reply = play(slots, quiz.handle_text, text=str(index + 1))
    assert new_slots["quiz"]["right"] == 1
    slots["quiz"] = {
        **slots["quiz"],
        "options": ["secrecy", "meeting", "threat"],
        "items": ["secrecy_1", *slots["quiz"]["items"][1:]],
    }
    new_slots, reply = play(slots, quiz.handle_text, text="its the secret one")
    assert new_slots["quiz"]["right"] == 1
    new_slots, reply = play(slots, quiz.handle_text, text="c'est la menace")
    assert new_slots["quiz"]["right"] == 0 and new_slots["quiz"]["round"] == 1
    new_slots, reply = play(slots, quiz.handle_text, text="banana")
    assert reply.texts[0] == texts.t("quiz.not_understood", "en")
    assert new_slots["quiz"]["round"] == 0


def test_start_during_a_quiz_resumes_it() -> None:
    slots, _ = play(base("en"), quiz.start_quiz)
    again, reply = play(slots, quiz.start_quiz)
    assert again["quiz"] == slots["quiz"]
    assert reply.texts[0] == texts.t("quiz.back", "en")
    fresh, _ = play({**slots, "mode": "menu"}, quiz.start_quiz)
    assert fresh["quiz"]["round"] == 0


def test_bad_quiz_data_is_reported() -> None:
    raw: dict[str, Any] = {
        "rounds": 6,
        "tactics_per_quiz": 3,
        "options_per_round": 5,
        "points_per_right": 10,
        "badge_after": 2,
        "items": {"bribe": ["bribe_1", "nope_1"]},
        "answer_words": {},
    }
    with pytest.raises(quiz.QuizError) as caught:
        quiz.parse_quiz(raw)
    message = str(caught.value)
    assert "tactic 'secrecy' needs 3+ items" in message
    assert "item 'nope_1' has no text in 'en'" in message
    assert "options_per_round must be 2 to 4" in message


# --- a fair quiz (issue 20): several tricks in a message, name variants, negation ---


def running(lang: str, item: str, options: list[str], **extra: Any) -> dict[str, Any]:
    """Slots of a quiz showing ``item`` with these buttons."""
    state = {
        "v": 1,
        "items": [item, "bribe_1"],
        "round": 0,
        "options": options,
        "right": 0,
        "points": 0,
        "mastery": {},
    }
    return base(lang, quiz=state, mode="quiz", **extra)


def name(tactic: str, lang: str) -> str:
    return texts.t(f"tactics.{tactic}.name", lang)


def test_every_message_lists_the_tricks_it_shows() -> None:
    data = quiz.quiz_data()
    assert data.tactics_of("photo_request_4") == ("photo_request", "flattery")
    assert data.tactics_of("bribe_1") == ("bribe",)
    assert data.tactics_of("nope") == ()
    for item, others in data.also.items():
        assert data.tactic_of(item) not in others


@pytest.mark.parametrize(
    ("lang", "typed"), [("en", "the sweet talk"), ("fr", "les belle parole"), ("fr", "flatterie")]
)
def test_any_trick_the_message_shows_is_right(lang: str, typed: str) -> None:
    """ "You look so cute, send me another photo": flattery is right too."""
    slots = running(lang, "photo_request_4", ["photo_request", "threat", "meeting"])
    slots, reply = play(slots, quiz.handle_text, text=typed)
    assert slots["quiz"]["right"] == 1 and slots["quiz"]["round"] == 1
    first = reply.texts[0]
    assert first.startswith(
        texts.t(
            "quiz.right",
            lang,
            name=name("flattery", lang),
            short=texts.t("tactics.flattery.short", lang),
        )
    )
    also = texts.t(
        "quiz.also",
        lang,
        tricks=texts.t(
            "quiz.also_item",
            lang,
            name=name("photo_request", lang),
            short=texts.t("tactics.photo_request.short", lang),
        ),
    )
    assert also in first
    assert slots["quiz"]["mastery"] == {"flattery": 1}
    assert reply.progress[0] == {"kind": "quiz_answer", "tactic": "flattery", "correct": True}


@pytest.mark.parametrize("lang", LANGS)
def test_the_main_trick_button_names_the_others_as_also_there(lang: str) -> None:
    slots = running(lang, "threat_1", ["meeting", "threat", "secrecy"])
    slots, reply = play(slots, quiz.answer, {"round": 1, "tactic": "threat"})
    assert slots["quiz"]["right"] == 1
    assert name("photo_request", lang) in reply.texts[0]
    # a wrong button: the main trick is named, and the other one as also there
    slots = running(lang, "threat_1", ["meeting", "threat", "secrecy"])
    slots, reply = play(slots, quiz.answer, {"round": 1, "tactic": "meeting"})
    assert slots["quiz"]["right"] == 0
    assert reply.texts[0].startswith(
        texts.t(
            "quiz.wrong",
            lang,
            name=name("threat", lang),
            short=texts.t("tactics.threat.short", lang),
        )
    )
    assert name("photo_request", lang) in reply.texts[0]


def test_wrong_buttons_never_show_a_trick_the_message_has() -> None:
    data = quiz.quiz_data()
    rng = random.Random(7)
    for item in data.also:
        for count in (3, 4):
            for _ in range(30):
                options = quiz._options(data, item, count, rng)
                assert len(options) == count and len(set(options)) == count
                assert [t for t in options if t in data.tactics_of(item)] == [data.tactic_of(item)]


def _variants(title: str, lang: str) -> list[str]:
    """How children write a trick's name: no article, plurals, a doubled or
    dropped letter, no accents, capitals, another article."""
    from bot.normalise import strip_accents

    articles = ("the ", "a ") if lang == "en" else ("le ", "la ", "les ", "l'", "un ", "une ")
    lower = title.lower()
    bare = lower
    for article in articles:
        if bare.startswith(article):
            bare = bare[len(article) :]
    words_ = bare.split()
    plural = " ".join(w if w in ("du", "de", "la", "d'appli", "d'") else w + "s" for w in words_)
    longest = max(range(len(words_)), key=lambda i: len(words_[i]))
    word = words_[longest]
    dropped = word[:2] + word[3:] if len(word) >= 6 else word
    doubled = word[:3] + word[2] + word[3:]
    found = [
        lower,
        bare,
        plural,
        strip_accents(bare),
        title.upper(),
        " ".join(words_[:longest] + [dropped] + words_[longest + 1 :]),
        " ".join(words_[:longest] + [doubled] + words_[longest + 1 :]),
        ("its " if lang == "en" else "c'est ") + bare,
        (articles[1] if lang == "en" else "les ") + bare,
    ]
    return list(dict.fromkeys(found))


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("tactic", TACTICS)
def test_every_trick_name_is_understood_in_its_variants(lang: str, tactic: str) -> None:
    title = name(tactic, lang)
    others = [t for t in TACTICS if t != tactic][:2]
    for typed in _variants(title, lang):
        reading = quiz.read_answer(typed, [others[0], tactic, others[1]])
        assert reading.tactic == tactic, (typed, reading)


@pytest.mark.parametrize(
    ("text", "tactic"),
    [
        ("les belle parole", "flattery"),
        ("la flaterie", "flattery"),
        ("sweettalk", "flattery"),
        ("the sweet-talk", "flattery"),
        ("piege du cado", "bribe"),
        ("gift trapp", "bribe"),
        ("detectiv trick", "personal_info"),
        ("le piege du detectif", "personal_info"),
        ("the app swich", "app_switch"),
        ("le changement dapli", "app_switch"),
        ("meetup plan", "meeting"),
        ("le plan rendez vous", "meeting"),
        ("scare tricks", "threat"),
        ("les menaces", "threat"),
        ("photo asks", "photo_request"),
        ("les demandes de photos", "photo_request"),
        ("the secret traps", "secrecy"),
        ("les pieges du secret", "secrecy"),
    ],
)
def test_spelling_plural_and_article_variants(text: str, tactic: str) -> None:
    assert quiz.read_answer(text, ["bribe", "secrecy", "threat"]).tactic == tactic


@pytest.mark.parametrize(
    ("text", "tactic"),
    [
        ("not the secret one, the gift", "bribe"),
        ("it's not the secret trap it's the gift trap", "bribe"),
        ("i dont think its the secret, its the gift", "bribe"),
        ("c'est pas le secret, c'est le cadeau", "bribe"),
        ("ce n'est pas le piège du secret mais le cadeau", "bribe"),
        ("je pense pas que ce soit le secret c'est le cadeau", "bribe"),
    ],
)
def test_negation_never_picks_the_negated_trick(text: str, tactic: str) -> None:
    assert quiz.read_answer(text, ["bribe", "secrecy", "threat"]).tactic == tactic


@pytest.mark.parametrize(
    ("lang", "text"),
    [
        ("en", "its not the secret trap"),
        ("en", "definitely not the secret one"),
        ("en", "he doesnt keep it secret"),
        ("fr", "c'est pas le piège du secret"),
        ("fr", "ce n'est pas le secret"),
        ("fr", "surement pas le secret"),
    ],
)
def test_a_negation_alone_asks_which_one(lang: str, text: str) -> None:
    slots = running(lang, "bribe_2", ["bribe", "secrecy", "threat"])
    new_slots, reply = play(slots, quiz.handle_text, text=text)
    assert new_slots["quiz"] == slots["quiz"]  # nothing judged
    assert reply.texts == [texts.t("quiz.which_not", lang, names=name("secrecy", lang))]
    assert [b["tactic"] for b in answer_buttons(reply)] == ["bribe", "threat"]


@pytest.mark.parametrize(
    ("lang", "text"), [("en", "the gift or the scare one"), ("fr", "le cadeau ou la peur")]
)
def test_two_tricks_named_asks_which_one(lang: str, text: str) -> None:
    slots = running(lang, "bribe_3", ["secrecy", "bribe", "threat"])
    new_slots, reply = play(slots, quiz.handle_text, text=text)
    assert new_slots["quiz"] == slots["quiz"]
    assert reply.texts == [texts.t("quiz.which", lang)]
    assert [b["tactic"] for b in answer_buttons(reply)] == ["bribe", "threat"]
    # the child taps one: judged as usual
    new_slots, reply = play(new_slots, quiz.answer, {"round": 1, "tactic": "bribe"})
    assert new_slots["quiz"]["right"] == 1


@pytest.mark.parametrize("band", ["8-10", "11-13"])
def test_the_age_band_sets_the_buttons_and_the_messages(band: str) -> None:
    data = quiz.quiz_data()
    rules = data.rules(band)
    for _ in range(30):
        slots, reply = play(base("en", age_band=band), quiz.start_quiz)
        assert len(answer_buttons(reply)) == rules.options_per_round
        assert not set(slots["quiz"]["items"]) & rules.leave_out
    assert data.rules("8-10").leave_out >= {"threat_1"}
    assert data.rules(None).options_per_round == data.options_per_round


def test_bad_also_and_bands_are_reported() -> None:
    raw = yaml_quiz()
    raw["also"] = {"bribe_1": ["bribe"], "nope": ["secrecy"], "secrecy_1": "x"}
    raw["bands"] = {
        "8-10": {"options_per_round": 9, "leave_out": ["bribe_1", "bribe_2", "bribe_3"]},
        "7": {},
    }
    with pytest.raises(quiz.QuizError) as caught:
        quiz.parse_quiz(raw)
    message = str(caught.value)
    assert "'bribe_1' repeats a trick" in message
    assert "unknown item 'nope'" in message
    assert "'bands' maps" in message


def yaml_quiz() -> dict[str, Any]:
    import yaml

    return yaml.safe_load(quiz.QUIZ_FILE.read_text(encoding="utf-8"))


def test_bad_band_rules_are_reported() -> None:
    raw = yaml_quiz()
    raw["bands"] = {
        "8-10": {"options_per_round": 9, "leave_out": ["bribe_1", "bribe_2", "bribe_3"]}
    }
    with pytest.raises(quiz.QuizError) as caught:
        quiz.parse_quiz(raw)
    message = str(caught.value)
    assert "options_per_round must be 2 to 4" in message
    assert "leaves 'bribe' too few items" in message


def test_a_tricks_name_flagged_by_the_safety_net_is_still_a_quiz_answer() -> None:
    """ "blackmail" or "la menace" typed in the quiz is a mention for the safety net;
    it is the answer. A real worry there still gets help."""
    from bot import dialogue

    for lang, text in (("en", "blackmail"), ("fr", "la menace")):
        slots = running(lang, "threat_1", ["threat", "meeting", "secrecy"])
        turn = make_turn("mention_risk", text, **slots)
        reply = dialogue.handle_text(turn)
        assert not reply.payloads("safeguard")
        assert reply.slots["quiz"]["right"] == 1
    slots = running("en", "threat_1", ["threat", "meeting", "secrecy"])
    turn = make_turn("mention_risk", "a man keeps asking me for photos of me every night", **slots)
    assert dialogue.handle_text(turn).payloads("safeguard")
    danger = make_turn("mention_risk", "blackmail", **{**slots, "safeguard_level": "danger"})
    assert dialogue.handle_text(danger).payloads("safeguard")
