"""The safeguarding safety net (bot/safeguarding/screen.py, data/safeguarding/).

The sentences here are the tests' own: the evaluation sets under
data/eval/safeguarding/ are only read by the target test at the end.
"""

from __future__ import annotations

import dataclasses
import importlib.util
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest
import yaml

from bot.safeguarding import screen as sg
from bot.safeguarding.screen import CATEGORIES, NOTHING, PatternError, Screening, screen

ROOT = Path(__file__).resolve().parents[2]
EVAL_DIR = ROOT / "data" / "eval" / "safeguarding"
DEV_FILE = ROOT / "tests" / "data" / "safeguarding_dev.yml"


# ------------------------------------------------------------------ the data


def test_patterns_load_and_every_regex_compiles() -> None:
    net = sg.load_net()
    rules = list(net.all_rules())
    assert len(rules) > 100
    for rule in rules:
        assert rule.match.pattern
        for unless in rule.unless:
            assert unless.pattern
    assert [c.name for c in net.categories] == list(CATEGORIES)


def test_every_category_has_rules_and_examples_in_both_languages() -> None:
    raw = yaml.safe_load(sg.PATTERNS_FILE.read_text(encoding="utf-8"))
    assert set(raw["categories"]) == set(CATEGORIES)
    for name, spec in raw["categories"].items():
        for lang in ("en", "fr"):
            assert spec[lang], f"{name}: no {lang} rules"
            assert len(spec["examples"][lang]) >= 2, f"{name}: needs {lang} examples"


@pytest.mark.parametrize(
    ("category", "lang", "text"),
    [
        (cat, lang, text)
        for cat, langs in sg.examples().items()
        for lang, texts in langs.items()
        for text in texts
    ],
)
def test_reviewer_examples_flag_their_category(category: str, lang: str, text: str) -> None:
    result = screen(text)
    assert result.flagged
    assert category in result.categories


@pytest.mark.parametrize(
    "problem",
    [
        "version: 1\n",
        "vocabulary: {}\nignore: {en: ['a'], fr: ['b']}\ncategories: {bribe: {}}\n",
    ],
)
def test_malformed_patterns_are_refused(tmp_path: Path, problem: str) -> None:
    path = tmp_path / "patterns.yml"
    path.write_text(problem, encoding="utf-8")
    with pytest.raises(PatternError):
        sg.load_net(path)


def _patterns_with(tmp_path: Path, old: str, new: str) -> Path:
    text = sg.PATTERNS_FILE.read_text(encoding="utf-8")
    assert old in text
    path = tmp_path / "patterns.yml"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return path


def test_a_regex_that_does_not_compile_is_refused(tmp_path: Path) -> None:
    path = _patterns_with(tmp_path, "      - '\\bunaliv\\w*\\b'", "      - '\\bunaliv(\\w*\\b'")
    with pytest.raises(PatternError, match="does not compile"):
        sg.load_net(path)


def test_an_unknown_placeholder_is_refused(tmp_path: Path) -> None:
    path = _patterns_with(tmp_path, "      - '\\bunaliv\\w*\\b'", "      - '<no_such_words>'")
    with pytest.raises(PatternError, match="unknown <no_such_words>"):
        sg.load_net(path)


# ------------------------------------------------------------- per category

