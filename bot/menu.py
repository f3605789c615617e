"""The main menu and the settings a child can change: language and country."""

from __future__ import annotations

from bot import helplines
from bot import text as texts
from bot.conversation import Reply, Turn, payload
from bot.language import switch_request
from bot.language import valid as valid_language
from bot.safeguarding.reply import country_buttons, helplines_messages


def menu_buttons(reply: Reply) -> list[dict[str, str]]:
    other = "fr" if reply.lang == "en" else "en"
    return [
        reply.button("menu.button_stories", payload("list_stories")),
        reply.button("menu.button_quiz", payload("start_quiz")),
        reply.button("menu.button_check", payload("check_message")),
        reply.button("menu.button_help", payload("help")),
        reply.button("menu.button_language", payload("set_language", language=other)),
    ]


def show_menu(reply: Reply, prompt: str = "menu.prompt") -> Reply:
    return reply.say(prompt, buttons=menu_buttons(reply)).set(mode="menu")


def start(turn: Turn) -> Reply:
    """Greeting and main menu (``/start``, "hi", "menu")."""
    reply = Reply(turn.lang).say("menu.greeting").say("menu.intro")
    return show_menu(reply).set(misunderstood=0)


def set_language(turn: Turn) -> Reply:
    """``/set_language{"language":"fr"}`` or "en français stp"."""
    wanted = turn.entities.get("language")
    lang = valid_language(wanted)
    if lang is None and wanted is None:
        lang = switch_request(turn.text)
    if lang is None:
        reply = Reply(turn.lang)
        return reply.say(
            "menu.language_bad",
            buttons=[
                reply.button("menu.language_en", payload("set_language", language="en")),
                reply.button("menu.language_fr", payload("set_language", language="fr")),
            ],
        )
    reply = Reply(lang).set(language=lang, language_locked=True)
    reply.say("menu.language_set")
    if turn.mode in ("story", "quiz", "rehearsal"):
        return reply
    return show_menu(reply)


def set_country(turn: Turn) -> Reply:
    """``/set_country{"country":"BE"}``; an unknown code changes nothing."""
    wanted = turn.entities.get("country")
    code = helplines.known_country(wanted)
    if code is None and wanted is None and not turn.text.startswith("/"):
        code = helplines.country_from_text(turn.text)
    reply = Reply(turn.lang)
    if code is None:
        reply.say("menu.country_bad", buttons=country_buttons(reply.lang))
        return reply
    if turn.mode in ("support", "rehearsal"):
        from bot.safeguarding import support

        return support.country_set(turn, code)
    reply.set(country=code)
    reply.say("menu.country_set", country=texts.t(f"countries.{code}", reply.lang))
    for message in helplines_messages(reply.lang, code):
        reply.messages.append(message)
    return reply


def help_(turn: Turn) -> Reply:
    """``/help`` and "who can I talk to?": the helplines payload for the country."""
    reply = Reply(turn.lang)
    reply.messages.extend(helplines_messages(reply.lang, turn.slot("country")))
    return reply


def start_check(turn: Turn) -> Reply:
    """``/check_message``: the next message is one the child received."""
    return Reply(turn.lang).say("menu.check_intro").set(mode="check")


def small_talk(turn: Turn) -> Reply:
    """Greetings, thanks, questions about Lumi and the like, outside an activity."""
    reply = Reply(turn.lang)
    simple = {
        "thank": "menu.thanks",
        "goodbye": "menu.goodbye",
        "ask_about_bot": "menu.about",
        "insult": "menu.insult",
        "out_of_scope": "menu.out_of_scope",
        "share_everyday": "menu.share_everyday",
        "affirm": "menu.affirm",
        "deny": "menu.deny",
    }
    if turn.intent == "greet":
        return start(turn)
    if turn.intent in simple:
        reply.say(simple[turn.intent])
        if turn.intent in ("affirm", "deny", "insult", "out_of_scope", "share_everyday"):
            show_menu(reply)
        return reply.set(misunderstood=0)
    return fallback(turn)


def fallback(turn: Turn) -> Reply:
    """Not understood: help the first time, then lean on buttons (never the same line twice)."""
    count = int(turn.slot("misunderstood", 0) or 0)
    reply = Reply(turn.lang).set(misunderstood=count + 1)
    if count == 0:
        return reply.say("menu.fallback_first", buttons=menu_buttons(reply))
    return show_menu(reply, "menu.fallback_again")
