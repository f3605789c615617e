"""Free-text understanding: preparation, negation, choices, rehearsal, measured figures."""

from __future__ import annotations

import importlib.util
from types import ModuleType

import pytest

from bot.paths import ROOT
from bot.stories import understand
from bot.stories.model import get_story, stories

TARGET = 0.9


def _eval_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "eval_stories", ROOT / "scripts" / "eval_stories.py"
    )
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize(
    ("text", "clauses"),
    [
        ("I'd tell my MOM!!", [["i", "d", "tell", "my", "mom"]]),
        ("jlui réponds pa", [["j", "lui", "reponds", "pas"]]),
        ("Non, jenvoie rien", [["non"], ["j", "envoie", "rien"]]),
        (
            "i won't send it and i'll tell my dad",
            [["i", "will", "not", "send", "it"], ["i", "ll", "tell", "my", "dad"]],
        ),
        ("nooooo", [["no"]]),
    ],
)
def test_prepare(text: str, clauses: list[list[str]]) -> None:
    assert understand.prepare(text) == clauses


@pytest.mark.parametrize(
    ("text", "strategy"),
    [
        ("I won't tell my mom", "keep_secret"),
        ("je le dis pas a ma mere", "keep_secret"),
        ("jlui reponds pas", "ignore"),
        ("i wouldn't send it", "refuse"),
        ("nope not going on snap", "refuse"),
        ("je lui donne pas mon adresse", "refuse"),
        ("I'd tell my mum", "tell_adult"),
        ("je le bloque", "block_report"),
    ],
)
def test_negation_changes_the_strategy(text: str, strategy: str) -> None:
    analysis = understand.analyse(text, use_model=False)
    ranked = understand.load_lexicon().rank(analysis.scores)
    assert ranked and ranked[0] == strategy, analysis.scores


@pytest.mark.parametrize("text", ["idk", "jsp", "je sais pas", "i don't know"])
def test_unsure(text: str) -> None:
    assert understand.analyse(text).unsure


@pytest.mark.parametrize(
    ("text", "number"),
    [
        ("2", 2),
        ("the first one", 1),
        ("le deuxième", 2),
        ("choix 3", 3),
        ("just one", None),
        ("no", None),
    ],
)
def test_position(text: str, number: int | None) -> None:
    assert understand.position(text) == number


def test_closest_equivalent_when_the_step_lacks_the_strategy() -> None:
    story = get_story("follower_bribe")
    assert story is not None
    offer = story.steps["offer"]  # no_thanks (refuse), tell_mum, accept
    assert understand.choice_for(offer, "I'd ignore him").choice_id == "no_thanks"
    assert understand.choice_for(offer, "i'd go on his snap").choice_id == "accept"
    secret = story.steps["secret"]  # tell_mum, block_report, keep_secret
    assert understand.choice_for(secret, "i'd tell my best friend").choice_id == "tell_mum"


def test_a_negated_risky_keyword_is_a_refusal() -> None:
    """A risky choice's own words with a negation before them: the child says
    the character does not do it."""
    challenge = get_story("live_gifts").steps["challenge"]  # type: ignore[union-attr]
    assert understand.choice_for(challenge, "she doesnt show her room").choice_id == "say_no"
    assert understand.choice_for(challenge, "she shows her room").choice_id == "do_challenge"
    app = get_story("live_coins").steps["secret_app"]  # type: ignore[union-attr]
    assert understand.choice_for(app, "il va pas sur chatzap").choice_id == "stay_here"
    assert understand.choice_for(app, "il va sur chatzap").choice_id == "go_app"
    help_step = get_story("recorded_call").steps["help"]  # type: ignore[union-attr]
    # no refusal choice here: the refusal goes to the safe choice its fallback finds
    assert understand.choice_for(help_step, "they dont delete anything").choice_id == "screenshots"
    assert understand.choice_for(help_step, "they delete it all").choice_id == "delete_all"


def test_rehearsal_priority_and_risk() -> None:
    assert (
        understand.read_rehearsal("no and I'm blocking you and telling my mum").category
        == "block_report"
    )
    assert understand.read_rehearsal("ok i'll send one but don't tell").category == "risky"
    assert understand.read_rehearsal("lol").category is None


@pytest.mark.parametrize("lang", ["en", "fr"])
def test_labelled_sets_reach_the_target(lang: str) -> None:
    script = _eval_script()
    for name, run in (
        ("free_text_choices", script.eval_choices),
        ("rehearsal", script.eval_rehearsal),
    ):
        right, total = run(name, lang, True, False)
        assert total >= 25
        assert right / total >= TARGET, f"{name}.{lang}: {right}/{total}"