FLAGS: list[tuple[str, str, str]] = [
    # (category, language, text)
    ("bribe", "en", "some guy in my game is offering me free vbucks to chat with him"),
    ("bribe", "fr", "un mec du jeu me propose des vbucks gratuits pour que je parle avec lui"),
    ("pressure", "en", "this man online wont leave me alone"),
    ("pressure", "fr", "un homme en ligne me harcele tous les jours"),
    ("photo_request", "en", "a boy from tiktok keeps asking me for pix"),
    ("photo_request", "fr", "un garcon de tiktok me demande tout le temps des fotos"),
    ("secrecy", "en", "he made me promise to keep our chats secret"),
    ("secrecy", "fr", "il m'a dit de rien dire a mes parents sur nos discussions"),
    ("app_switch", "en", "he keeps begging me to add him on snapchat"),
    ("app_switch", "fr", "il arrete pas de me demander de l'ajouter sur snapchat"),
    ("threat", "en", "hes threatening me and says ill regret it"),
    ("threat", "fr", "il me menace et il dit que je vais le regretter"),
    ("sextortion", "en", "he wants money or hell share my video with everyone"),
    ("sextortion", "fr", "il veut de l'argent sinon il partage ma video a tout le monde"),
    ("meeting", "en", "a man from fortnite wants to meet me next week"),
    ("meeting", "fr", "un monsieur de fortnite veut me rencontrer la semaine prochaine"),
    ("abuse", "en", "a grown up touched me and told me it was normal"),
    ("abuse", "fr", "un adulte m'a touchée et m'a dit que c'etait normal"),
    ("self_harm", "en", "i just want to kill myself"),
    ("self_harm", "fr", "je veux juste mourir"),
    ("personal_info", "en", "a stranger asked me what my address is"),
    ("personal_info", "fr", "un inconnu m'a demandé c'est quoi mon adresse"),
    ("intruder", "en", "there's a stranger knocking at my front door"),
    ("intruder", "fr", "y a un inconnu qui frappe a ma porte"),
]


@pytest.mark.parametrize(("category", "lang", "text"), FLAGS)
def test_each_category_flags_in_both_languages(category: str, lang: str, text: str) -> None:
    result = screen(text)
    assert result.flagged, text
    assert category in result.categories, (text, result)


def test_the_flag_table_covers_every_category_in_both_languages() -> None:
    covered = {(c, lang) for c, lang, _ in FLAGS}
    assert covered == {(c, lang) for c in CATEGORIES for lang in ("en", "fr")}


# ------------------------------------------------------------- near-misses

NEAR_MISSES = [
    # photos, followers, gifts
    "my mum posted a photo of our dog on insta",
    "j'ai eu 50 abonnés grâce à ma vidéo",
    "my friend sent me a funny pic",
    "ma soeur m'a envoyé une photo drole de son chat",
    "grandad gave me ten pounds for my birthday",
    "mamie m'a offert des robux pour mon anniversaire",
    # meeting relatives, secrets
    "je vais voir mon cousin demain",
    "we're meeting my aunt at the station tomorrow",
    "the teacher told us to keep the surprise party secret",
    "on garde le secret pour la fête surprise de papa",
    # idioms
    "i want to die laughing lol",
    "this game is killing me",
    "mdr je suis mort",
    "je suis morte de rire",
    "my big sister is going to kill me when she sees her jumper",
    # lesson questions and tricks the child repeats
    "what is sextortion?",
    "c'est quoi le chantage ?",
    "what does app switching mean",
    "never send pics to strangers",
    "il faut jamais donner son adresse sur internet",
    "groomers can pretend to be the same age as you",
    # story choices
    "I'd block him",
    "je le dis à ma mère",
    "jlui réponds pas",
    "no i wont add him on snap",
    "je lui envoie pas de photo",
    # ordinary chat
    "hello",
    "bonjour lumi",
    "can we do the quiz",
    "j'ai un chat qui s'appelle pompom",
]


@pytest.mark.parametrize("text", NEAR_MISSES)
def test_near_misses_do_not_flag(text: str) -> None:
    assert screen(text) == NOTHING, text


# ------------------------------------------------------------ level, personal


@pytest.mark.parametrize(
    "text",
    [
        "I want to die",
        "jveux mourir",
        "je veux me faire du mal",
        "someone is standing outside my front door",
        "il y a quelqu'un devant chez moi",
        "he said he's coming to pick me up tonight",
        "il vient me chercher ce soir",
        "i have until 8 to pay or he posts my pic",
        "je dois payer avant ce soir sinon il publie ma photo",
        "im meeting a guy from insta after school today",
        "je rencontre un mec d'insta aujourd'hui apres l'ecole",
        "he said he will hurt me if i tell",
        # sextortion in progress and abuse are danger with or without a deadline
        "il menace de publier ma photo",
        "im being blackmailed with a video",
        "my dad hits me and i have bruises",
    ],
)
def test_immediate_risk_is_danger(text: str) -> None:
    assert screen(text).level == "danger", text


