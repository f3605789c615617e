"""Check every story file, its texts and the understanding data.

    .venv/bin/python -m bot.stories.validate

Prints one line per problem (file and step) and exits 1, or prints a summary
and exits 0.
"""

from __future__ import annotations

import sys

from bot.stories.model import StoryError, load_stories
from bot.stories.understand import load_lexicon


def main() -> int:
    try:
        lexicon = load_lexicon()
        found = load_stories()
    except StoryError as exc:
        for line in exc.errors:
            print(line, file=sys.stderr)
        print(f"{len(exc.errors)} problem(s) found", file=sys.stderr)
        return 1
    steps = sum(len(s.steps) for s in found.values())
    print(
        f"ok: {len(found)} stories, {steps} steps, "
        f"{len(lexicon.strategies)} strategies ({', '.join(sorted(found))})"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
