"""Take stock of the share before the first DataSync run: what it holds, and what will not move.

    python -m scripts.share_inventory --source /mnt/patronus-share --report inventory.json \\
        --csv inventory.csv --html inventory.html

One walk of the mounted share (read-only; links are never followed) reports:

* files, folders and sizes per top folder, and the longest paths as S3 keys (in bytes);
* names S3 or the share cannot carry: not UTF-8, a trailing space or dot, a character Windows
  reserves, a Windows device name (CON, NUL, COM1...), a key over S3's 1,024 bytes; names in one
  folder that differ only by case (SMB clients see one file) or by Unicode normalisation (NFC
  and NFD);
* links that will become duplicate copies in S3 (symbolic links, hard links);
* junk files (Thumbs.db, desktop.ini, ~$*, .~lock.*#, ._*, .DS_Store, *.tmp, in any case), and
  those the task's case-sensitive filters would still copy;
* a preview of the DataSync filters (``--exclude``, ``--include``, the task's defaults): files and
  bytes copied and left out, per pattern.

Outputs: a summary on standard output, the JSON report (``--report``), every finding as one CSV
row (``--csv``), and a short HTML page for the migration review (``--html``). The engine is
``scripts/operator_tools/documents/inventory.py``.

Exit status: 0 when nothing blocks the copy (notices such as junk or links may remain), 1 when
some names need a decision (the blocking kinds above, or a folder that could not be read), 2 on
bad input.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

if __package__ in {None, ""}:  # run as a file: make the repository root importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from scripts.operator_tools import toolkit
from scripts.operator_tools.documents.excludes import ExcludeFilter
from scripts.operator_tools.documents.inventory import BLOCKING, DESCRIPTIONS, Inventory, html_summary
from scripts.operator_tools.documents.paths import normalise_prefix


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m scripts.share_inventory",
        description="Inventory the mounted share before the migration: sizes per top folder, longest paths, "
        "names S3 or the share cannot carry, case and Unicode collisions, links, junk, and what the DataSync "
        "filters copy. Exit 0 when nothing blocks the copy, 1 when names need a decision, 2 on bad input.",
    )
    parser.add_argument("--source", required=True, type=Path, help="the share, mounted read-only")
    parser.add_argument(
        "--prefix", default="legacy/", help="the key prefix DataSync writes under (default legacy/)"
    )
    parser.add_argument(
        "--exclude",
        action="append",
        metavar="PATTERN",
        help="DataSync exclude pattern (repeatable, or |-separated); adds to the task's defaults",
    )
    parser.add_argument(
        "--no-default-excludes",
        action="store_true",
        help="do not apply Thumbs.db, desktop.ini, ~$*, .DS_Store",
    )
    parser.add_argument(
        "--include",
        action="append",
        metavar="PATTERN",
        help="DataSync include pattern (repeatable): only these",
    )
    parser.add_argument("--report", type=Path, metavar="FILE", help="write the JSON report to FILE")
    parser.add_argument("--csv", type=Path, metavar="FILE", help="write every finding to FILE, one row each")
    parser.add_argument("--html", type=Path, metavar="FILE", help="write a short HTML summary to FILE")
    parser.add_argument(
        "--longest", type=toolkit.positive_int, default=20, help="longest paths listed (default 20)"
    )
    parser.add_argument(
        "--max-listed", type=toolkit.positive_int, default=1000, help="findings of each kind kept in the JSON"
    )
    toolkit.add_progress_arguments(parser)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if not args.source.is_dir():
        raise toolkit.ToolError(f"source {args.source} is not a folder (is the share mounted?)")
    try:
        excludes = ExcludeFilter.from_cli(args.exclude, defaults=not args.no_default_excludes)
        includes = ExcludeFilter.from_cli(args.include, defaults=False) if args.include else None
    except ValueError as exc:
        raise toolkit.ToolError(str(exc)) from exc
    started = toolkit.iso()
    csv_out = _open(args.csv)
    try:
        with toolkit.progress(desc="inventory", unit=" files", enabled=args.progress) as bar:
            inventory = Inventory(
                args.source,
                prefix=normalise_prefix(args.prefix),
                excludes=excludes,
                includes=includes,
                longest=args.longest,
                max_listed=args.max_listed,
                csv_out=csv_out,
                on_file=bar.update,
            )
            report = inventory.run()
    finally:
        if csv_out is not None:
            csv_out.close()
    report = {"tool": "share_inventory", "started_at": started, "finished_at": toolkit.iso(), **report}
    toolkit.write_report(args.report, report)
    if args.html is not None:
        _write_text(args.html, html_summary(report, human=toolkit.human_bytes))
    print_summary(report, args)
    return toolkit.EXIT_OK if report["ok"] else toolkit.EXIT_FAILED


def _open(path: Path | None) -> Any:
    if path is None:
        return None
    try:
        return path.open("w", encoding="utf-8", newline="")
    except OSError as exc:
        raise toolkit.ToolError(f"cannot write {path}: {exc.strerror}") from exc


def _write_text(path: Path, text: str) -> None:
    try:
        path.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise toolkit.ToolError(f"cannot write {path}: {exc.strerror}") from exc


def print_summary(report: dict[str, Any], args: argparse.Namespace) -> None:
    human = toolkit.human_bytes
    filters = report["filters"]
    by_pattern = ", ".join(f"{p} {n}" for p, n in sorted(filters["excluded_by_pattern"].items())) or "none"
    lines = [
        f"share        {report['root']} -> keys under {report['prefix']}",
        f"holds        {report['files']} files, {human(report['bytes'])}; "
        f"{report['special_files']} special files",
        f"copied       {filters['included_files']} files, {human(filters['included_bytes'])}; "
        f"left out by the filters {filters['excluded_files']} files, {human(filters['excluded_bytes'])} "
        f"({by_pattern})",
        "top folders  "
        + ", ".join(
            f"{name} {t['files']} files {human(t['bytes'])}"
            for name, t in list(report["top_folders"].items())[:8]
        ),
    ]
    if report["longest_paths"]:
        longest = report["longest_paths"][0]
        lines.append(f"longest key  {longest['key_bytes']} bytes: {longest['path']}")
    for kind, count in report["problems"].items():
        if count:
            level = "BLOCKING" if kind in BLOCKING else "notice  "
            lines.append(f"{level} {kind} {count}: {DESCRIPTIONS[kind]}")
            lines += [
                f"    {item['path']}" + (f" ({item['detail']})" if item["detail"] else "")
                for item in report["findings"][kind][:5]
            ]
    for label, path in (("report", args.report), ("csv", args.csv), ("html", args.html)):
        if path is not None:
            lines.append(f"{label:<12} {path}")
    lines.append(
        "result       "
        + ("nothing blocks the copy" if report["ok"] else f"{report['blocking']} findings need a decision")
    )
    print("\n".join(lines))


if __name__ == "__main__":
    sys.exit(toolkit.run(main))