@pytest.mark.parametrize(
    "text",
    [
        "a man on snap keeps asking me for pics",
        "il me demande des photos",
        "he wants to meet me one day",
        "someone keeps telling me to keep our chat secret",
    ],
)
def test_other_disclosures_are_concern(text: str) -> None:
    assert screen(text).level == "concern", text


@pytest.mark.parametrize(
    ("text", "personal"),
    [
        ("a man on snap keeps asking me for pics", True),
        ("someone is asking ME for photos", True),
        ("il me demande des photos", True),
        ("jai peur il dit quil va montrer ma photo", True),
        ("my friend is being asked for nudes", True),
        ("ma copine se fait demander des photos par un inconnu", True),
        ("he wants a photo", False),
        ("she says keep it secret", False),
        ("il veut une photo", False),
        ("elle lui demande son adresse", False),
        ("in the story he asks for her address", False),
        ("he keeps saying send me a pic", False),
        ("I want to die", True),
        ("jveux mourir", True),
        ("je veux me faire du mal", True),
    ],
)
def test_personal_flag(text: str, personal: bool) -> None:
    result = screen(text)
    assert result.flagged, text
    assert result.personal is personal, (text, result)
    if text in ("he wants a photo", "she says keep it secret", "il veut une photo"):
        assert result.level == "concern"


# --------------------------------------------------------------- normal form


@pytest.mark.parametrize(
    "text",
    [
        "il m'a demandé des photos",
        "il ma demander des fotos",
        "IL M'A DEMANDÉ DES PHOTOS",
        "il m\u2019a demandé des photos",
        "il m'a demandé des ph\u200botos",
        "il m'a demandé des phoooootos",
        "il\u00a0m'a  demandé   des photos",
    ],
)
def test_spelling_accents_repeats_and_invisible_characters(text: str) -> None:
    result = screen(text)
    assert result.flagged, text
    assert "photo_request" in result.categories
    assert result.personal


def test_hyphens_and_apostrophes_are_read_alike() -> None:
    assert sg.prepare("Envoie-moi") == sg.prepare("envoie moi")
    assert sg.prepare("j'ai") == sg.prepare("jai")
    assert sg.prepare("he\u2019ll") == "hell"


@pytest.mark.parametrize("text", ["", "   ", "\u200b", "/start", "👍", "!!!"])
def test_empty_and_payload_like_input(text: str) -> None:
    assert screen(text) == NOTHING


def test_screening_interface() -> None:
    result = screen("a man keeps asking me for nudes")
    assert isinstance(result, Screening)
    assert result.flagged
    assert result.level in ("concern", "danger")
    assert isinstance(result.categories, tuple)
    assert set(result.categories) <= set(CATEGORIES)
    with pytest.raises(dataclasses.FrozenInstanceError):
        result.level = None  # type: ignore[misc]
    assert not NOTHING.flagged


def test_a_disclosure_at_the_end_of_a_very_long_message_is_found() -> None:
    text = "bla bla " * 2000 + "he wants me to send nudes"
    assert len(text) > sg.MAX_CHARS
    result = screen(text)
    assert result.flagged
    assert "photo_request" in result.categories


# ------------------------------------------------------- fresh wordings
# Disclosures written for this file in new words (not from the evaluation or
# development sets), on the themes where the net missed most: model scouts,
# pet names, "you look older", trouble if the parents find out, handles
# given, "or else", deadlines, a stranger's car, not safe at home, ending
# one's life, a parent's number and hours, a stranger in the garden.

