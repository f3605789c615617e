"""The moment after a disclosure, over REST against the running servers, in both
languages: the quick exit, the first reply's shape and numbers, what the child
says next (support mode), the FAQ, the non-online worry and the message check."""

from __future__ import annotations

import re

import pytest
import requests

from bot import text as t
from tests.e2e.conftest import Chat, buttons, payloads, texts

DISCLOSURE = {
    "en": "a man on snap keeps asking me for pics",
    "fr": "un monsieur sur insta me demande des photos de moi",
}
EVIDENCE = re.compile(r"screenshot|capture|block|bloqu|report|signal", re.I)


def bubbles(reply) -> list[str]:
    return [m["text"] for m in reply if m.get("text")]


def set_slots(stack, chat: Chat, **slots) -> None:
    """What the NLU would have set for a disclosure of this kind (Rasa's HTTP API)."""
    events = [{"event": "slot", "name": name, "value": value} for name, value in slots.items()]
    answer = requests.post(
        f"{stack.rasa_url}/conversations/{chat.sender}/tracker/events",
        params={"token": stack.settings.rasa_token},
        json=events,
        timeout=30,
    )
    assert answer.status_code == 200, answer.text[:300]


# ------------------------------------------------------------------ quick exit


@pytest.mark.parametrize(("lang", "word"), [("en", "blue banana"), ("fr", "banane bleue")])
def test_safe_word_inside_a_story_ends_the_conversation_with_the_exit_payload(chat, lang, word):
    chat.send(f'/set_language{{"language":"{lang}"}}')
    chat.send('/start_story{"story_id":"skin_gift"}')
    reply = chat.send(word)
    assert payloads(reply, "exit") == [{"kind": "exit", "lang": lang}]
    assert texts(reply) == [t.t("menu.exit", lang)]
    assert buttons(reply) == []


def test_exit_payload_over_rest(chat):
    reply = chat.send("/exit")
    assert payloads(reply, "exit") == [{"kind": "exit", "lang": "en"}]
    # nothing is left of the conversation: the next message starts afresh
    reply = chat.send("/resume")
    assert not any(b["payload"].startswith("/story_choice") for b in buttons(reply))


# ------------------------------------------------------------------ the first reply


@pytest.mark.parametrize(
    ("lang", "country", "phone"),
    [
        ("en", "GB", "0800 1111"),
        ("fr", "FR", "3018"),
        ("fr", "BE", "116 000"),
        ("en", "AU", "1800 55 1800"),
    ],
)
def test_first_reply_is_three_bubbles_with_the_countrys_helpline_once(chat, lang, country, phone):
    reply = chat.send(DISCLOSURE[lang], {"language": lang, "country": country})
    assert len(bubbles(reply)) == 3
    guard = payloads(reply, "safeguard")
    assert len(guard) == 1 and guard[0]["country"] == country and guard[0]["lang"] == lang
    phones = [h["phone"] for h in guard[0]["helplines"]]
    assert phone in phones and len(phones) == len(set(phones))
    follow = [b["payload"] for b in buttons(reply)]
    assert {"/support_steps", "/help", "/pick_adult"} <= set(follow)


@pytest.mark.parametrize(
    ("lang", "country", "crisis"),
    [("en", "US", "988"), ("fr", "CH", "147"), ("fr", "CA", "988"), ("en", "IE", "116 123")],
)
def test_self_harm_is_danger_with_the_crisis_line_first(chat, lang, country, crisis):
    text = {"en": "i want to kill myself", "fr": "j'ai envie de me tuer"}[lang]
    reply = chat.send(text, {"language": lang, "country": country})
    guard = payloads(reply, "safeguard")[0]
    assert guard["level"] == "danger"
    assert crisis in [h["phone"] for h in guard["helplines"]][:3]
    assert bubbles(reply)[0] == t.t("safeguard.intro.self_harm.danger", lang)
    assert not EVIDENCE.search(" ".join(bubbles(reply)))


