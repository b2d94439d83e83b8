"""Print an ID token that the local stack (`make run`) accepts, without a browser.

The token is the one the local sign-in would give (RS256, Cognito's claims), signed with the
stack's key for the issuer it recorded in its data folder.

Example:
    .venv/bin/python -m scripts.local_token alice --groups editors
    TOKEN=$(.venv/bin/python -m scripts.local_token bob --groups readers,unit-a --ttl 600)
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from scripts.devstack.paths import local_data_dir
from scripts.devstack.tokens import ROLE_GROUPS, local_issuer


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Print a signed ID token for the local Patronus stack.",
        epilog="Groups: readers read, editors also write, admins also archive and delete; "
        "unit groups (unit-...) say where.",
    )
    parser.add_argument("user", help="user name (the token's subject)")
    parser.add_argument(
        "--groups",
        default="editors",
        help=f"comma-separated groups among {', '.join(ROLE_GROUPS)} and unit-... (default: editors; "
        "a user in no unit sees no dossier: add one, e.g. editors,unit-a)",
    )
    parser.add_argument("--ttl", type=int, default=3600, help="lifetime in seconds (default: 3600)")
    parser.add_argument("--email", help="optional e-mail claim")
    parser.add_argument(
        "--data-dir",
        type=Path,
        default=local_data_dir(),
        help="local stack data folder (default: PATRONUS_DATA_DIR, else .local), as for make run",
    )
    args = parser.parse_args(argv)
    groups = [g.strip() for g in args.groups.split(",") if g.strip()]
    if args.ttl <= 0:
        parser.error("--ttl must be positive")
    try:
        token = local_issuer(args.data_dir).id_token(
            args.user, groups, ttl_seconds=args.ttl, email=args.email
        )
    except ValueError as exc:
        parser.error(str(exc))
    sys.stdout.write(token + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