FRESH_DISCLOSURES = [
    "an older boy keeps sending me money on paypal and wants pics back",
    "someone from youtube said theyd make me famous",
    "a man said he'll give me a free phone if i meet him",
    "he buys me stuff in the game and says i owe him a favour",
    "this 20 yr old calls me babe all the time",
    "he tells me i look older than 12",
    "he wont stop calling me even at night",
    "he keeps guilt tripping me",
    "a guy on insta wants pics of my feet",
    "she keeps asking what im wearing",
    "he asked me to go on live with him alone",
    "he asked for a pic after my shower",
    "he said dont tell your mum we talk",
    "he said i'll get in trouble if my parents find out",
    "he wants me to hide my phone from my dad",
    "he makes me delete everything after we talk",
    "he gave me his snap and said add me there",
    "he wants to talk on a different app where my mum cant see",
    "he said lets move to whatsapp its more private",
    "he threatened to hack my fortnite account",
    "he said hed find me",
    "he said i better do what he says or else",
    "he said he'll beat me up tomorrow",
    "he has a video of me and wants 50 quid",
    "he says hell leak my pics",
    "i have to pay him or he'll send my photo to everyone at school",
    "he gave me till friday to send money",
    "a guy from snap wants me to come to his house on saturday",
    "i said id meet him at the mall later",
    "hes picking me up at 4",
    "he wants to see me alone at the park",
    "my coach touches my leg and it makes me uncomfortable",
    "a man showed me his private parts on video call",
    "my dad hurts me when hes drunk",
    "im not safe at home",
    "i want to kms",
    "i think about ending it all",
    "i cut again last night",
    "my friend wants to end her life",
    "he asked for my home address",
    "he wants to know if im alone right now",
    "he asked for my mums phone number and when she works",
    "a man is banging on our door",
    "someone is watching me from across the street",
    "a car followed me home",
    "there is a stranger in our garden",
    "un grand m'envoie des sous sur paypal et veut des photos en echange",
    "qqn de youtube a dit qu'il me rendrait connue",
    "un homme dit qu'il m'offre un tel si je le rencontre",
    "il m'achete des trucs dans le jeu et dit que je lui dois un service",
    "un gars de 20 ans m'appelle bebe tout le temps",
    "il dit que je fais plus vieille que 12 ans",
    "il arrete pas de m'appeler meme la nuit",
    "un mec sur insta veut des photos de mes pieds",
    "elle arrete pas de demander ce que je porte",
    "il m'a demandé de faire un live avec lui tout seul",
    "il a demandé une photo apres ma douche",
    "il a dit de pas dire a ma mere qu'on se parle",
    "il dit que je vais avoir des problemes si mes parents savent",
    "il veut que je cache mon tel a mon pere",
    "il me fait tout effacer apres qu'on parle",
    "il m'a donné son snap et m'a dit de l'ajouter la bas",
    "il veut qu'on parle sur une autre appli ou ma mere voit pas",
    "il m'a dit viens sur whatsapp c'est plus privé",
    "il a menacé de pirater mon compte fortnite",
    "il a dit qu'il allait me trouver",
    "il a dit que je dois faire ce qu'il dit sinon",
    "il a dit qu'il allait me taper demain",
    "il a une video de moi et il veut 50 euros",
    "il dit qu'il va balancer mes photos",
    "je dois le payer sinon il envoie ma photo a tout le college",
    "il m'a donné jusqu'a vendredi pour envoyer l'argent",
    "un mec de snap veut que je vienne chez lui samedi",
    "j'ai dit que je le retrouverais au centre commercial tout a l'heure",
    "il vient me chercher a 16h",
    "il veut me voir tout seul au parc",
    "mon coach me touche la jambe et ca me met mal a l'aise",
    "un homme m'a montré son zizi en appel video",
    "mon pere me fait mal quand il a bu",
    "je suis pas en securite a la maison",
    "jveux en finir",
    "je pense a mettre fin a ma vie",
    "je me suis encore coupée hier soir",
    "ma copine veut mettre fin a ses jours",
    "il m'a demandé mon adresse",
    "il veut savoir si je suis seule la",
    "il m'a demandé le numero de ma mere et quand elle travaille",
    "un homme tape fort a notre porte",
    "qqn me regarde depuis l'autre coté de la rue",
    "une voiture m'a suivie jusqu'a chez moi",
    "y a un inconnu dans notre jardin",
    "je dois lui donner mon mot de passe sinon il supprime mon compte",
]