@pytest.mark.parametrize("lang", ["en", "fr"])
def test_a_worry_not_about_someone_online_gets_the_child_helpline_and_no_screenshots(stack, lang):
    chat = Chat(stack.rasa_url)
    chat.send(f'/set_language{{"language":"{lang}"}}', {"country": "FR"})
    set_slots(stack, chat, safeguard_level="concern", safeguard_topic="worry")
    reply = chat.send("/disclose_problem")
    assert bubbles(reply)[0] == t.t("safeguard.intro.worry.concern", lang)
    assert [h["phone"] for h in payloads(reply, "safeguard")[0]["helplines"]] == ["119"]
    assert not EVIDENCE.search(" ".join(bubbles(reply)))
    steps = chat.send("/support_steps")
    assert texts(steps)[0] == t.t("safeguard.steps.worry", lang)
    assert not EVIDENCE.search(texts(steps)[0])


def test_no_country_asks_for_it_with_chips_and_a_typed_answer_is_understood(chat):
    reply = chat.send(DISCLOSURE["fr"], {"language": "fr"})
    chips = [b["payload"] for b in buttons(reply) if b["payload"].startswith("/set_country")]
    assert len(chips) == 9 and chips[0] == '/set_country{"country":"FR"}'
    assert payloads(reply, "safeguard")[0]["country"] is None
    reply = chat.send("je suis en belgique")
    guard = payloads(reply, "safeguard") or payloads(reply, "helplines")
    assert guard and guard[0]["country"] == "BE"
    assert "116 000" in [h["phone"] for h in guard[0]["helplines"]]


# ------------------------------------------------------------------ what the child says next


FOLLOW_UPS = [
    ("fr", "jai peur quil se fache si je le dis a ma mere", "support.reassure.found_out"),
    ("en", "what if he finds out", "support.reassure.found_out"),
    ("en", "but i dont want to tell anyone", "support.reassure.not_tell"),
    ("fr", "je veux pas le dire a mes parents", "support.reassure.not_tell"),
    ("en", "its my fault", "support.reassure.fault"),
    ("fr", "c'est ma faute", "support.reassure.fault"),
]


DANGER_AFTER = {
    "en": "he says he will send my pics to everyone at school unless i pay him tonight",
    "fr": "il dit qu'il va envoyer mes photos a toute l'ecole si je le paye pas ce soir",
}


@pytest.mark.parametrize("lang", ["en", "fr"])
def test_a_danger_told_after_a_first_disclosure_gets_the_payload_with_danger(chat, lang):
    """The contract: the reply to ANY message in which a child discloses carries
    the safeguard payload, also in the conversation after a first disclosure."""
    first = chat.send(DISCLOSURE[lang], {"language": lang, "country": "FR"})
    assert payloads(first, "safeguard")
    reply = chat.send(DANGER_AFTER[lang])
    guard = payloads(reply, "safeguard")
    assert guard and guard[0]["level"] == "danger" and guard[0]["lang"] == lang, reply
    assert guard[0]["country"] == "FR" and guard[0]["helplines"]
    assert len(texts(reply)) <= 3  # the short in-context reply, not the whole script


@pytest.mark.parametrize(("lang", "text", "key"), FOLLOW_UPS)
def test_follow_ups_get_reassurance_and_one_next_step_never_rehearsal_praise(chat, lang, text, key):
    chat.send(DISCLOSURE[lang], {"language": lang, "country": "FR"})
    reply = chat.send(text)
    said = texts(reply)
    assert said[0] == t.t(key, lang), said
    assert t.t("safeguard.practice_feedback_good", lang) not in said
    assert t.t("safeguard.practice_feedback_short", lang) not in said
    # not the whole first reply again: no intro, at most reassurance + next step
    # (a follow-up the NLU reads as a further disclosure also carries the
    # safeguard payload, as every disclosure does: docs/contract.md)
    intros = {t.t(k, lang) for k in t.keys(lang, "safeguard.intro.")}
    assert not intros & set(said) and len(said) <= 3, said
    assert "/pick_adult" in [b["payload"] for b in buttons(reply)]


@pytest.mark.parametrize(
    ("lang", "text", "topic"),
    [("en", "what is grooming", "grooming"), ("fr", "c'est quoi le grooming ?", "grooming")],
)
def test_a_question_after_a_disclosure_is_answered_not_praised(chat, lang, text, topic):
    chat.send(DISCLOSURE[lang], {"language": lang, "country": "FR"})
    chat.send('/pick_adult{"adult":"parent"}')  # the rehearsal is open
    reply = chat.send(text)
    assert texts(reply)[0] == t.t(f"support.faq.{topic}", lang)
    assert t.t("safeguard.practice_feedback_short", lang) not in texts(reply)


