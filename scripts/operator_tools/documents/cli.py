"""What the operator scripts share: exit codes, clear errors, JSON reports, progress bars."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

EXIT_OK = 0
EXIT_FAILED = 1  # what the script verifies does not hold, or the operation it follows failed
EXIT_USAGE = 2  # bad input, missing credentials, unreachable service
EXIT_INTERRUPTED = 130


class CliError(Exception):
    """A user-facing error: printed as one line, no traceback, exit code 2."""


def utc_now() -> datetime:
    return datetime.now(UTC)


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def write_report(path: str | Path | None, report: dict[str, Any]) -> None:
    """Write the JSON report atomically (a reader never sees half a file)."""
    if not path:
        return
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    temporary = target.with_name(target.name + ".tmp")
    temporary.write_text(
        json.dumps(report, indent=2, ensure_ascii=False, default=str) + "\n", encoding="utf-8"
    )
    os.replace(temporary, target)


def progress(*, enabled: bool = True, **kwargs: Any) -> Any:
    """A tqdm progress bar on stderr, off when asked or when stderr is not a terminal."""
    from tqdm import tqdm

    disable = not enabled or (not sys.stderr.isatty() and not os.environ.get("PATRONUS_FORCE_PROGRESS"))
    return tqdm(disable=disable, dynamic_ncols=True, file=sys.stderr, **kwargs)


def run(main: Callable[[Sequence[str] | None], int], argv: Sequence[str] | None = None) -> int:
    """Run ``main`` and turn user mistakes and unreachable services into one-line errors."""
    from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError

    try:
        return main(argv)
    except CliError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except NoCredentialsError:
        print("error: no AWS credentials found (set AWS_PROFILE or the AWS_* variables)", file=sys.stderr)
        return EXIT_USAGE
    except ClientError as exc:
        error = exc.response.get("Error", {})
        print(
            f"error: AWS refused {exc.operation_name}: {error.get('Code')}: {error.get('Message')}",
            file=sys.stderr,
        )
        return EXIT_USAGE
    except BotoCoreError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED


def human_bytes(count: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if abs(count) < 1024 or unit == "TiB":
            return f"{count:.0f} {unit}" if unit == "B" else f"{count:.1f} {unit}"
        count /= 1024
    return f"{count:.1f} TiB"
