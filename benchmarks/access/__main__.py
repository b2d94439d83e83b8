"""``python -m benchmarks.access``: the access-filtered list and search against the unfiltered ones."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from benchmarks.access import GOAL_RATIO, QUERIES, RESULTS, run


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.access",
        description="Seed dossiers, units and grants into a throwaway MariaDB, then time the first page "
        "of a filtered list and of a search with and without the access filter, side by side "
        f"(goal: p50 ratio at most {GOAL_RATIO}).",
    )
    parser.add_argument("--dossiers", type=int, default=100_000, help="dossiers (default 100000)")
    parser.add_argument("--units", type=int, default=50, help="units (default 50)")
    parser.add_argument("--grants", type=int, default=5_000, help="grants (default 5000)")
    parser.add_argument("--rounds", type=int, default=200, help="timed runs of each query (default 200)")
    parser.add_argument(
        "--server-url", help="use this server (mysql://root@host:port/) instead of a private one"
    )
    parser.add_argument("--results", type=Path, default=RESULTS, help=f"JSON output (default {RESULTS})")
    args = parser.parse_args(argv)
    if min(args.dossiers, args.units, args.rounds) < 1 or args.grants < 0:
        parser.error("--dossiers, --units and --rounds must be positive, --grants not negative")
    result = run(
        dossiers_count=args.dossiers,
        units=args.units,
        grants=args.grants,
        rounds=args.rounds,
        server_url=args.server_url,
        results=args.results,
    )
    for name in QUERIES:
        figure = result[name]
        print(
            f"{name:14} p50 with access {figure['p50_with_access_ms']:.3f} ms, without "
            f"{figure['p50_without_access_ms']:.3f} ms: ratio {figure['ratio']:.2f} "
            f"({'met' if figure['goal_ratio_at_most_1_5'] else 'MISSED'}; goal <= {GOAL_RATIO})"
        )
    machine = result["machine"]
    print(f"load average (1 min) {machine['load_1min_before']} -> {machine['load_1min_after']}")
    return 0 if all(result[name]["goal_ratio_at_most_1_5"] for name in QUERIES) else 1


if __name__ == "__main__":
    sys.exit(main())