@pytest.mark.parametrize(
    ("lang", "text", "topic"),
    [
        ("fr", "c'est quoi le grooming ?", "grooming"),
        ("en", "what is sextortion?", "sextortion"),
        ("en", "how do i block someone", "blocking"),
        ("fr", "comment on signale un compte", "reporting"),
    ],
)
def test_the_faq_anywhere_menu_and_story(chat, lang, text, topic):
    reply = chat.send(text, {"language": lang})
    assert texts(reply)[0] == t.t(f"support.faq.{topic}", lang)
    chat.send('/start_story{"story_id":"skin_gift"}')
    reply = chat.send(text)
    assert texts(reply)[0] == t.t(f"support.faq.{topic}", lang)
    assert "/resume" in [b["payload"] for b in buttons(reply)]


def test_leaving_support_mode_by_the_menu(chat):
    chat.send(DISCLOSURE["en"], {"country": "GB"})
    reply = chat.send("/start")
    assert t.t("menu.greeting", "en") in texts(reply)
    reply = chat.send("hello again")
    assert t.t("support.reassure.greet", "en") not in texts(reply)


# ------------------------------------------------------------------ the message check


@pytest.mark.parametrize(
    ("lang", "paste"),
    [
        ("en", "if u dont send more pics i will post the one u sent to all ur followers"),
        (
            "fr",
            "si tu m'envoies pas d'autres photos je montre celle que t'as envoyé à tout le monde",
        ),
    ],
)
def test_check_a_message_offers_help_in_one_line_not_the_whole_script(chat, lang, paste):
    chat.send(f'/set_language{{"language":"{lang}"}}', {"country": "FR"})
    chat.send("/check_message")
    reply = chat.send(paste)
    check = payloads(reply, "tactic_check")
    assert check and "threat" in check[0]["tactics"]
    assert payloads(reply, "safeguard") == []
    offer = [b for b in buttons(reply) if b["payload"] == "/disclose_problem"]
    assert len(offer) == 1 and offer[0]["title"] == t.t("check.buttons.its_me", lang)
    assert len(buttons(reply)) <= 3
    # one tap away: the safeguarding reply, danger, with the crisis line
    reply = chat.send("/disclose_problem")
    guard = payloads(reply, "safeguard")
    assert guard and guard[0]["level"] == "danger"
    assert "3114" in [h["phone"] for h in guard[0]["helplines"]]


# ------------------------------------------------------------------ a quiet log


def test_a_normal_session_writes_no_error_or_warning_to_rasas_log(stack):
    """Every reply of a normal session, the country chips included (whose
    ``{...}`` payloads Rasa once read as slot templates, one ERROR per chip)."""
    logs = {name: stack.logs[name] for name in ("rasa", "actions")}
    start = {name: path.stat().st_size for name, path in logs.items()}
    chat = Chat(stack.rasa_url)
    chat.send("/start")
    chat.send("hello")
    chat.send('/start_story{"story_id":"skin_gift"}')
    chat.send("i'd tell my mum")
    chat.send(DISCLOSURE["en"])  # no country: the chips
    chat.send("what if he finds out")
    chat.send("/support_steps")
    chat.send("/pick_adult")
    chat.send('/pick_adult{"adult":"teacher"}')
    chat.send("/help")
    chat.send('/set_country{"country":"GB"}')
    chat.send("what is grooming")
    chat.send("/check_message")
    chat.send("dont tell ur mum, send me a pic")
    chat.send("/disclose_problem")
    chat.send("/start_quiz")
    chat.send("/exit")
    for name, path in logs.items():
        with path.open("rb") as log:
            log.seek(start[name])
            written = log.read().decode("utf-8", "replace")
        bad = [
            line
            for line in written.splitlines()
            if re.search(r"\b(ERROR|WARNING|Traceback|UserWarning)\b|\[(error|warning)\b", line)
        ]
        assert bad == [], f"{name}: {bad[:5]}"
