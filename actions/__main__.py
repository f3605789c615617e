"""The action server: warm up the domain, then serve rasa_sdk's endpoint.

``python -m actions --port 5055`` (same arguments as ``python -m rasa_sdk``).
Loading stories, text, the language detector and the message checker here,
at server start, keeps the first child's turn as fast as the others.
"""

from __future__ import annotations

import logging
import threading
import time

from rasa_sdk.__main__ import main_from_args
from rasa_sdk.endpoint import create_argument_parser

logger = logging.getLogger("actions")


def warm_up() -> None:
    started = time.monotonic()
    from bot import checker, language, quiz, stories
    from bot import text as texts

    texts.load()
    language.warm_up()
    stories.warm_up()
    quiz.quiz_data()
    checker.preload()
    logger.info("domain warmed up in %.1f s", time.monotonic() - started)
    try:
        from bot import storage

        storage.migrate()
    except Exception as error:  # the chat goes on without saved progress
        logger.warning("database not ready (%s): progress will be skipped", type(error).__name__)


PURGE_EVERY_SECONDS = 24 * 3600


def purge_daily() -> None:
    """Retention: progress older than RETENTION_DAYS is deleted, now and every day."""

    def loop() -> None:
        from bot import storage

        while True:
            try:
                counts = storage.purge()
                logger.info("retention purge done: %s", counts)
            except Exception as error:  # the database may be down; try again tomorrow
                logger.warning("retention purge skipped (%s)", type(error).__name__)
            time.sleep(PURGE_EVERY_SECONDS)

    threading.Thread(target=loop, name="retention-purge", daemon=True).start()


def main() -> None:
    parser = create_argument_parser()
    args = parser.parse_args()
    if not args.actions:
        args.actions = "actions"
    warm_up()
    purge_daily()
    main_from_args(args)


if __name__ == "__main__":
    main()