@pytest.mark.parametrize("lang", ["en", "fr"])
def test_per_story_sets_reach_the_target_together(lang: str) -> None:
    script = _eval_script()
    names = [n for n in script.set_names() if n[len(script.kind_of(n)) + 1 :] in stories()]
    evaluated = script.evaluate(names)[lang]
    for kind in ("free_text_choices", "rehearsal"):
        results = [r for r in evaluated if script.kind_of(r.name) == kind]
        right, total = sum(r.right for r in results), sum(r.total for r in results)
        assert total >= 50
        assert right / total >= TARGET, f"{kind}_<story>.{lang}: {right}/{total}"


def test_eval_script_finds_every_set() -> None:
    script = _eval_script()
    names = script.set_names()
    assert names[:2] == ["free_text_choices", "rehearsal"]
    story_ids = set(stories())
    covered = {
        i["story"]
        for n in names
        if n.startswith("free_text_choices")
        for i in script._items(n, "en")
    }
    assert covered == story_ids
    for story_id in story_ids - {"follower_bribe", "skin_gift", "genuine_friend"}:
        assert f"free_text_choices_{story_id}" in names and f"rehearsal_{story_id}" in names
    assert script.main(["--only", "free_text_choices_meet_up", "--min", "0.5"]) == 0
    assert script.main(["--only", "free_text_choices_meet_up", "--min", "1.01"]) == 1


SAFE_REPLIES = {"refuse", "set_boundary", "tell_adult", "block_report", "ignore"}


@pytest.mark.parametrize("use_model", [True, False])
def test_safe_answers_are_never_judged_risky(use_model: bool) -> None:
    """Over every labelled set: an answer labelled safe never lands on a risky
    choice, and a safe practice reply is never called risky."""
    script = _eval_script()
    found = stories()
    harmful = []
    for name in script.set_names():
        for lang in ("en", "fr"):
            if not (script.EVAL_DIR / f"{name}.{lang}.yml").exists():
                continue
            for item in script._items(name, lang):
                expected = script._expected(item["expected"])
                text = str(item["text"])
                if script.kind_of(name) == "quiz_answers":
                    continue  # no story step: tests/unit/test_quiz.py
                if script.kind_of(name) == "rehearsal":
                    if expected and expected <= SAFE_REPLIES:
                        reading = understand.read_rehearsal(text, use_model=use_model)
                        if reading.category == "risky":
                            harmful.append((name, lang, text))
                    continue
                story = found[item["story"]]
                step = story.steps[item["step"]]
                # "safe or ask again" ([keep_private, null]) is a safe label too
                meant = expected - {None}
                if not meant:
                    continue
                if all(step.choice(e).safe for e in meant):  # type: ignore[union-attr]
                    match = understand.choice_for(
                        step, text, script.labels_for(story, step), use_model=use_model
                    )
                    chosen = step.choice(match.choice_id)
                    if chosen is not None and not chosen.safe:
                        harmful.append((name, lang, text))
    assert harmful == []


# --- what the story writers found (docs/stories.md, "Engine quirks") -----------


@pytest.mark.parametrize(
    ("text", "category"),
    [
        ("no I don't tell my address", "set_boundary"),  # a limit, never keeping a secret
        ("quit asking me for secrets", "set_boundary"),
        ("arrete de me demander des secrets", "set_boundary"),
        ("je raconte tout a mon pere", "tell_adult"),  # not sharing information
        ("ok i'll tell my dad", "tell_adult"),  # a vague "ok" is not a clear yes
        ("you're right, leave me alone", "set_boundary"),
        ("i won't tell", "risky"),
        ("je dirai rien", "risky"),
        ("je me tais", "risky"),
        ("i promise", "risky"),
        ("i promise i'll tell my mum", "tell_adult"),
        ("you're right only you understand me", "risky"),
        ("ta raison y a que toi", "risky"),
        ("ok i will pay", "risky"),
        ("je te paie demain", "risky"),
        ("je te le renvoie", "risky"),
        ("not paying", "refuse"),
        ("je payerai jamais", "refuse"),
        ("jveu pas", "refuse"),
        ("jtenvoie rien", "refuse"),
    ],
)
def test_writers_phrasings_in_rehearsal(text: str, category: str) -> None:
    assert understand.read_rehearsal(text, use_model=False).category == category


