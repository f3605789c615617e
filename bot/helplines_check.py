"""List helpline entries not verified for over a year (``make check-helplines``).

Exit code 1 when some are stale, so a scheduled job can flag them.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys

from bot import helplines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--max-age-days", type=int, default=365)
    parser.add_argument("--today", type=dt.date.fromisoformat, default=None)
    args = parser.parse_args(argv)
    stale = helplines.stale(args.today, args.max_age_days)
    total = len(helplines.directory().entries)
    if not stale:
        print(f"all {total} helpline entries verified within {args.max_age_days} days")
        return 0
    print(f"{len(stale)} of {total} helpline entries need checking against their source:")
    for entry in stale:
        print(f"  {entry.id} ({entry.country}): verified {entry.verified}, source {entry.source}")
    return 1


if __name__ == "__main__":
    sys.exit(main())
