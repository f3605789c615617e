"""The moment after a disclosure: the first reply's shape, the conversation that
follows (support mode), the FAQ and the trusted-adult rehearsal (no Rasa)."""

from __future__ import annotations

import itertools

import pytest

from bot import dialogue, helplines
from bot import text as texts
from bot.conversation import Turn
from bot.safeguarding import followup, support
from bot.safeguarding.reply import LEVELS, safeguard_messages, steps_message
from bot.safeguarding.topics import TOPICS

EVIDENCE_WORDS = {
    "en": ("screenshot", "block", "report", "proof"),
    "fr": ("capture", "bloque", "signale", "preuve"),
}


def turn(text: str, intent: str = "nlu_fallback", lang: str = "en", **slots) -> Turn:
    base = {
        "mode": "support",
        "support": {"return_to": "menu", "topic": "online", "level": "concern"},
        "country": "FR",
        "language": lang,
        "language_locked": True,
    }
    base.update(slots)
    return Turn(intent=intent, text=text, slots=base)


def bubbles(messages):
    """What a child sees as bubbles: a payload belongs to the text before it."""
    return [m for m in messages if m.get("text")]


def all_text(messages) -> str:
    return "\n".join(m.get("text") or "" for m in messages).lower()


# ------------------------------------------------------------------ the first reply


@pytest.mark.parametrize(
    ("lang", "country", "level", "topic"),
    list(itertools.product(("en", "fr"), [*helplines.countries(), None], LEVELS, TOPICS)),
)
def test_first_reply_is_three_bubbles_each_helpline_once(lang, country, level, topic):
    messages = safeguard_messages(lang, country, level, topic)
    assert len(bubbles(messages)) == 3
    # the child can act after the third bubble: the follow-ups are one tap away
    assert [b["payload"] for b in messages[-1]["buttons"]] == [
        b["payload"] for b in messages[-1]["buttons"]
    ] and {"/support_steps", "/help", "/pick_adult"} == {
        b["payload"] for b in messages[-1]["buttons"]
    }
    payload = [m["custom"] for m in messages if m.get("custom")]
    assert len(payload) == 1 and payload[0]["kind"] == "safeguard"
    ids = [(h["name"], h["phone"]) for h in payload[0]["helplines"]]
    assert len(ids) == len(set(ids))
    for message in bubbles(messages):
        for sentence in message["text"].split("\n"):
            assert len(sentence) <= 260, sentence


@pytest.mark.parametrize("lang", ["en", "fr"])
@pytest.mark.parametrize("level", LEVELS)
def test_a_worry_gets_warm_support_and_the_child_helpline_no_screenshots(lang, level):
    messages = [*safeguard_messages(lang, "FR", level, "worry"), steps_message(lang, "worry")]
    words = all_text(messages)
    assert not any(w in words for w in EVIDENCE_WORDS[lang]), words
    phones = [h["phone"] for m in messages if m.get("custom") for h in m["custom"]["helplines"]]
    assert "119" in phones  # Allô Enfance en Danger, not the online-safety line first
    if level == "concern":
        assert phones == ["119"]


@pytest.mark.parametrize("lang", ["en", "fr"])
def test_self_harm_gets_its_own_words_and_the_crisis_line_not_the_sextortion_steps(lang):
    messages = safeguard_messages(lang, "GB", "danger", "self_harm")
    first = messages[0]["text"]
    assert texts.t("safeguard.intro.self_harm.danger", lang) == first
    assert ("matter" if lang == "en" else "comptes") in first
    assert "116 123" in messages[1]["text"].split("\n")[0]  # the crisis line first
    phones = [h["phone"] for h in messages[2]["custom"]["helplines"]]
    assert set(phones[:2]) == {"116 123", "999"}  # crisis and emergency first
    words = all_text([*messages, steps_message(lang, "self_harm")])
    assert not any(w in words for w in EVIDENCE_WORDS[lang])
    assert ("pay" if lang == "en" else "paie") not in words


@pytest.mark.parametrize("lang", ["en", "fr"])
def test_self_harm_with_sextortion_says_both(lang):
    messages = safeguard_messages(lang, "FR", "danger", "self_harm_sextortion")
    words = all_text(messages)
    assert "3114" in words
    assert ("stopped" if lang == "en" else "arrêter") in words
    assert ("not your fault" if lang == "en" else "pas ta faute") in words
    assert ("don't pay" if lang == "en" else "ne paie pas") in words


@pytest.mark.parametrize("lang", ["en", "fr"])
def test_sextortion_and_grooming_get_their_steps(lang):
    online = steps_message(lang, "online")["text"].lower()
    assert all(w in online for w in EVIDENCE_WORDS[lang][:3])
    sextortion = steps_message(lang, "sextortion")["text"].lower()
    assert "takeitdown.ncmec.org" in sextortion
    assert ("don't pay" if lang == "en" else "ne paie pas") in sextortion


# ------------------------------------------------------------------ what the child says next


