"""Prove that a source tree (the mounted share) and an S3 prefix hold the same files, byte for byte.

    python -m scripts.files_verify --source /mnt/patronus-share --target s3://BUCKET/legacy/ \\
        --workers 8 --report files-verify.json

Every file of the source is matched with the object DataSync writes for it (the relative path,
``/``-separated, same characters, under the prefix) and classified:

* ``missing``: in the source, not in S3;  ``extra``: in S3, not in the source;
* ``size_mismatch``: both exist with different sizes;
* ``content_mismatch``: same size, different SHA-256.

The content is checked without downloading when S3 can vouch for it: the object's SHA-256
checksum (``head_object(..., ChecksumMode="ENABLED")``; a multipart object carries a composite
checksum, recomputed locally from its part sizes), else a ``sha256`` user metadata entry. An
object with neither is reported as *not content-checked* unless ``--deep`` streams its bytes and
hashes them (that costs S3 egress). ``--require-content-check`` makes such objects a failure.

The comparison walks both sides one folder at a time (a delimiter listing per folder, a
``scandir`` per folder), so memory holds one folder's entries, not the whole tree, and the order
in which a server lists keys does not matter. Folders and files are processed by ``--workers``
threads; hashing runs in parallel (hashlib releases the GIL).

Exclude patterns follow the DataSync task's rules (see
``scripts/operator_tools/documents/excludes.py``); the defaults are the task's (Thumbs.db,
desktop.ini, ~$*, .DS_Store). Excluded names are skipped on both sides. The engine is
``scripts/operator_tools/documents/verifier.py``.

Exit status: 0 when both sides match, 1 on any difference, 2 on bad input or unreachable S3.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

if __package__ in {None, ""}:  # run as a file: make the repository root importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from scripts.operator_tools import toolkit
from scripts.operator_tools.documents.excludes import ExcludeFilter
from scripts.operator_tools.documents.paths import normalise_prefix
from scripts.operator_tools.documents.s3 import DEFAULT_REGION, make_client, parse_s3_url
from scripts.operator_tools.documents.verifier import Recorder, Verifier, verification_report


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m scripts.files_verify",
        description="Compare a source tree (the mounted share) with an S3 prefix: missing, extra, "
        "size and content differences. Exit 0 when identical, 1 on any difference, 2 on bad input.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--source", required=True, type=Path, help="the source folder (the share mount)")
    parser.add_argument("--target", required=True, help="s3://bucket/prefix/ (e.g. s3://documents/legacy/)")
    parser.add_argument("--workers", type=int, default=min(32, (os.cpu_count() or 2) * 4), help="threads")
    parser.add_argument(
        "--deep", action="store_true", help="download and hash objects S3 holds no SHA-256 for"
    )
    parser.add_argument(
        "--require-content-check",
        action="store_true",
        help="fail when an object's content could not be checked (no checksum, no metadata, no --deep)",
    )
    parser.add_argument(
        "--exclude",
        action="append",
        metavar="PATTERN",
        help="DataSync-style exclude pattern (repeatable, or |-separated); adds to the defaults",
    )
    parser.add_argument(
        "--no-default-excludes",
        action="store_true",
        help="do not skip Thumbs.db, desktop.ini, ~$*, .DS_Store",
    )
    parser.add_argument("--report", type=Path, help="write the JSON report here")
    parser.add_argument(
        "--max-listed", type=int, default=10000, help="differences kept in the report (default 10000)"
    )
    parser.add_argument("--region", default=DEFAULT_REGION, help=f"AWS region (default {DEFAULT_REGION})")
    parser.add_argument("--endpoint-url", help="S3 endpoint (a local S3-compatible server)")
    toolkit.add_progress_arguments(parser)
    return parser


def main(argv: Sequence[str] | None = None, *, client: Any = None) -> int:
    args = build_parser().parse_args(argv)
    if not args.source.is_dir():
        raise toolkit.ToolError(f"source {args.source} is not a folder (is the share mounted?)")
    if args.workers < 1:
        raise toolkit.ToolError("--workers must be at least 1")
    try:
        bucket, prefix = parse_s3_url(args.target)
        excludes = ExcludeFilter.from_cli(args.exclude, defaults=not args.no_default_excludes)
    except ValueError as exc:
        raise toolkit.ToolError(str(exc)) from exc
    s3 = client or make_client(
        "s3", region=args.region, endpoint_url=args.endpoint_url, max_pool_connections=args.workers + 4
    )
    s3.head_bucket(Bucket=bucket)

    started, clock = toolkit.utc_now(), time.monotonic()
    with toolkit.progress(desc="verifying", enabled=args.progress) as bar:
        verifier = Verifier(
            source=args.source,
            bucket=bucket,
            prefix=normalise_prefix(prefix),
            client=s3,
            excludes=excludes,
            deep=args.deep,
            recorder=Recorder(max_listed=args.max_listed),
            on_bytes=bar.update,
        )
        verifier.run(args.workers)
    elapsed = time.monotonic() - clock
    report = verification_report(
        verifier,
        workers=args.workers,
        started=started,
        seconds=elapsed,
        require_content_check=args.require_content_check,
    )
    toolkit.write_report(args.report, report)
    print_summary(report, elapsed)
    return toolkit.EXIT_OK if report["ok"] else toolkit.EXIT_FAILED


def print_summary(report: dict[str, Any], elapsed: float) -> None:
    summary = report["summary"]
    verified = summary["verified"]
    differences = summary["differences"]
    rate = summary["bytes_compared"] / elapsed if elapsed > 0 else 0.0
    lines = [
        f"source       {report['source']}",
        f"target       {report['target']}",
        f"compared     {summary['files_compared']} files, {toolkit.human_bytes(summary['bytes_compared'])} "
        f"in {elapsed:.1f} s ({toolkit.human_bytes(rate)}/s)",
        f"content      {verified['sha256_checksum']} by SHA-256 checksum, {verified['sha256_composite']} by "
        f"composite checksum, {verified['sha256_metadata']} by sha256 metadata, "
        f"{verified['deep']} byte for byte; "
        f"{summary['not_content_checked']} not content-checked (size only)",
        "differences  " + ", ".join(f"{kind} {count}" for kind, count in differences.items()),
        f"excluded     {summary['excluded_source']} in the source, {summary['excluded_target']} in S3",
    ]
    for item in report["differences"][:20]:
        detail = f" ({item['detail']})" if item["detail"] else ""
        lines.append(f"  {item['kind']:<17} {item['path']}{detail}")
    if len(report["differences"]) > 20 or report["differences_truncated"]:
        lines.append("  ... (the JSON report lists more)")
    lines.append("result       " + ("IDENTICAL" if report["ok"] else "DIFFERENT"))
    print("\n".join(lines))


if __name__ == "__main__":
    sys.exit(toolkit.run(main))