@pytest.mark.parametrize(
    ("text", "strategy"),
    [
        ("she says nothing to her parents", "keep_secret"),
        ("il le cache a ses parents", "keep_secret"),
        ("elle dit tout a sa mere", "tell_adult"),
        ("he stopped replying", "ignore"),
        ("she keeps chatting", "go_along"),
        ("il veut pas", "refuse"),
        ("il ira pas", "refuse"),
        ("he gives his real name", "share_info"),
        ("elle va pas le dire a sa maman", "keep_secret"),  # not a refusal
        ("she doesn't want to tell her mum", "keep_secret"),
    ],
)
def test_writers_phrasings_strategy(text: str, strategy: str) -> None:
    analysis = understand.analyse(text, use_model=False)
    ranked = understand.load_lexicon().rank(analysis.scores)
    assert ranked and ranked[0] == strategy, analysis.scores


@pytest.mark.parametrize(("text", "score"), [("parents", 0.5), ("no", 0.5), ("secret", 0.5)])
def test_a_word_in_both_language_lists_counts_once(text: str, score: float) -> None:
    assert sum(understand.analyse(text, use_model=False).scores.values()) == score


ADULT_MENTIONS = [
    "talk to her mum",
    "he tells his dad",
    "ok she tells her mum",
    "yes and she asks a grown up",
    "she talks to her friend",
    "elle en parle a sa mere",
    "ok il le dit a son pere",
    "oui et elle demande a un adulte",
]


@pytest.mark.parametrize("text", ADULT_MENTIONS)
def test_telling_someone_never_lands_on_a_risky_choice(text: str) -> None:
    for story in stories().values():
        for step in story.steps.values():
            for use_model in (True, False):
                match = understand.choice_for(step, text, use_model=use_model)
                chosen = step.choice(match.choice_id)
                assert chosen is None or chosen.safe, (story.id, step.id, match)


def test_chat_fallback_does_not_take_an_adult_mention_to_a_risky_choice() -> None:
    story = get_story("flattery_isolation")
    assert story is not None
    step = story.steps["compliments"]  # set_boundary, ignore, go_along: no grown-up choice
    assert understand.choice_for(step, "talk to her mum").choice_id is None
    assert understand.choice_for(step, "she chats with nova every night").choice_id == (
        "chat_every_night"
    )


def test_labelled_sets_cover_sms_speak() -> None:
    script = _eval_script()
    french = [str(i["text"]) for i in script._items("free_text_choices", "fr")]
    assert any(t.startswith("j") and not t.startswith("je ") for t in french)
    english = [str(i["text"]) for i in script._items("free_text_choices", "en")]
    assert any(i is None for i in (x["expected"] for x in script._items("free_text_choices", "en")))
    assert english and french


# --- negation never flips a choice (issue 20) ----------------------------------

BARE_NEGATIONS = [
    "he doesnt tell",
    "she doesnt tell",
    "she does not keep quiet",
    "he wont",
    "il dit pas",
    "elle le dit pas",
    "elle fait pas ca",
    "il veut pas",
]


@pytest.mark.parametrize("text", BARE_NEGATIONS)
def test_a_negation_never_guesses_a_risky_choice(text: str) -> None:
    """On every step of every story: a negated phrase picks a safe choice or
    asks again; it never lands on a risky one through a guess."""
    for story in stories().values():
        for step in story.steps.values():
            if step.kind != "choice":
                continue
            for use_model in (True, False):
                match = understand.choice_for(step, text, use_model=use_model)
                chosen = step.choice(match.choice_id)
                direct = chosen is not None and (
                    understand.analyse(text, use_model=False).scores.get(chosen.strategy, 0) >= 1
                )
                assert chosen is None or chosen.safe or direct, (story.id, step.id, match)


@pytest.mark.parametrize(
    ("story_id", "step_id", "text"),
    [
        ("fake_peer", "questions", "she doesnt tell"),
        ("meet_up", "where", "he doesnt tell"),
        ("fake_peer", "questions", "elle dit pas"),
        ("meet_up", "where", "il dit pas quelle ecole"),
    ],
)
def test_a_bare_negation_asks_which_choice(story_id: str, step_id: str, text: str) -> None:
    story = get_story(story_id)
    assert story is not None
    match = understand.choice_for(story.steps[step_id], text)
    assert match.choice_id is None or story.steps[step_id].choice(match.choice_id).safe  # type: ignore[union-attr]
    assert match.how in ("which", "none") or match.choice_id is not None