@pytest.mark.parametrize(
    ("text", "lang", "expected"),
    [
        ("jai peur quil se fache si je le dis a ma mere", "fr", "support.reassure.found_out"),
        ("what if he finds out", "en", "support.reassure.found_out"),
        ("im scared and i dont want to tell my mum", "en", "support.reassure.not_tell"),
        ("je veux pas le dire a mes parents", "fr", "support.reassure.not_tell"),
        ("its my fault i sent it", "en", "support.reassure.fault"),
        ("c'est de ma faute", "fr", "support.reassure.fault"),
        ("ma mere va me tuer si elle sait", "fr", "support.reassure.parents"),
        ("will you tell my mum?", "en", "support.reassure.secret"),
        ("j'ai trop honte", "fr", "support.reassure.shame"),
        ("nobody will believe me", "en", "support.reassure.no_one"),
    ],
)
def test_follow_ups_are_answered_with_reassurance_and_one_next_step(text, lang, expected):
    reply = dialogue.handle_text(turn(text, lang=lang))
    assert reply.texts[0] == texts.t(expected, lang)
    nexts = [t for t in reply.texts if t in _next_texts(lang)]
    assert len(nexts) == 1 and reply.texts[-1] == nexts[0]
    praise = texts.t("safeguard.practice_feedback_good", lang)
    assert praise not in reply.texts
    payloads = [b["payload"] for m in reply.messages for b in m.get("buttons", [])]
    assert {"/support_steps", "/help", "/pick_adult"} <= set(payloads)
    assert reply.slots["mode"] == "support"


def _next_texts(lang):
    return {texts.t(k, lang) for k in texts.keys(lang, "support.next.")}


def test_the_next_step_is_not_repeated_and_danger_keeps_the_crisis_line():
    first = support.follow_up(turn("ok", "affirm"))
    step = first.slots["support"]["next"]
    second = support.follow_up(turn("ok", "affirm", support=first.slots["support"]))
    assert second.slots["support"]["next"] != step
    danger = {"return_to": "menu", "topic": "self_harm", "level": "danger"}
    reply = support.follow_up(turn("i dont know", support=danger))
    assert reply.texts[-1] == texts.t("support.next.crisis", "en")


def test_a_further_flagged_message_is_thanked_and_keeps_the_danger_level():
    t = turn("he also asked where i live")
    t.entities = {"safeguard_level": "concern", "safeguard_topic": "online"}
    t.slots["support"] = {"return_to": "story", "topic": "online", "level": "danger"}
    reply = support.follow_up(t)
    assert reply.texts[0] == texts.t("support.reassure.more", "en")
    assert reply.slots["support"]["level"] == "danger"
    assert "/resume" in [b["payload"] for m in reply.messages for b in m.get("buttons", [])]


def test_after_a_first_reply_without_country_a_typed_country_gives_its_numbers():
    t = turn("je suis en belgique", lang="fr", country=None)
    t.slots["support"] = {"return_to": "menu", "topic": "self_harm", "level": "danger"}
    reply = support.follow_up(t)
    assert reply.slots["country"] == "BE"
    phones = [h["phone"] for p in reply.payloads("safeguard") for h in p["helplines"]]
    assert "0800 32 123" in phones and "112" in phones


# ------------------------------------------------------------------ questions


@pytest.mark.parametrize(
    ("text", "lang", "topic"),
    [
        ("c'est quoi le grooming ?", "fr", "grooming"),
        ("what is grooming", "en", "grooming"),
        ("cest quoi la sextorsion", "fr", "sextortion"),
        ("how do i block someone on snap", "en", "blocking"),
        ("comment on signale un compte", "fr", "reporting"),
        ("what's a helpline?", "en", "helpline"),
        ("c'est ma faute ?", "fr", "fault"),
    ],
)
@pytest.mark.parametrize("mode", ["menu", "story", "quiz", "support", "rehearsal"])
def test_a_safety_question_is_answered_anywhere(text, lang, topic, mode):
    slots = {"mode": mode, "story": {"id": "skin_gift", "step": "start"}}
    reply = dialogue.handle_text(turn(text, "share_everyday", lang=lang, **slots))
    assert reply.texts[0] == texts.t(f"support.faq.{topic}", lang)
    if mode == "story":
        assert "/resume" in [b["payload"] for m in reply.messages for b in m.get("buttons", [])]


@pytest.mark.parametrize("text", ["i'd block him", "je le signale", "report him", "i would report"])
def test_a_story_answer_is_not_taken_for_a_question(text):
    assert support.answer_question(turn(text, "ask_safety_question", mode="story")) is None


def test_an_unclear_question_offers_the_faq():
    reply = support.answer_question(turn("i have a question", "ask_safety_question", mode="menu"))
    assert reply is not None and reply.texts == [texts.t("support.faq.choose", "en")]
    payloads = [b["payload"] for m in reply.messages for b in m.get("buttons", [])]
    assert '/ask_safety_question{"faq":"grooming"}' in payloads
    chosen = turn("/ask_safety_question", "ask_safety_question", mode="menu")
    chosen.entities = {"faq": "grooming"}
    assert support.answer_question(chosen).texts == [texts.t("support.faq.grooming", "en")]


