"""Prove that a source tree (the mounted share) and an S3 prefix hold the same files, byte for byte.

    python -m scripts.files_verify --source /mnt/patronus-share --target s3://BUCKET/legacy/ \\
        --workers 8 --report files-verify.json

Every file of the source is matched with the object DataSync writes for it (the relative path,
``/``-separated, same characters, under the prefix) and classified:

* ``missing``: in the source, not in S3;  ``extra``: in S3, not in the source;
* ``size_mismatch``: both exist with different sizes;
* ``content_mismatch``: same size, different checksum;
* ``name_normalisation`` / ``name_encoding``: the same name spelled otherwise in S3 (Unicode NFC
  against NFD, percent-encoded); ``key_too_long``: over S3's 1,024-byte key limit;
  ``name_not_utf8``: a name no S3 key can carry; ``error``: a side could not be read.

The content is checked without downloading when S3 can vouch for it: every full-object checksum
the object carries (``head_object(..., ChecksumMode="ENABLED")``: SHA-256, SHA-1, CRC64NVME,
CRC32C, CRC32; S3 adds CRC64NVME to objects uploaded without one), or a multipart object's
composite checksum, recomputed locally from its part sizes; else a ``sha256`` user metadata
entry. An object with none is reported as *not content-checked* (and listed) unless ``--deep``
streams its bytes and hashes them (that costs S3 egress; with ``--deep`` metadata is not
trusted). ``--require-content-check`` makes such objects a failure.

``--journal FILE`` records each finished folder; an interrupted run started again with the same
journal continues where it stopped (the journal is removed when the run completes).

The comparison walks both sides one folder at a time (a delimiter listing per folder, a
``scandir`` per folder), so memory holds one folder's entries, not the whole tree, and the order
in which a server lists keys does not matter. Folders and files are processed by ``--workers``
threads; hashing runs in parallel (hashlib releases the GIL).

Exclude patterns follow the DataSync task's rules (see
``scripts/operator_tools/documents/excludes.py``); the defaults are the task's (Thumbs.db,
desktop.ini, ~$*, .DS_Store). Excluded names are skipped on both sides. The engine is
``scripts/operator_tools/documents/verifier.py``.

Exit status: 0 when both sides match, 1 on any difference (or an object not content-checked
with ``--require-content-check``), 2 on bad input or unreachable S3, 130 when interrupted (rerun
with the same ``--journal`` to continue).
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
from scripts.operator_tools.documents.verifier import Journal, Recorder, Verifier, verification_report


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
        "--deep",
        action="store_true",
        help="download and hash objects S3 holds no checksum for (sha256 metadata is then not trusted)",
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
        "--journal",
        type=Path,
        metavar="FILE",
        help="record progress in FILE; an interrupted run given the same FILE continues where it stopped",
    )
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

    prefix = normalise_prefix(prefix)
    journal = None
    if args.journal is not None:
        identity = {
            "source": str(args.source.resolve()),
            "target": f"s3://{bucket}/{prefix}",
            "excludes": list(excludes.patterns),
            "deep": args.deep,
        }
        journal = Journal(args.journal, identity)
        if journal.resumed:
            print(f"resuming: {journal.resumed} folders already compared ({args.journal})")
    started, clock = toolkit.utc_now(), time.monotonic()
    try:
        with toolkit.progress(desc="verifying", enabled=args.progress) as bar:
            verifier = Verifier(
                source=args.source,
                bucket=bucket,
                prefix=prefix,
                client=s3,
                excludes=excludes,
                deep=args.deep,
                recorder=Recorder(max_listed=args.max_listed),
                on_bytes=bar.update,
                journal=journal,
            )
            verifier.run(args.workers)
    except KeyboardInterrupt:
        if journal is not None:
            journal.close()
            print(f"interrupted: run the same command (same --journal {args.journal}) to continue")
        raise
    if journal is not None:
        journal.finish()
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
    verified = {method: count for method, count in summary["verified"].items() if count}
    differences = summary["differences"]
    rate = summary["bytes_compared"] / elapsed if elapsed > 0 else 0.0
    methods = ", ".join(f"{count} by {method.replace('_', ' ')}" for method, count in verified.items())
    lines = [
        f"source       {report['source']}",
        f"target       {report['target']}",
        f"compared     {summary['files_compared']} files, {toolkit.human_bytes(summary['bytes_compared'])} "
        f"in {elapsed:.1f} s ({toolkit.human_bytes(rate)}/s)"
        + (
            f"; {report['resumed_units']} folders carried over from the journal"
            if report["resumed_units"]
            else ""
        ),
        f"content      {methods or 'none checked'}; "
        f"{summary['not_content_checked']} not content-checked (size only)",
        "differences  " + ", ".join(f"{kind} {count}" for kind, count in differences.items()),
        f"excluded     {summary['excluded_source']} in the source, {summary['excluded_target']} in S3",
        f"skipped      {summary['skipped_special_files']} special files (links to nothing, devices, sockets, "
        "pipes): not copied by DataSync",
    ]
    for item in report["differences"][:20]:
        detail = f" ({item['detail']})" if item["detail"] else ""
        lines.append(f"  {item['kind']:<18} {item['path']}{detail}")
    if len(report["differences"]) > 20 or report["differences_truncated"]:
        lines.append("  ... (the JSON report lists more)")
    lines += [f"  special            {path}" for path in report["skipped_special_files"][:10]]
    unchecked = report["not_content_checked"]
    if unchecked and report["require_content_check"]:
        lines.append(
            "not content-checked (--require-content-check): S3 holds no checksum for them; --deep checks them"
        )
        lines += [f"  not checked        {path}" for path in unchecked[:20]]
        if summary["not_content_checked"] > 20:
            lines.append("  ... (the JSON report lists more)")
    lines.append("result       " + ("IDENTICAL" if report["ok"] else "DIFFERENT"))
    print("\n".join(lines))


if __name__ == "__main__":
    sys.exit(toolkit.run(main))