@pytest.mark.parametrize(
    ("story_id", "step_id", "text", "expected"),
    [
        # a negation in one language negates the other language's patterns too
        ("follower_bribe", "move_app", "she doesnt block him she adds him", "go_snapchat"),
        ("follower_bribe", "move_app", "elle le bloque pas elle l'ajoute", "go_snapchat"),
        # a safe move's own negation under another one ("doesn't say no")
        ("photo_steps", "selfie", "she doesnt say no, she sends it", "send_selfie"),
        ("photo_steps", "selfie", "elle dit pas non elle l'envoie", "send_selfie"),
        # a subject after a negation starts a new statement
        ("follower_bribe", "photo", "elle veut pas mais elle envoie une photo", "send_selfie"),
        # the usual negated readings still hold, in both languages
        ("skin_gift", "secret", "he doesnt tell his mum", "keep_secret"),
        ("skin_gift", "secret", "il le dit pas a sa mere", "keep_secret"),
        ("skin_gift", "school", "he doesnt give his address", "keep_private"),
        ("skin_gift", "school", "il donne pas son adresse", "keep_private"),
        ("follower_bribe", "photo", "she doesnt send a selfie", "say_no"),
        ("follower_bribe", "photo", "elle envoie pas de selfie", "say_no"),
        # "why not" / "pourquoi pas" say yes
        ("follower_bribe", "offer", "yeah why not", "accept"),
        ("follower_bribe", "offer", "ouais pourquoi pas", "accept"),
        # double negatives that agree (round 2): the weak yes, then what follows
        ("photo_steps", "selfie", "lina wouldnt mind sending it", "send_selfie"),
        ("photo_steps", "selfie", "ca la gene pas de l'envoyer", "send_selfie"),
        ("meet_up", "invite", "theo thinks why not", "say_yes"),
        ("meet_up", "invite", "theo dit pas non", "say_yes"),
        ("skin_gift", "gift", "leo has nothing against the gems", "take_gems"),
        ("skin_gift", "gift", "leo a rien contre ces gemmes", "take_gems"),
        ("follower_bribe", "offer", "she does not refuse the followers", "accept"),
        ("follower_bribe", "offer", "mia refuse pas les abonnes", "accept"),
        # never / nobody / nothing, and French "plus", refuse
        ("skin_gift", "secret", "leo never says a word to his mum", "keep_secret"),
        ("skin_gift", "secret", "she says nothing", "keep_secret"),  # the pattern's own "nothing"
        ("vanishing_app", "questions", "he tells nobody his number", "keep_private"),
        ("follower_bribe", "photo", "she sends him nothing", "say_no"),  # a negation after
        ("skin_gift", "secret", "she tells her mum nothing", "keep_secret"),
        ("vanishing_app", "invite", "il l'ajoute plus", "stay_here"),
        ("follower_bribe", "move_app", "elle va plus sur snap", "stay_here"),
        ("follower_bribe", "photo", "elle en envoie plus", "say_no"),
        ("skin_gift", "grown_up", "il joue plus avec lui", "block_report"),
        # French "plus" that means "more" or "later" is no negation
        ("live_coins", "coins", "il en demande plus", "ask_more"),
        ("live_gifts", "settings", "elle veut plus de fans", "all_open"),
        ("photo_steps", "private", "elle dit plus tard", "maybe_later"),
        # "pas question que" / "hors de question de" refuse what follows (before:
        # "hors de question que elle paye" was the risky "pay")
        ("recorded_call", "threat", "hors de question que elle paye", "stop_reply"),
        ("recorded_call", "threat", "pas question qu elle leur donne de l argent", "stop_reply"),
        ("recorded_call", "threat", "pas question de payer ce type", "stop_reply"),
        # keeping one's own details secret is keeping them private (before: "il garde
        # son nom secret" gave the name), while keeping "it" secret stays a secret
        ("live_coins", "name", "il garde son nom secret", "keep_private"),
        ("live_coins", "name", "she keeps her name and school private", "keep_private"),
        ("skin_gift", "school", "he keeps his address to himself", "keep_private"),
        ("skin_gift", "school", "elle garde son adresse pour elle", "keep_private"),
        ("secret_request", "secret", "she keeps it secret", "keep_secret"),
        # issue 22's stories in other words (2026-12-08; 10/19 of these before)
        ("recorded_call", "threat", "he sends her the money", "pay"),
        ("recorded_call", "threat", "il lui file tout son argent de poche", "pay"),
        ("recorded_call", "threat", "he doesnt give her any money", "stop_reply"),
        ("live_gifts", "challenge", "she goes off live", "end_live"),
        ("live_gifts", "challenge", "she quits streaming", "end_live"),
        ("live_gifts", "challenge", "elle arrête de streamer", "end_live"),
        ("live_gifts", "secret", "she keeps quiet about it", "keep_secret"),
        ("live_gifts", "secret", "she doesnt keep quiet, she tells", "tell_mum"),
        ("group_chat", "worried", "she goes and tells sir", "tell_teacher"),
        ("group_chat", "friend", "she tells miss so jules gets help", "tell_teacher"),
        ("group_chat", "added", "elle quitte la conversation", "leave_report"),
        # plain answers
        ("meet_up", "invite", "theo says yes", "say_yes"),
    ],
)
def test_negation_in_both_languages(story_id: str, step_id: str, text: str, expected: str) -> None:
    story = get_story(story_id)
    assert story is not None
    step = story.steps[step_id]
    labels = {
        c.id: [
            __import__("bot.text", fromlist=["t"]).t(
                story.key("steps", step.id, "choices", c.id, "label"), lang
            )
            for lang in ("en", "fr")
        ]
        for c in step.choices
    }
    for use_model in (True, False):
        assert understand.choice_for(step, text, labels, use_model=use_model).choice_id == expected


