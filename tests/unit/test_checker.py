"""The message checker: a child pastes a message and learns which tricks it uses."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import yaml

from bot import text as texts
from bot.checker import (
    MAX_CHARS,
    CheckResult,
    bad_input_reply,
    check,
    input_problem,
    prompt_reply,
    reply,
    split,
)
from bot.checker import model as checker_model
from bot.checker.cues import load_cues
from bot.checker.data import (
    BLIND_DIR,
    CUES_FILE,
    EVAL_DIR,
    TRAIN_DIR,
    read_examples,
    training_examples,
)
from bot.checker.evaluate import (
    TARGET_HARMLESS_FLAGGED,
    TARGET_MACRO_F1,
    evaluate_all,
    format_report,
)
from bot.conversation import Turn
from bot.normalise import normalise
from bot.paths import ROOT
from bot.tactics import TACTICS


def turn(lang: str, text: str = "") -> Turn:
    return Turn(intent="", text=text, metadata={"language": lang})


# --------------------------------------------------------------------------- detection


MIXED = [
    (
        "i'll send u 800 robux if u send me a selfie, dont tell ur parents",
        {"bribe", "photo_request", "secrecy"},
    ),
    ("ur so mature for ur age. add me on snap", {"flattery", "app_switch"}),
    ("where do u live? i can pick u up after school", {"personal_info", "meeting"}),
    ("send more pics or i post the ones i have everywhere", {"photo_request", "threat"}),
    (
        "je te donne 1000 vbucks si tu m'envoies une photo, mais dis rien a tes parents",
        {"bribe", "photo_request", "secrecy"},
    ),
    ("t'es tellement mature pour ton age, viens en mp sur insta", {"flattery", "app_switch"}),
    ("t'habites ou ? je peux venir te chercher apres les cours", {"personal_info", "meeting"}),
    ("envoie d'autres photos sinon je les poste partout", {"photo_request", "threat"}),
]


@pytest.mark.parametrize(("text", "expected"), MIXED)
def test_multi_label_in_both_languages(text, expected):
    result = check(text)
    assert set(result.tactics) == expected


def test_tactics_come_in_contract_order():
    result = check("dont tell ur mum. i'll give u robux. add me on snap. send a pic")
    assert list(result.tactics) == [t for t in TACTICS if t in result.tactics]
    assert {"bribe", "secrecy", "app_switch", "photo_request"} <= set(result.tactics)


def test_conversation_paste_with_names_and_timestamps():
    paste = (
        "[18:02] jay: hey are u home alone rn?\n"
        "[18:03] me: yeah why\n"
        "[18:03] jay: turn on ur cam i wanna see u\n"
        "12/03/2024, 18:04 - jay: dont tell anyone ok\n"
        "Tom_12: lets talk on telegram instead"
    )
    result = check(paste)
    assert set(result.tactics) == {"personal_info", "photo_request", "secrecy", "app_switch"}
    # Evidence quotes the message, never the speaker name or the timestamp.
    for quote in result.evidence.values():
        assert "jay:" not in quote and "18:0" not in quote and "Tom_12" not in quote


def test_french_conversation_paste():
    paste = (
        "Lucas_12: t trop fort\n"
        "Lucas_12: tu veux des robux gratuits ?\n"
        "moi: ouais\n"
        "Lucas_12: ajoute moi sur discord"
    )
    result = check(paste)
    assert {"bribe", "app_switch"} <= set(result.tactics)


@pytest.mark.parametrize(
    "text",
    [
        "mum says dinner at 7",
        "tu viens au foot demain ?",
        "gg bien joué",
        "can u send me the homework pic? i forgot my book",
        "Grandma: send me a photo from your holiday, I miss you!",
        "don't tell anyone, it's your surprise party on saturday",
        "omg i got 300 followers on my tiktok",
        "maman dit qu'on mange a 19h",
        "la prof a dit d'envoyer la photo de nos devoirs sur l'ENT",
        "Mia: r u coming to practice?\nme: yes\nMia: cool see u there",
    ],
)
def test_harmless_messages_are_not_flagged(text):
    assert check(text).tactics == ()


def test_evidence_is_a_short_fragment_of_the_paste():
    text = (
        "Hi there, I saw your drawings and they are really cool. "
        "I can give you 2000 robux for your account. "
        "Just keep this between us ok?"
    )
    result = check(text)
    assert {"bribe", "secrecy"} <= set(result.tactics)
    assert set(result.evidence) == set(result.tactics)
    for quote in result.evidence.values():
        assert len(quote) <= split.EVIDENCE_CHARS
        assert quote.rstrip("…") in text
    assert "robux" in result.evidence["bribe"]
    assert "between us" in result.evidence["secrecy"]


def test_long_evidence_is_cut_at_a_word():
    long_line = "so " * 40 + "dont tell ur parents about me " + "ok " * 40
    quote = check(long_line).evidence["secrecy"]
    assert len(quote) <= split.EVIDENCE_CHARS
    assert "tell ur parents" in quote


@pytest.mark.parametrize(
    ("text", "danger"),
    [
        ("pay 200 or i send ur pics to everyone", True),
        ("lets meet irl this weekend, come alone", True),
        ("paie 100 euros sinon j'envoie ta video a tes parents", True),
        ("on se voit en vrai samedi ? viens seule", True),
        ("add me on snap", False),
        ("mum says dinner at 7", False),
    ],
)
def test_danger_flag(text, danger):
    assert check(text).danger is danger


# --------------------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("", "empty"),
        ("   \n\t  ", "empty"),
        ("\u200b\u200b\ufeff", "empty"),
        ("🙂🙂😂🔥", "no_words"),
        ("?!... :) !! ***", "no_words"),
        ("x" * 20_000, "too_long"),
        ("send me a pic", None),
    ],
)
def test_input_problems(text, problem):
    assert input_problem(text) == problem


@pytest.mark.parametrize("text", ["", "   ", "\u200b\u200d", "🙂🙂😂", "\x00\x01", "<b>hi</b>"])
def test_odd_input_never_crashes(text):
    result = check(text)
    assert isinstance(result, CheckResult)


def test_zero_width_characters_do_not_hide_a_trick():
    assert "photo_request" in check("s\u200bend m\u200be a p\u200bic").tactics
    assert "app_switch" in check("add\u200d me on sn\u200bap").tactics


def test_huge_paste_is_checked_quickly_up_to_the_limit():
    start = time.perf_counter()
    text = ("gg well played, see u tomorrow at school\n" * 600) + "dont tell ur parents"
    result = check(text)
    assert time.perf_counter() - start < 5
    assert "secrecy" not in result.tactics  # beyond MAX_CHARS: not read
    assert check("dont tell ur parents\n" + "lol\n" * 5000).tactics == ("secrecy",)


@pytest.mark.parametrize("lang", ["en", "fr"])
@pytest.mark.parametrize("problem", ["empty", "too_long", "no_words", "unknown"])
def test_bad_input_reply(lang, problem):
    out = bad_input_reply(turn(lang), problem)
    assert out.lang == lang and out.texts
    if problem == "too_long":
        assert str(MAX_CHARS) in out.texts[0]


@pytest.mark.parametrize("lang", ["en", "fr"])
def test_reply_to_a_huge_paste_says_so_and_still_checks(lang):
    out = reply(turn(lang), "dont tell ur parents about me\n" + "lol " * 5000)
    assert str(MAX_CHARS) in out.texts[0]
    assert out.payloads("tactic_check")[0]["tactics"] == ["secrecy"]


@pytest.mark.parametrize("text", ["", "🙂🙂😂"])
def test_reply_to_an_empty_paste_asks_again(text):
    out = reply(turn("fr"), text)
    assert out.payloads("tactic_check") == [{"kind": "tactic_check", "lang": "fr", "tactics": []}]
    assert out.slots["mode"] == "check"


# --------------------------------------------------------------------------- replies


@pytest.mark.parametrize("lang", ["en", "fr"])
def test_reply_payload_and_explanations(lang):
    text = "i'll give u 500 robux if u send a selfie on snap"
    out = reply(turn(lang), text)
    [payload] = out.payloads("tactic_check")
    assert payload == {
        "kind": "tactic_check",
        "lang": lang,
        "tactics": ["bribe", "app_switch", "photo_request"],
    }
    body = "\n".join(out.texts)
    for tactic in payload["tactics"]:
        assert texts.t(f"tactics.{tactic}.name", lang) in body
        assert texts.t(f"tactics.{tactic}.todo", lang) in body
    assert "robux" in body  # the evidence is quoted
    assert texts.t("check.intro_many", lang, count=3) in body
    buttons = [b["payload"] for m in out.messages for b in m.get("buttons", [])]
    assert "/check_message" in buttons and "/start" in buttons
    assert out.slots["mode"] == "menu"


@pytest.mark.parametrize("lang", ["en", "fr"])
def test_reply_when_nothing_is_found(lang):
    out = reply(turn(lang), "see u at practice tomorrow")
    assert out.payloads("tactic_check")[0]["tactics"] == []
    assert out.texts == [texts.t("check.none", lang)]
    if lang == "en":
        assert "if it feels wrong, trust that feeling and ask an adult" in out.texts[0].lower()


@pytest.mark.parametrize("lang", ["en", "fr"])
def test_reply_in_danger_offers_help_in_one_line_not_the_whole_script(lang):
    out = reply(turn(lang), "send 300 or everyone sees ur video")
    offers = [m for m in out.messages if m.get("text") == texts.t("check.offer_help_danger", lang)]
    assert len(offers) == 1
    assert [b["payload"] for b in offers[0]["buttons"]] == ["/disclose_problem"]
    assert out.payloads("safeguard") == []  # the safeguarding reply is one tap away
    assert len(out.texts) <= 5


@pytest.mark.parametrize("lang", ["en", "fr"])
def test_a_paste_the_safety_net_flagged_offers_help(lang):
    flagged = turn(lang)
    flagged.entities = {"safeguard_level": "concern", "safeguard_topic": "online"}
    out = reply(flagged, "keep this between us ok, and send me a pic")
    assert texts.t("check.offer_help", lang) in out.texts
    assert "/disclose_problem" in [b["payload"] for m in out.messages for b in m.get("buttons", [])]
    # a harmless paste offers nothing
    assert texts.t("check.offer_help", lang) not in reply(turn(lang), "see u at practice").texts


@pytest.mark.parametrize("lang", ["en", "fr"])
def test_every_tactic_can_be_explained_in_both_languages(lang):
    for tactic in TACTICS:
        for key in ("name", "explain", "todo"):
            assert texts.has(f"tactics.{tactic}.{key}", lang)
        assert texts.has(f"check.icons.{tactic}", lang)
    en, fr = set(texts.keys("en", "check.")), set(texts.keys("fr", "check."))
    assert en == fr and en


def test_prompt_reply_promises_not_to_keep_the_message():
    out = prompt_reply(turn("en"))
    assert out.slots["mode"] == "check" and out.texts


def test_pasted_text_is_never_logged(caplog):
    secret = "my address is 12 Secret Street, add me on snap"
    with caplog.at_level(logging.DEBUG):
        reply(turn("en"), secret)
        check(secret)
    assert all("Secret Street" not in r.getMessage() for r in caplog.records)


# --------------------------------------------------------------------------- splitting


@pytest.mark.parametrize(
    ("line", "text", "speaker"),
    [
        ("Tom_12: wanna 1000 vbucks?", "wanna 1000 vbucks?", "Tom_12"),
        ("[18:02] jay: hi", "hi", "jay"),
        ("[12/03/2024, 18:02:11] Ben Smith: lets meet", "lets meet", "Ben Smith"),
        ("12/03/2024 18:02 - Ben: salut", "salut", "Ben"),
        ("(9:15 pm) xX_dark_Xx: hey", "hey", "xX_dark_Xx"),
        ("mum: are you home yet?", "mum: are you home yet?", "mum"),
        ("Reminder from Ms Patel: upload a photo", "Reminder from Ms Patel: upload a photo", ""),
        ("1.5k followers for u", "1.5k followers for u", ""),
        ("https://example.com/x", "https://example.com/x", ""),
    ],
)
def test_speaker_and_timestamp_stripping(line, text, speaker):
    found = split.strip_prefix(line)
    assert (found.text, found.speaker) == (text, speaker)


def test_childs_own_lines_are_skipped_unless_alone():
    assert [line.text for line in split.lines("jay: hi\nme: where do u live\njay: cool")] == [
        "hi",
        "cool",
    ]
    assert [line.text for line in split.lines("me: hello")] == ["hello"]


# --------------------------------------------------------------------------- data and model


def test_training_and_evaluation_data_are_valid_and_disjoint():
    train = training_examples()
    blind = [e for path in sorted(BLIND_DIR.glob("*.yml")) for e in read_examples(path)]
    evaluation = [e for path in sorted(EVAL_DIR.glob("*.yml")) for e in read_examples(path)]
    seen = {normalise(e.text) for e in train}
    assert not [e.text for e in evaluation + blind if normalise(e.text) in seen]
    for lang in ("en", "fr"):
        lang_blind = [e for e in blind if e.lang == lang]
        assert sum(not e.tactics for e in lang_blind) >= 45, lang
        for tactic in TACTICS:
            assert sum(tactic in e.tactics for e in lang_blind) >= 20, (lang, tactic)
    for lang in ("en", "fr"):
        lang_train = [e for e in train if e.lang == lang]
        for tactic in TACTICS:
            assert sum(tactic in e.tactics for e in lang_train) >= 60, (lang, tactic)
        assert sum(not e.tactics for e in lang_train) >= 150, lang
        lang_eval = [e for e in evaluation if e.lang == lang]
        assert sum(bool(e.tactics) for e in lang_eval) >= 70
        assert sum(not e.tactics for e in lang_eval) >= 25
        for tactic in TACTICS:
            assert any(tactic in e.tactics for e in lang_eval), (lang, tactic)


def test_cues_are_precise_on_the_training_data():
    """A cue that fires is right at least 90% of the time for its tactic, and
    fires on at most 2% of the harmless training messages (those it fires on
    are look-alikes the gate has to read as harmless: ``model.CUE_GATE``). The
    round-3 look-alikes put a secrecy cue's words in harmless messages on
    purpose ("don't tell anyone but i beat the last boss"): 95% before them,
    secrecy 142/152 = 93% after."""
    cues = load_cues(TRAIN_DIR / CUES_FILE)
    fired = dict.fromkeys(TACTICS, 0)
    right = dict.fromkeys(TACTICS, 0)
    harmless = harmless_fired = 0
    for example in training_examples():
        found = set()
        for line in split.lines(example.text):
            found |= cues.tactics(normalise(line.text))
        for tactic in found:
            fired[tactic] += 1
            right[tactic] += tactic in example.tactics
        if not example.tactics:
            harmless += 1
            harmless_fired += bool(found)
    for tactic in TACTICS:
        assert fired[tactic] >= 20, tactic
        assert right[tactic] / fired[tactic] >= 0.90, (tactic, right[tactic], fired[tactic])
    assert harmless_fired / harmless <= 0.02, (harmless_fired, harmless)


def test_a_cue_on_a_harmless_looking_line_is_not_enough():
    """The words of a cue in a message the gate reads as harmless: not flagged."""
    model = checker_model.get_model()
    line = normalise("dont tell mum i spilt juice on the sofa lol - ur sister")
    assert "secrecy" in model.cues.tactics(line)
    assert model.line_cues([line], np.array([checker_model.CUE_GATE - 0.01])) == [set()]
    assert model.line_cues([line], np.array([checker_model.CUE_GATE])) == [{"secrecy"}]


def test_evaluation_targets_are_met():
    """Held-out set, per language: macro-F1 >= 0.90 and <= 5% harmless flagged."""
    reports = evaluate_all()
    assert set(reports) == {"en", "fr"}
    for report in reports.values():
        summary = format_report(report)
        assert report.macro_f1 >= TARGET_MACRO_F1, summary
        assert report.harmless_rate <= TARGET_HARMLESS_FLAGGED, summary


def _small_data(target: Path, per_group: int = 8) -> None:
    """A copy of the training data with a few texts per group (fast to train)."""
    target.mkdir()
    for path in sorted(TRAIN_DIR.glob("*.yml")):
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
        if "groups" in raw:
            for group in raw["groups"]:
                group["texts"] = group["texts"][:per_group]
        (target / path.name).write_text(yaml.safe_dump(raw, allow_unicode=True), "utf-8")


def test_train_and_load_roundtrip(tmp_path):
    data_dir, model_dir = tmp_path / "data", tmp_path / "models"
    _small_data(data_dir)
    path = checker_model.train(model_dir=model_dir, data_dir=data_dir)
    assert path == model_dir / checker_model.MODEL_FILE and path.exists()
    meta = checker_model.read_meta(model_dir)
    assert meta["fingerprint"] and set(meta["thresholds"]) == set(TACTICS)
    stamp = path.stat().st_mtime_ns

    # Unchanged data: nothing is retrained.
    assert checker_model.train(model_dir=model_dir, data_dir=data_dir) == path
    assert path.stat().st_mtime_ns == stamp

    loaded = checker_model.load(model_dir, data_dir)
    assert loaded.fingerprint == meta["fingerprint"]
    probs = loaded.proba([normalise("send me a pic")])
    assert probs.shape == (1, len(TACTICS))

    # Changed data: the stored model is stale and loading retrains it.
    english = data_dir / "train.en.yml"
    raw = yaml.safe_load(english.read_text(encoding="utf-8"))
    raw["groups"].append({"tactics": [], "texts": ["a brand new harmless message"]})
    english.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    assert not checker_model.is_current(model_dir, data_dir)
    reloaded = checker_model.load(model_dir, data_dir)
    assert reloaded.fingerprint != meta["fingerprint"]
    assert checker_model.is_current(model_dir, data_dir)


def test_missing_model_is_trained_on_first_use(tmp_path):
    data_dir, model_dir = tmp_path / "data", tmp_path / "models"
    _small_data(data_dir, per_group=5)
    assert not (model_dir / checker_model.MODEL_FILE).exists()
    model = checker_model.load(model_dir, data_dir)
    assert set(model.thresholds) == set(TACTICS)
    assert (model_dir / checker_model.MODEL_FILE).exists()


def test_import_does_no_work():
    code = (
        "import sys, bot.checker\n"
        "assert 'sklearn' not in sys.modules, 'sklearn imported at import time'\n"
        "from bot.checker import model\n"
        "assert model._cached is None\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)


def test_train_stays_callable_after_importing_the_train_module():
    code = (
        "import bot.checker.train\n"
        "import bot.checker as checker\n"
        "from bot.checker.model import MODEL_DIR, MODEL_FILE\n"
        "assert checker.train() == MODEL_DIR / MODEL_FILE\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)


def test_train_module_runs(tmp_path):
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-m", "bot.checker.train", "--help"],
        check=True,
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
    )
    assert "--force" in done.stdout