def test_every_faq_topic_has_its_answer_and_button_in_both_languages():
    for topic in followup.faq_topics():
        for lang in ("en", "fr"):
            assert texts.has(f"support.faq.{topic}", lang)
            assert texts.has(f"support.faq.ask.{topic}", lang)
    for kind in set(followup.kind_names()) - {"what_now"}:  # what_now: the steps
        for lang in ("en", "fr"):
            assert texts.has(f"support.reassure.{kind}", lang)


# ------------------------------------------------------------------ telling a grown-up


def test_help_me_tell_a_grown_up_then_practise():
    reply = support.pick_adult(turn("/pick_adult", "pick_adult"))
    assert reply.texts == [texts.t("safeguard.pick_adult_question", "en")]
    assert reply.slots["support"]["asked_adult"] is True
    # typed answer to the question
    t = turn("my aunt", "nlu_fallback", support=reply.slots["support"])
    chosen = dialogue.handle_text(t)
    assert chosen.slots["mode"] == "rehearsal"
    assert chosen.slots["support"]["adult"] == "family"
    worry = {"return_to": "menu", "topic": "worry", "level": "concern"}
    picked = support.pick_adult(
        Turn(
            "pick_adult",
            1.0,
            {"adult": "teacher"},
            "/pick_adult",
            {},
            {"support": worry, "language": "fr", "language_locked": True},
        )
    )
    assert texts.t("safeguard.first_sentence_worry", "fr") in picked.texts


def test_a_fear_typed_in_the_rehearsal_is_not_praised():
    t = turn("jai peur quil se fache si je le dis a ma mere", lang="fr", mode="rehearsal")
    reply = dialogue.handle_text(t)
    assert texts.t("safeguard.practice_feedback_good", "fr") not in reply.texts
    assert reply.texts[0] == texts.t("support.reassure.found_out", "fr")
    assert reply.slots["mode"] == "support"
    # a real practice sentence is praised
    practised = dialogue.handle_text(
        turn("maman, quelqu'un sur snap me demande des photos de moi", lang="fr", mode="rehearsal")
    )
    assert practised.texts[0] == texts.t("safeguard.practice_feedback_good", "fr")


def test_the_offer_hook_adds_buttons_to_the_adult_question(monkeypatch):
    monkeypatch.setattr(
        support,
        "tell_adult_offers",
        lambda t, r: [{"title": "Tell my teacher", "payload": "/offer"}],
    )
    reply = support.ask_adult(turn("/pick_adult", "pick_adult"))
    assert reply.messages[-1]["buttons"][-1]["payload"] == "/offer"


def test_nothing_typed_is_kept_in_the_support_state():
    reply = support.follow_up(turn("zebracorn scared me"))
    assert "zebracorn" not in repr(reply.slots)


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("/support_steps", "support_steps"),
        ("what should i do", "nlu_fallback"),
        ("je fais quoi maintenant", "support_steps"),
    ],
)
def test_what_can_i_do_now_gives_the_steps_of_the_topic(text, intent):
    worry = {"return_to": "story", "topic": "worry", "level": "concern"}
    lang = "fr" if "je" in text else "en"
    t = turn(text, intent, lang=lang, support=worry)
    reply = support.steps(t) if text.startswith("/") else dialogue.handle_text(t)
    assert reply.texts == [texts.t("safeguard.steps.worry", lang)]
    payloads = [b["payload"] for m in reply.messages for b in m.get("buttons", [])]
    assert payloads == ["/help", "/pick_adult", "/resume"]


def test_typed_requests_for_an_activity_leave_support():
    story = {"return_to": "story", "topic": "online", "level": "concern"}
    reply = dialogue.handle_text(turn("lets play a story", "start_story", support=story))
    assert reply.slots.get("mode") != "support"
    assert "/resume" not in [b["payload"] for m in reply.messages for b in m.get("buttons", [])]


def _safeguard_payloads(reply):
    return [
        m["custom"]
        for m in reply.messages
        if isinstance(m.get("custom"), dict) and m["custom"].get("kind") == "safeguard"
    ]


@pytest.mark.parametrize("lang", ["en", "fr"])
def test_a_further_disclosure_in_support_mode_carries_the_payload(lang):
    """Docs/contract.md: the reply to any message in which a child discloses
    carries the safeguard payload; after a first disclosure the text stays the
    short in-context one and the buttons stay on the last bubble."""
    told = turn("...", "disclose_problem", lang=lang)
    told.entities.update({"safeguard_level": "danger", "safeguard_topic": "sextortion"})
    reply = support.follow_up(told)
    guard = _safeguard_payloads(reply)
    assert len(guard) == 1 and guard[0]["level"] == "danger" and guard[0]["lang"] == lang
    assert guard[0]["country"] == "FR" and guard[0]["helplines"]
    assert reply.messages[-1].get("buttons") and "custom" not in reply.messages[-1]
    assert reply.slots["support"]["level"] == "danger"
    # a follow-up that discloses nothing new gets no payload
    assert _safeguard_payloads(support.follow_up(turn("what if he finds out", lang=lang))) == []