@pytest.mark.parametrize(
    ("text", "category"),
    [
        ("i wont keep it a secret", None),  # a vague risky word under a negation is not risky
        ("je garderai pas le secret", "tell_adult"),  # negated secret: telling
        ("i won't tell my mum", "risky"),
        ("je le dirai pas a ma mere", "risky"),
        ("i wont send any pics", "refuse"),
        ("j'envoie pas de photo", "refuse"),
        # double negatives that agree are risky; what follows still counts
        ("i wouldnt mind", "risky"),
        ("no problem", "risky"),
        ("sure, i have nothing against that", "risky"),
        ("i wont refuse", "risky"),
        ("ca me gene pas", "risky"),
        ("pas de souci", "risky"),
        ("je refuserai pas", "risky"),
        ("i dont mind telling my mum", "tell_adult"),
        ("ca me derange pas d'en parler a ma mere", "tell_adult"),
        # never / nobody / nothing / plus / personne refuse
        ("i never share my address", "set_boundary"),
        ("im not playing with you anymore", "refuse"),
        ("i tell no one my school", "refuse"),  # one's details, not a secret
        ("je dis a personne ou j habite", "refuse"),
        ("nobody can make me send a pic", "refuse"),
        ("rien ne me fera envoyer une photo", "refuse"),
        ("je reponds plus a tes messages", "ignore"),
        ("plus jamais je t'envoie rien", "refuse"),
        ("je joue plus", "refuse"),
        ("me demande plus ca", "set_boundary"),  # "demande plus" after "me" stays a negation
        # keeping a secret is still risky
        ("i tell nobody", "risky"),
        ("je dis rien a personne", "risky"),
        # a negation after an interjection is about what follows: never a refusal
        # (a vague yes in a text holding a negation is asked about again)
        ("ok noone is gonna see it", None),
        ("oui personne le verra", None),
    ],
)
def test_negation_in_practice_replies(text: str, category: str | None) -> None:
    assert understand.read_rehearsal(text).category == category


@pytest.mark.parametrize(
    ("text", "negation"),
    [
        ("je lui reponds plus", True),
        ("je parle plus avec lui", True),
        ("il en demande plus", False),
        ("peut etre plus tard", False),
        ("c'est le plus drole", False),
        ("elle est plus grande que moi", False),
        ("je le dis a une personne de confiance", False),  # a noun, not "nobody"
        ("je le dis a personne", True),
        ("plus i tell my mum", True),  # English "plus": only the guard, never a pattern
        ("i tell nobody", True),
        ("n i tell my mum", False),  # English kid spelling of "and"
    ],
)
def test_which_words_hold_a_negation(text: str, negation: bool) -> None:
    lexicon = understand.load_lexicon()
    assert understand.has_negation(lexicon, understand.prepare(text)) is negation


def test_english_plus_does_not_negate_a_pattern() -> None:
    assert understand.read_rehearsal("plus i tell my mum").category == "tell_adult"


def test_the_engine_asks_which_choice_after_a_bare_negation() -> None:
    from bot import stories as engine
    from bot import text as texts
    from tests.conftest import make_turn

    story = get_story("fake_peer")
    assert story is not None
    state = {
        "v": 1,
        "id": "fake_peer",
        "step": "questions",
        "tries": 0,
        "history": [],
        "spotted": [],
        "missed": [],
    }
    for lang, text in (("en", "she doesnt tell"), ("fr", "elle dit rien")):
        turn = make_turn(text=text, language=lang, mode="story", story=state)
        reply = engine.handle_text(turn)
        assert reply.texts[0] == texts.t("story_ui.which", lang, name="Lina")
        assert reply.slots["story"]["step"] == "questions"
        assert reply.slots["story"]["history"] == []
        assert len(reply.messages[0]["buttons"]) == 3
