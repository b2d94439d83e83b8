"""What the database tools share as command-line programs: errors, exit codes, reports, progress."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

from tqdm import tqdm

EXIT_OK = 0
EXIT_FAILED = 1  # the work failed or what was verified does not hold
EXIT_USAGE = 2  # bad arguments, unreadable input, unreachable server
EXIT_INTERRUPTED = 130


class UsageError(Exception):
    """A mistake of the operator (bad argument, missing file, refused login): no traceback."""


def positive_int(value: str) -> int:
    """argparse type: a whole number of 1 or more."""
    import argparse

    number = int(value)
    if number < 1:
        raise argparse.ArgumentTypeError("must be 1 or more")
    return number


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def write_report(path: Path | None, report: dict[str, Any]) -> None:
    if path is None:
        return
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(
            json.dumps(report, indent=2, ensure_ascii=False, default=str) + "\n", encoding="utf-8"
        )
    except OSError as exc:
        raise UsageError(f"cannot write the report {path}: {exc.strerror}") from exc


def human_bytes(count: float) -> str:
    value = float(count)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if abs(value) < 1024 or unit == "GiB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} GiB"  # pragma: no cover


def progress_bar(
    *, total: int, desc: str, unit: str = "B", enabled: bool | None = None, **extra: Any
) -> tqdm:
    """A tqdm bar on stderr; ``enabled=None`` shows it only when stderr is a terminal."""
    return tqdm(
        total=total,
        desc=desc,
        unit=unit,
        unit_scale=unit == "B",
        unit_divisor=1024,
        disable=None if enabled is None else not enabled,
        file=sys.stderr,
        dynamic_ncols=True,
        **extra,
    )


def run(
    main: Callable[[Sequence[str] | None], int],
    argv: Sequence[str] | None = None,
    *,
    err: TextIO | None = None,
) -> int:
    """Call ``main``; turn operator mistakes into a one-line message and exit code 2."""
    stream = err or sys.stderr
    try:
        return main(argv)
    except UsageError as exc:
        print(f"error: {exc}", file=stream)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("interrupted", file=stream)
        return EXIT_INTERRUPTED