@pytest.mark.parametrize("text", FRESH_DISCLOSURES)
def test_fresh_wordings_are_flagged(text: str) -> None:
    assert screen(text).flagged, text


# ------------------------------------------------------------ story answers
# What children type inside a story or a rehearsal is play, not a disclosure:
# "I'd block him", "je garde le secret", "stop asking where i live". Every
# choose_action training example and every answer of the story evaluation sets
# must stay un-flagged (a few may be flagged as a sentence about the character,
# never as personal).

STORY_EVAL_DIR = ROOT / "data" / "eval" / "stories"
NLU_DIR = ROOT / "data" / "nlu"

# Flagged, not personal, on purpose: each describes the character's risky move
# in the very words a child would use to report it (the net cannot tell them
# apart without the story), so the story asks "is this happening to you?".
FLAGGED_STORY_ANSWERS = {
    # agreeing to move app: "lets go on snap" is how a push to snap is reported
    "ok lets go on snap",
    # the character handing over a handle, in the third person
    "shes gonna send him her tiktok name",
    # the character keeping the manipulator's secret and deleting the chats
    "he keeps it secret and deletes the chats",
    # the stories of issue 22: the character's moves in the third person
    "il bloque le nouveau compte",
    "elle parle a jules et ils vont voir un adulte",
    "he tells him his school",
    "he goes to the secret app",
    "il va sur l appli secrete",
    "elle dit pas d appel prive",
    # issue 20's blind sets (negation, quiz answers, "show you see the trick"):
    # flagged by the net (a mention: in a story Lumi asks "is this happening
    # to you?"; in the quiz bot.dialogue reads a trick's name as the answer).
    # Reported to the lead, who owns bot/safeguarding/screen.py.
    "theo doesnt meet him",
    "he wont tell him where he lives",
    "il garde pas le secret",
    "elle garde pas le secret",
    "elle reste pas a la maison",
    "photo ask",
    "a photo ask",
    "blackmail",
    "la demande de photos",
    "une demande de photo",
    "la menace",
    "du chantage",
    "that's the photo ask trick, no way",
    "c'est la demande de photo ca, non merci",
    # the negation2 sets (issue 20, round 2): the character's move, a mention
    "he doesnt mind telling him his school",
    "il a rien contre dire son ecole",
    "il en parle a personne",
    "ok nobody will know",
    # the fresh5 sets (issue 22): the character's move, a mention
    "he gives her the money",
    "il bloque aussi le nouveau compte",
    "il garde tout ca pour lui, il en parle a personne",
}
# Practice replies to the manipulator that the net reads as the child's own
# disclosure: a known false alarm inside a story, left for the safety net's
# owner to fix (then this set goes).
PERSONAL_STORY_ANSWERS_TO_FIX = {
    "stop pressuring me",  # recorded_call's practice step: a reply to "it's just a dare"
    "i dont think its the scare trick its the secret",
    "fine i wont say anything to my dad",
    "je garderai pas le secret",
    "d'accord je dis rien a mon pere",
    "a real friend wouldnt ask me to keep secrets",
    "un vrai ami me demanderait pas de garder des secrets",
    # the negation2 sets (issue 20, round 2): a refusal the net reads as the child's own
    "je garde jamais de secret pour ma mere",
    "nothing you say will make me send it",
    # fresh5 (issue 22): a risky practice reply going along with the flattery
    "ur right ur the only one who gets me",
}


def _story_answers() -> list[str]:
    texts: list[str] = []
    for path in sorted(STORY_EVAL_DIR.glob("*.yml")):
        texts += [i["text"] for i in yaml.safe_load(path.read_text(encoding="utf-8"))["items"]]
    for lang in ("en", "fr"):
        raw = yaml.safe_load((NLU_DIR / lang / "choose_action.yml").read_text(encoding="utf-8"))
        for block in raw["nlu"]:
            texts += [
                line.strip()[2:]
                for line in block["examples"].splitlines()
                if line.strip().startswith("- ")
            ]
    return texts


