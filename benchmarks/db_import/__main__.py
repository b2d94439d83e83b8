"""``python -m benchmarks.db_import``: db_import against ``mariadb < dump.sql``, side by side."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from benchmarks.db_import import DEFAULT_ROUNDS, DEFAULT_WORKERS, RESULTS, run


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.db_import",
        description="Generate a mysqldump-format dump, load it with the mariadb client and with db_import on "
        "the same server, verify both equal with db_verify, and report the time ratio.",
    )
    parser.add_argument("--size-mb", type=float, default=200.0, help="dump size in MiB (default 200)")
    parser.add_argument(
        "--workers",
        type=int,
        default=DEFAULT_WORKERS,
        help=f"db_import --workers (default {DEFAULT_WORKERS})",
    )
    parser.add_argument(
        "--rounds",
        type=int,
        default=DEFAULT_ROUNDS,
        help=f"pairs of loads, alternating which goes first; the ratio is the median of the pairwise "
        f"ratios (default {DEFAULT_ROUNDS}, at least 5 for a figure to quote)",
    )
    parser.add_argument(
        "--server-url", help="use this server (mysql://root@host:port/) instead of a private one"
    )
    parser.add_argument(
        "--workdir", type=Path, help="where to write the dump (default: a temporary directory)"
    )
    parser.add_argument("--keep", action="store_true", help="keep the dump and the server files")
    parser.add_argument("--results", type=Path, default=RESULTS, help=f"JSON output (default {RESULTS})")
    args = parser.parse_args(argv)
    if args.size_mb <= 0 or args.workers < 1 or args.rounds < 1:
        parser.error("--size-mb, --workers and --rounds must be positive")
    result = run(
        args.size_mb,
        workers=args.workers,
        rounds=args.rounds,
        server_url=args.server_url,
        workdir=args.workdir,
        keep=args.keep,
        results=args.results,
    )
    return 0 if result["verify"]["equal"] else 1


if __name__ == "__main__":
    sys.exit(main())
