"""Role-play stories: a data-driven engine (``docs/stories.md``).

Stories are ``data/roleplay/<id>.yml`` with their text in
``locales/stories/<id>.<lang>.yml``; they are read and checked on first use,
never at import time. ``python -m bot.stories.validate`` checks them all.
"""

from __future__ import annotations

from bot.stories.engine import (
    choose,
    handle_text,
    list_stories,
    quit_story,
    set_coplay,
    show_current,
    start_story,
)
from bot.stories.model import StoryError, get_story, stories


def warm_up() -> None:
    """Read and check the stories, the understanding data and the quiz, and train the
    small fallback model (about 4 s, mostly importing scikit-learn): call it at
    action-server start so no child waits for it."""
    from bot import quiz
    from bot.stories import understand

    stories()
    understand.warm_up()
    quiz.quiz_data()


__all__ = [
    "StoryError",
    "choose",
    "get_story",
    "handle_text",
    "list_stories",
    "quit_story",
    "set_coplay",
    "show_current",
    "start_story",
    "stories",
    "warm_up",
]