def test_story_answers_are_never_personal_disclosures() -> None:
    texts = _story_answers()
    assert len(texts) > 1000
    personal = {t for t in texts if screen(t).personal}
    flagged = {t for t in texts if screen(t).flagged}
    allowed = PERSONAL_STORY_ANSWERS_TO_FIX
    assert set(personal) <= allowed, sorted(set(personal) - allowed)
    assert flagged <= FLAGGED_STORY_ANSWERS | allowed, sorted(
        flagged - FLAGGED_STORY_ANSWERS - allowed
    )


@pytest.mark.parametrize(
    "text",
    [
        # choices for the character, present or conditional
        "i'd keep the secret",
        "i give her my phone number",
        "tell him where my school is",
        "id tell him my parents are out",
        "i would go and meet him",
        "je garderais les secrets",
        "jlui dis ou j'habite",
        "je lui donne mon numero",
        # replies to the manipulator
        "stop asking me for a selfie",
        "im not sending u anything",
        "i dont want to see you",
        "arrete de me demander ou j'habite",
        "jte donne pas mon adresse",
        # telling a trusted adult is not a threat
        "i'm going to tell my mum",
        "i will show my teacher",
        "we would tell our parents",
        # what was learnt in class
        "we learned that strangers can ask for your school",
        "on a appris que des inconnus peuvent demander notre adresse",
    ],
)
def test_story_answers_and_lessons_do_not_flag(text: str) -> None:
    assert screen(text) == NOTHING, (text, screen(text))


@pytest.mark.parametrize(
    ("text", "level"),
    [
        # the same words, reporting what happened or is planned: still caught
        ("i gave him my address and now hes asking for my school", "concern"),
        ("i dont want to meet him but he keeps asking", "concern"),
        ("ill meet him tomorrow after school", "danger"),
        ("i keep the secret because he said he would hurt me", "danger"),
        ("je garde le secret sinon il publie ma photo", "danger"),  # sextortion
        ("je lui dis mon adresse mais il veut venir ce soir", "danger"),
        ("he will tell my parents everything", "concern"),
        ("stop asking me for pics he keeps saying", "concern"),
    ],
)
def test_reports_in_the_same_words_still_flag(text: str, level: str) -> None:
    result = screen(text)
    assert result.flagged, text
    assert result.level == level, (text, result)
    assert result.personal, (text, result)


@pytest.mark.parametrize(
    ("text", "personal"),
    [
        ("the character wants to meet in real life", False),
        ("le personnage veut la voir en vrai", False),
        ("he keeps asking to meet irl", True),
        ("il veut qu'on se voie en vrai", True),
    ],
)
def test_meeting_in_real_life_is_not_a_sign_of_real_life_in_a_story(
    text: str, personal: bool
) -> None:
    result = screen(text)
    assert result.flagged, text
    assert result.personal is personal, (text, result)


@pytest.mark.parametrize(
    ("text", "harmless"),
    [
        ("what does sextortion mean", True),
        ("you should never send pics to strangers", True),
        ("c'est quoi le grooming", True),
        ("no i wont send a pic", True),
        ("je garde le secret", True),
        ("hello", False),
        ("i have a sore knee", False),
        ("my mum is going to kill me if she finds out what i sent him", False),
        ("a man keeps asking me for pics", False),
    ],
)
def test_harmless_is_set_when_the_ignore_rules_explain_the_message(
    text: str, harmless: bool
) -> None:
    result = screen(text)
    assert result.harmless is harmless, (text, result)
    if harmless:
        assert result == NOTHING  # harmless is not compared: still "nothing found"


# ---------------------------------------------------------- implementation


def _all_texts() -> list[str]:
    texts: list[str] = []
    for lang in ("en", "fr"):
        raw = yaml.safe_load((EVAL_DIR / f"{lang}.yml").read_text(encoding="utf-8"))
        texts += [i["text"] for i in raw["items"]]
    dev = yaml.safe_load(DEV_FILE.read_text(encoding="utf-8"))
    for items in dev.values():
        texts += [i["text"] for i in items]
    return texts + [t for _, _, t in FLAGS] + NEAR_MISSES + FRESH_DISCLOSURES + _story_answers()


