"""What every operator tool shares as a command-line program.

* **Exit codes** with one meaning across the tools (docs/migration.md lists them per tool):
  :data:`EXIT_OK`, :data:`EXIT_FAILED`, :data:`EXIT_USAGE`, :data:`EXIT_LOAD_FAILED`,
  :data:`EXIT_INTERRUPTED`.
* **One error class**, :class:`ToolError`: a problem the operator must fix, shown as one line.
* **Reports**: :func:`write_report` writes the JSON report atomically.
* **Progress bars** (tqdm, on standard error): :func:`progress`, with the ``--progress`` /
  ``--no-progress`` flags of :func:`add_progress_arguments`.
* **Sizes and times**: :func:`human_bytes`, :func:`utc_now`, :func:`iso`.
* **The wrapper** :func:`run`, which every ``scripts/<tool>.py`` ends with:
  ``sys.exit(toolkit.run(main))``. It maps errors to exit codes and one-line messages.

Only the standard library is imported here: the smoke test runs where nothing but boto3 is
installed. tqdm is imported when a bar is made; botocore's errors are recognised only when
botocore was loaded by the tool.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import uuid
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

EXIT_OK = 0
"""The work is done, or what the tool verifies holds."""
EXIT_FAILED = 1
"""The work failed or was interrupted part-way (rerun to resume), or what the tool verifies does
not hold (differences, blockers, unresolved references, a failed check)."""
EXIT_USAGE = 2
"""Nothing useful could start: a bad argument, an unreadable input, missing credentials, a refused
login or an unreachable server or service (argparse uses 2 for its errors too)."""
EXIT_LOAD_FAILED = 3
"""The work failed after it had changed its target: the target holds a partial result, which the
tool's message describes with the commands that resume, restart or clean it."""
EXIT_INTERRUPTED = 130
"""Stopped with Ctrl-C (128 + SIGINT, as shells report it)."""


class ToolError(Exception):
    """A problem the operator must fix (bad argument, unreadable file, refused login, unreachable
    service): :func:`run` prints it as one line, without a traceback, and exits with 2."""


def positive_int(value: str) -> int:
    """argparse type: a whole number of 1 or more."""
    number = int(value)
    if number < 1:
        raise argparse.ArgumentTypeError("must be 1 or more")
    return number


# -- times and sizes -----------------------------------------------------------------------------


def utc_now() -> datetime:
    return datetime.now(UTC)


def iso(moment: datetime | None = None) -> str:
    """ISO 8601 in UTC to the second, ``2026-12-03T09:30:00Z`` (now when no moment is given)."""
    moment = utc_now() if moment is None else moment
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def human_bytes(count: float) -> str:
    """``512 B``, ``1.5 KiB`` ... ``2.0 TiB`` (binary units, one decimal above bytes)."""
    value = float(count)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if abs(value) < 1024:
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} TiB"


# -- reports -------------------------------------------------------------------------------------


def write_report(path: str | Path | None, report: dict[str, Any]) -> None:
    """Write ``report`` as JSON to ``path`` (nothing when no path is given), atomically.

    The text goes to a temporary file in the same folder, reaches the disk, then replaces
    ``path`` in one rename: a reader (or a rerun after a crash) sees the previous report or the
    new one, never half a file. Values JSON does not know (paths, dates) are written as text.
    """
    if not path:
        return
    target = Path(path)
    text = json.dumps(report, indent=2, ensure_ascii=False, default=str) + "\n"
    temporary = target.with_name(f".{target.name}.{os.getpid()}.{uuid.uuid4().hex[:8]}.tmp")
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            with temporary.open("x", encoding="utf-8") as handle:
                handle.write(text)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(temporary, target)
        finally:
            temporary.unlink(missing_ok=True)  # left only when something failed
    except OSError as exc:
        raise ToolError(f"cannot write the report {target}: {exc.strerror or exc}") from exc


# -- progress bars -------------------------------------------------------------------------------


def add_progress_arguments(parser: argparse.ArgumentParser) -> None:
    """``--progress`` / ``--no-progress`` (``args.progress``: True, False or None for automatic)."""
    shown = parser.add_mutually_exclusive_group()
    shown.add_argument(
        "--progress", dest="progress", action="store_true", default=None, help="always show progress bars"
    )
    shown.add_argument(
        "--no-progress", dest="progress", action="store_false", help="never show progress bars"
    )


def progress(
    *, desc: str, total: float | None = None, unit: str = "B", enabled: bool | None = None, **extra: Any
) -> Any:
    """A tqdm bar on standard error; byte counts are scaled (KiB, MiB...).

    ``enabled``: True always shows it, False never, None only when standard error is a terminal
    (so that logs and pipes get no bar).
    """
    from tqdm import tqdm

    return tqdm(
        total=total,
        desc=desc,
        unit=unit,
        unit_scale=unit == "B",
        unit_divisor=1024,
        disable=None if enabled is None else not enabled,
        **{"file": sys.stderr, "dynamic_ncols": True, **extra},
    )


# -- the wrapper ---------------------------------------------------------------------------------


def run(
    main: Callable[[Sequence[str] | None], int],
    argv: Sequence[str] | None = None,
    *,
    err: TextIO | None = None,
) -> int:
    """Call ``main(argv)`` and return its exit code; map what goes wrong to a code and one line.

    :class:`ToolError` and AWS errors (no credentials, a refused call, an unreachable endpoint)
    give ``error: ...`` and :data:`EXIT_USAGE`; Ctrl-C gives ``interrupted`` and
    :data:`EXIT_INTERRUPTED`. Anything else is a bug and keeps its traceback.
    """
    stream = err or sys.stderr
    try:
        return main(argv)
    except ToolError as exc:
        print(f"error: {exc}", file=stream)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("interrupted", file=stream)
        return EXIT_INTERRUPTED
    except Exception as exc:
        message = aws_error_message(exc)
        if message is None:
            raise
        print(f"error: {message}", file=stream)
        return EXIT_USAGE


def aws_error_message(exc: BaseException) -> str | None:
    """The one-line message for an AWS SDK error, or None when ``exc`` is not one."""
    errors = sys.modules.get("botocore.exceptions")
    if errors is None:  # botocore was never loaded: the error cannot be one of its own
        return None
    if isinstance(exc, errors.NoCredentialsError):
        return "no AWS credentials found (set AWS_PROFILE or the AWS_* variables)"
    if isinstance(exc, errors.ClientError):
        error = exc.response.get("Error", {})
        return f"AWS refused {exc.operation_name}: {error.get('Code')}: {error.get('Message')}"
    if isinstance(exc, errors.BotoCoreError):
        return str(exc)
    return None
