"""Storage administration: ``python -m bot.storage.cli COMMAND``.

Commands (the database is ``--database-url``, else ``DATABASE_URL``, else
SQLite at ``var/lumi.db``; the schema is brought up to date first):

  migrate                   upgrade the schema to the newest revision
  export LEARNER_ID [-o F]  print (or write to F) everything stored about a learner, as JSON
  erase LEARNER_ID          delete a learner and all their rows
  purge [--days N]          delete learners not seen for N days (default: the
                            retention setting, env RETENTION_DAYS, 365) and old class sessions,
                            and conversations idle for TRACKER_TTL_SECONDS (var/conversations.db)
  create-teacher USERNAME   create a teacher account; the password comes from
                            env LUMI_TEACHER_PASSWORD or is asked twice on the terminal
  set-password USERNAME     give a teacher a new password (same sources as above)

Exit codes: 0 done, 1 not found, 2 bad input, 3 database unreachable or failing.
"""

from __future__ import annotations

import argparse
import getpass
import json
import os
import sys
from collections.abc import Sequence
from typing import Any

EXIT_OK, EXIT_NOT_FOUND, EXIT_INPUT, EXIT_DATABASE = 0, 1, 2, 3


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m bot.storage.cli",
        description="Lumi's progress store: migrations, a learner's data, retention, teachers.",
    )
    parser.add_argument(
        "--database-url",
        help="SQLAlchemy URL (default: env DATABASE_URL, else SQLite at var/lumi.db)",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    commands.add_parser("migrate", help="upgrade the schema to the newest revision")
    export = commands.add_parser("export", help="a learner's data as JSON")
    export.add_argument("learner_id")
    export.add_argument("-o", "--output", help="write to this file instead of standard output")
    erase = commands.add_parser("erase", help="delete a learner and all their rows")
    erase.add_argument("learner_id")
    purge = commands.add_parser("purge", help="delete data older than the retention period")
    purge.add_argument("--days", type=int, help="retention in days (default: the setting)")
    teacher = commands.add_parser("create-teacher", help="create a teacher account")
    teacher.add_argument("username")
    reset = commands.add_parser("set-password", help="give a teacher a new password")
    reset.add_argument("username")
    return parser


def _password() -> str | None:
    from_env = os.environ.get("LUMI_TEACHER_PASSWORD")
    if from_env:
        return from_env
    if not sys.stdin.isatty():
        print(
            "error: no password: set LUMI_TEACHER_PASSWORD or run in a terminal",
            file=sys.stderr,
        )
        return None
    first = getpass.getpass("Password (10 characters or more): ")
    if getpass.getpass("Same password again: ") != first:
        print("error: the two passwords differ", file=sys.stderr)
        return None
    return first


def _purge_conversations() -> dict[str, Any] | str:
    """Idle conversations in Rasa's SQL tracker store (``bot.conversations``); Redis
    expires its own."""
    if os.environ.get("REDIS_URL"):
        return "in Redis: they expire by themselves"
    from sqlalchemy.exc import SQLAlchemyError

    from bot import conversations

    try:
        return conversations.purge()
    except SQLAlchemyError as error:
        return f"unavailable ({type(error).__name__})"


def _run(args: argparse.Namespace) -> int:
    from bot.storage.store import Store

    store = Store(args.database_url)
    try:
        if args.command == "migrate":
            revision = store.migrate()
            print(f"database at revision {revision}")
            return EXIT_OK
        if args.command == "export":
            data = store.export_learner(args.learner_id)
            if data is None:
                print("no learner with this id", file=sys.stderr)
                return EXIT_NOT_FOUND
            text = json.dumps(data, indent=2, ensure_ascii=False)
            if args.output:
                with open(args.output, "w", encoding="utf-8") as out:
                    out.write(text + "\n")
                print(f"written to {args.output}")
            else:
                print(text)
            return EXIT_OK
        if args.command == "erase":
            if not store.erase_learner(args.learner_id):
                print("no learner with this id", file=sys.stderr)
                return EXIT_NOT_FOUND
            print("learner erased")
            return EXIT_OK
        if args.command == "purge":
            counts: dict[str, Any] = store.purge(args.days)
            counts["conversations"] = _purge_conversations()
            print(json.dumps(counts))
            return EXIT_OK
        if args.command == "create-teacher":
            password = _password()
            if password is None:
                return EXIT_INPUT
            teacher_id = store.create_teacher(args.username, password)
            print(f"teacher created (id {teacher_id})")
            return EXIT_OK
        if args.command == "set-password":
            password = _password()
            if password is None:
                return EXIT_INPUT
            if not store.set_teacher_password(args.username, password):
                print("no teacher with this username", file=sys.stderr)
                return EXIT_NOT_FOUND
            print("password changed")
            return EXIT_OK
    finally:
        store.dispose()
    raise AssertionError(f"unhandled command {args.command}")


def main(argv: Sequence[str] | None = None) -> int:
    from sqlalchemy.exc import ArgumentError, SQLAlchemyError

    from bot.storage.engine import database_url, safe_url

    args = _parser().parse_args(argv)
    try:
        return _run(args)
    except ValueError as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_INPUT
    except ArgumentError:
        print("error: the database URL is not a valid SQLAlchemy URL", file=sys.stderr)
        return EXIT_INPUT
    except SQLAlchemyError as error:
        where = safe_url(database_url(args.database_url))
        print(
            f"error: database {where} unreachable or failing ({type(error).__name__})",
            file=sys.stderr,
        )
        return EXIT_DATABASE


if __name__ == "__main__":
    sys.exit(main())