def test_gates_never_change_a_result() -> None:
    gated = sg.load_net(gated=True)
    ungated = sg.load_net(gated=False)
    for text in _all_texts():
        prepared = sg.prepare(text)
        a, b = gated.screen(prepared), ungated.screen(prepared)
        assert (a, a.harmless) == (b, b.harmless), text


def test_nothing_is_loaded_at_import_time() -> None:
    code = (
        "import bot.safeguarding.screen as s\n"
        "assert s._NET is None\n"
        "s.screen('hello')\n"
        "assert s._NET is not None\n"
    )
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True)


# ------------------------------------------------------------ targets


def _eval_script() -> ModuleType:
    path = ROOT / "scripts" / "eval_safeguarding.py"
    spec = importlib.util.spec_from_file_location("eval_safeguarding", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("lang", ["en", "fr"])
def test_evaluation_sets_are_big_enough(lang: str) -> None:
    items = _eval_script().load_items(EVAL_DIR / f"{lang}.yml")
    disclosures = [i for i in items if i.disclosure]
    benign = [i for i in items if not i.disclosure]
    assert len(disclosures) >= 100
    assert len([i for i in disclosures if i.level == "danger"]) >= 25
    assert len(benign) >= 180
    assert len([i for i in benign if i.tag == "near_miss"]) >= 60
    assert len([i for i in benign if i.ambiguous]) >= 20
    assert {i.category for i in disclosures} == set(CATEGORIES)


@pytest.mark.parametrize("lang", ["en", "fr"])
def test_targets_on_the_evaluation_sets(lang: str) -> None:
    script = _eval_script()
    report = script.evaluate(lang, script.load_items(EVAL_DIR / f"{lang}.yml"))
    assert report.recall >= 0.99, [(w, i.text) for w, i, _ in report.errors if w == "missed"]
    assert report.false_alarm_rate <= 0.05, [
        (w, i.text) for w, i, _ in report.errors if w == "false alarm"
    ]


# ------------------------------------------------- round 5 (sg5, 2026-12-07)
# French danger phrasings the net missed (Québec, Belgian, Swiss, SMS; the
# indirect self-harm kinds; sextortion told with "si je paye pas"), written
# fresh, and whole-message safety questions about "if it ever happened".

ROUND5_FRENCH_DANGER = [
    "chui tannée de vivre",
    "g plus envie d'exister",
    "je voudrais m'endormir pour de bon",
    "le soir je prie pour pas me réveiller",
    "à quoi bon se lever, une fois",
    "chu pu capable de continuer comme ça",
    "je veux rejoindre papy au ciel",
    "je me suis brûlée exprès avec le briquet",
    "j'ai caché des médicaments dans ma chambre pour un jour",
    "mtn je pense tout le temps à mourir",
    "il dit qu'il la met partout si je paye pas",
    "si j'y envoie pas 40 piasses ma photo s'en va partout",
    "il écrit paie ou je poste",
    "il a fait un montage de moi tout nu",
    "il a enregistré quand j'étais en cam et mtn il veut des sous",
    "il vient à Liège ce week-end juste pour me voir",
    "y va m'attendre au coin de ma rue à soir",
    "il a dit qu'il viendrait me chercher à l'école",
    "y m'a écrit qu'y va venir icitte pis me faire mal",
    "il m'a envoyé une photo de ma maison",
    "y a un homme qui sonne depuis 10 min",
    "le monsieur du club me prend en photo dans les vestiaires",
]


ROUND5_LOOK_ALIKES = [
    "what should i do if someone ever asks for my photo",
    "who can i tell if a stranger sends me something weird",
    "if someone ever blackmails me who do i ask for help",
    "je fais quoi si un jour qqn me demande une photo de moi",
    "si qqn me fait du chantage un jour, je demande de l'aide à qui",
    "c koi le chantage en ligne",
    "my twin sister is coming to get me from the station",
]
ROUND5_REPORTS_NEAR_LOOK_ALIKES = [
    "what should i do if someone keeps asking for my photo",
    "what should i do he asked for my photo again",
    "je fais quoi si qqn me demande encore une photo",
]


# Round 6 (2026-12-08): sentences of our own for the kinds the development set
# blind4 missed (a friend hurting themselves or saying goodbye, "never been
# born", abuse with an order to keep quiet or lie) and flagged (a hypothetical
# question about a person online, the delivery driver who knows the address).
ROUND6_DANGER = [
    "my best friend has cuts all over her arms and says she does it at night",
    "my friend keeps cutting herself and told me not to tell",
    "my mate burns himself with a lighter when hes upset",
    "my cousin wrote goodbye everyone on his insta and now he wont pick up",
    "she posted that today is her last day and she isnt answering anyone",
    "my friend said tonight is the night she ends it",
    "i should never have been born",
    "id rather never have been born honestly",
    "my tutor makes me sit on his knee and says hell tell my parents im bad if i say anything",
    "my dads belt left marks and mum says i have to tell school i fell",
    "jaurais du jamais naitre",
    "j'aurais mieux fait de pas naître",
    "je regrette d'être née",
    "j'aurais préféré ne jamais naître",
    "ma pote a des coupures sur les bras et elle dit que c'est elle",
    "ma copine se fait du mal exprès le soir",
    "mon cousin a posté adieu à tous et il répond plus",
    "elle a écrit que c'est son dernier jour et elle répond pas",
    "mon entraineur me fait asseoir sur ses genoux et dit que je jouerai plus si je parle",
    "mon pere m'a laissé des bleus et il dit que je dois dire à l'école que je suis tombée",
]


ROUND6_LOOK_ALIKES = [
    "my friend cut herself on a tin can at lunch",
    "today is my last day of school before the holidays",
    "she posted goodbye to her old house when they moved",
    "its my teachers last day and she isnt coming back",
    "she burns herself on the oven every time she bakes lol",
    "my sister scratches herself because of her eczema",
    "i sat on my grandpas knee to read a story",
    "i got marks on my legs from football and mum says i have to tell the coach",
    "my mum says i have to say sorry for the marks on the wall",
    "my dad says i have to tell you about my bruises from rugby",
    "what should i do if a person online asks me where i live?",
    "the delivery man knows where i live he brings our shopping",
    "il se coupe les cheveux tout seul",
    "c'est mon dernier jour de vacances",
    "elle a mis adieu les vacances sur son statut mdr",
    "ma grand-mère m'a pris sur ses genoux pour la photo",
    "jai des marques de moustique et ma mere dit que je dois le dire au docteur",
    "si un jour quelqu'un menace de poster une photo de moi je fais quoi",
    "le livreur sait où j'habite il apporte les colis",
]
ROUND6_REPORTS_NEAR_LOOK_ALIKES = [
    "what should i do a person online asks me where i live and he keeps asking",
    "si un jour qqn menace de poster ma photo il la poste mtn je fais quoi",
    "a man from fortnite knows where i live",
    "un homme de fortnite sait où j'habite",
]


# One test per kind over the rounds' sentences (rounds 5 and 6 above).
@pytest.mark.parametrize("text", ROUND5_FRENCH_DANGER + ROUND6_DANGER)
def test_round_danger_is_flagged_as_danger(text: str) -> None:
    result = screen(text)
    assert result.flagged and result.level == "danger", (text, result)


@pytest.mark.parametrize("text", ROUND5_LOOK_ALIKES + ROUND6_LOOK_ALIKES)
def test_round_look_alikes_do_not_flag(text: str) -> None:
    assert not screen(text).flagged, text


@pytest.mark.parametrize("text", ROUND5_REPORTS_NEAR_LOOK_ALIKES + ROUND6_REPORTS_NEAR_LOOK_ALIKES)
def test_round_reports_near_the_look_alikes_still_flag(text: str) -> None:
    assert screen(text).flagged, text
