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

Exclude patterns follow the DataSync task's rules (see ``scripts/operator_tools/documents/excludes.py``); the
defaults are the task's (Thumbs.db, desktop.ini, ~$*, .DS_Store). Excluded names are skipped on
both sides.

Exit status: 0 when both sides match, 1 on any difference, 2 on bad input or unreachable S3.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import sys
import threading
import time
from collections import Counter, deque
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from botocore.exceptions import ClientError

from scripts.operator_tools import toolkit
from scripts.operator_tools.documents.excludes import ExcludeFilter
from scripts.operator_tools.documents.hashing import CHUNK_SIZE, sha256_file, uniform_parts
from scripts.operator_tools.documents.paths import normalise_prefix
from scripts.operator_tools.documents.s3 import (
    DEFAULT_REGION,
    iter_objects,
    list_folder,
    make_client,
    parse_s3_url,
)

DIFFERENCE_KINDS = ("missing", "extra", "size_mismatch", "content_mismatch", "error")
VERIFIED_BY = ("sha256_checksum", "sha256_composite", "sha256_metadata", "deep")


@dataclass(frozen=True)
class Difference:
    kind: str
    path: str
    key: str
    source_size: int | None = None
    target_size: int | None = None
    detail: str = ""


@dataclass(frozen=True)
class FileCheck:
    relative: str
    local_path: Path
    size: int
    key: str


@dataclass
class Recorder:
    """Thread-safe tallies; keeps the first ``max_listed`` differences for the report."""

    max_listed: int = 1000
    counts: Counter[str] = field(default_factory=Counter)
    differences: list[Difference] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def add(self, name: str, amount: int = 1) -> None:
        with self._lock:
            self.counts[name] += amount

    def difference(self, item: Difference) -> None:
        with self._lock:
            self.counts[item.kind] += 1
            if len(self.differences) < self.max_listed:
                self.differences.append(item)

    @property
    def difference_count(self) -> int:
        return sum(self.counts[kind] for kind in DIFFERENCE_KINDS)


@dataclass
class Verifier:
    source: Path
    bucket: str
    prefix: str
    client: Any
    excludes: ExcludeFilter
    deep: bool = False
    recorder: Recorder = field(default_factory=Recorder)
    on_bytes: Callable[[int], None] = lambda _count: None

    # -- helpers ---------------------------------------------------------------------------
    def key(self, relative: str) -> str:
        return self.prefix + relative

    @staticmethod
    def join(folder: str, name: str) -> str:
        return f"{folder}/{name}" if folder else name

    def _mappable(self, relative: str) -> bool:
        try:
            relative.encode("utf-8")
        except UnicodeEncodeError:
            self.recorder.difference(
                Difference(
                    "missing",
                    relative.encode("utf-8", "replace").decode(),
                    "",
                    detail="name is not valid UTF-8; S3 keys must be",
                )
            )
            return False
        return True

    # -- one folder ------------------------------------------------------------------------
    def scan_folder(self, folder: str) -> tuple[list[FileCheck], list[str], list[str], list[str]]:
        """Compare one folder; return (files to check, sub-folders on both sides, source-only, S3-only)."""
        local_files: dict[str, int] = {}
        local_dirs: set[str] = set()
        directory = self.source / folder if folder else self.source
        try:
            entries = list(os.scandir(directory))
        except OSError as exc:
            # Without the source side, nothing in this folder can be compared: say so, skip it.
            self.recorder.difference(
                Difference(
                    "error", folder, self.key(folder) + "/", detail=f"cannot list the source folder: {exc}"
                )
            )
            return [], [], [], []
        for entry in entries:
            relative = self.join(folder, entry.name)
            if self.excludes.matches(relative):
                self.recorder.add("excluded_source")
                continue
            if entry.is_dir(follow_symlinks=False):
                local_dirs.add(entry.name)
            elif entry.is_file(follow_symlinks=True):
                if self._mappable(relative):
                    local_files[entry.name] = entry.stat(follow_symlinks=True).st_size
            else:
                self.recorder.add("skipped_special_files")
        listing = list_folder(self.client, self.bucket, self.key(folder) + "/" if folder else self.prefix)
        remote_files: dict[str, int] = {}
        for name, info in listing.objects.items():
            if self.excludes.matches(self.join(folder, name)):
                self.recorder.add("excluded_target")
            else:
                remote_files[name] = info.size
        remote_dirs = {name for name in listing.folders if not self.excludes.matches(self.join(folder, name))}

        checks: list[FileCheck] = []
        for name, size in local_files.items():
            relative = self.join(folder, name)
            if name in remote_files:
                if remote_files[name] != size:
                    self.recorder.difference(
                        Difference("size_mismatch", relative, self.key(relative), size, remote_files[name])
                    )
                else:
                    checks.append(FileCheck(relative, directory / name, size, self.key(relative)))
            else:
                detail = "S3 holds a folder of that name" if name in remote_dirs else ""
                self.recorder.difference(
                    Difference("missing", relative, self.key(relative), size, None, detail)
                )
        for name, size in remote_files.items():
            if name not in local_files:
                relative = self.join(folder, name)
                detail = "the source holds a folder of that name" if name in local_dirs else ""
                self.recorder.difference(
                    Difference("extra", relative, self.key(relative), None, size, detail)
                )
        both = sorted(local_dirs & remote_dirs)
        return (
            checks,
            [self.join(folder, n) for n in both],
            [self.join(folder, n) for n in sorted(local_dirs - remote_dirs)],
            [self.join(folder, n) for n in sorted(remote_dirs - local_dirs)],
        )

    def source_only_tree(self, folder: str) -> None:
        """A folder S3 does not have at all: every file below it is missing."""

        def unreadable(exc: OSError) -> None:
            where = Path(exc.filename or "").relative_to(self.source).as_posix() if exc.filename else folder
            self.recorder.difference(
                Difference("error", where, "", detail=f"cannot list the source folder: {exc}")
            )

        for dirpath, dirnames, filenames in os.walk(self.source / folder, onerror=unreadable):
            base = Path(dirpath).relative_to(self.source).as_posix()
            dirnames[:] = [d for d in dirnames if not self.excludes.matches(self.join(base, d))]
            for name in filenames:
                relative = self.join(base, name)
                if self.excludes.matches(relative):
                    self.recorder.add("excluded_source")
                    continue
                if not self._mappable(relative):
                    continue
                try:
                    size: int | None = (Path(dirpath) / name).stat().st_size
                except OSError:
                    size = None
                self.recorder.difference(Difference("missing", relative, self.key(relative), size))

    def target_only_tree(self, folder: str) -> None:
        """A prefix the source does not have at all: every object below it is extra."""
        base = self.key(folder) + "/"
        for info in iter_objects(self.client, self.bucket, base):
            if info.key.endswith("/"):
                continue  # a folder marker
            relative = info.key[len(self.prefix) :]
            if self.excludes.excludes(relative):
                self.recorder.add("excluded_target")
                continue
            self.recorder.difference(Difference("extra", relative, info.key, None, info.size))

    # -- one file --------------------------------------------------------------------------
    def check_file(self, check: FileCheck) -> None:
        try:
            self._check_file(check)
        except OSError as exc:
            self.recorder.difference(
                Difference(
                    "error",
                    check.relative,
                    check.key,
                    check.size,
                    None,
                    f"cannot read the source file: {exc}",
                )
            )
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "")
            kind = "missing" if code in {"404", "NoSuchKey", "NotFound"} else "error"
            self.recorder.difference(
                Difference(kind, check.relative, check.key, check.size, None, f"S3: {code}")
            )
        finally:
            self.recorder.add("files_compared")
            self.recorder.add("bytes_compared", check.size)
            self.on_bytes(check.size)

    def _check_file(self, check: FileCheck) -> None:
        head = self.client.head_object(Bucket=self.bucket, Key=check.key, ChecksumMode="ENABLED")
        remote_size = int(head["ContentLength"])
        if remote_size != check.size:
            self.recorder.difference(
                Difference("size_mismatch", check.relative, check.key, check.size, remote_size)
            )
            return
        checksum = head.get("ChecksumSHA256")
        metadata = {k.lower(): v for k, v in (head.get("Metadata") or {}).items()}
        if checksum and "-" in checksum:
            matched, detail = self._check_composite(check, checksum)
            method = "sha256_composite"
        elif checksum:
            digest = sha256_file(check.local_path)
            matched, detail = digest.base64 == checksum, f"sha256 {digest.hex}; S3 checksum {checksum}"
            method = "sha256_checksum"
        elif _is_sha256_hex(metadata.get("sha256", "")):
            digest = sha256_file(check.local_path)
            expected = metadata["sha256"].lower()
            matched, detail = digest.hex == expected, f"sha256 {digest.hex}; S3 metadata {expected}"
            method = "sha256_metadata"
        elif self.deep:
            digest = sha256_file(check.local_path)
            remote = self._remote_sha256(check.key)
            matched, detail = digest.sha256 == remote, f"sha256 {digest.hex}; S3 bytes {remote.hex()}"
            method = "deep"
        else:
            self.recorder.add("not_content_checked")
            return
        if matched:
            self.recorder.add(method)
        else:
            self.recorder.difference(
                Difference("content_mismatch", check.relative, check.key, check.size, remote_size, detail)
            )

    def _check_composite(self, check: FileCheck, checksum: str) -> tuple[bool, str]:
        parts = int(checksum.rsplit("-", 1)[1])
        first = self.client.head_object(Bucket=self.bucket, Key=check.key, PartNumber=1)
        assumed = uniform_parts(check.size, int(first["ContentLength"]))
        sizes = assumed if len(assumed) == parts else self._part_sizes(check.key, parts)
        digest = sha256_file(check.local_path, sizes)
        if digest.composite_base64() != checksum and sizes is assumed and parts > 1:
            # Parts of unequal size with the same count: ask S3 for each part's size and retry.
            actual = self._part_sizes(check.key, parts)
            if actual != assumed:
                digest = sha256_file(check.local_path, actual)
        computed = digest.composite_base64()
        return computed == checksum, f"composite {computed}; S3 checksum {checksum}"

    def _part_sizes(self, key: str, parts: int) -> list[int]:
        return [
            int(self.client.head_object(Bucket=self.bucket, Key=key, PartNumber=n)["ContentLength"])
            for n in range(1, parts + 1)
        ]

    def _remote_sha256(self, key: str) -> bytes:
        body = self.client.get_object(Bucket=self.bucket, Key=key)["Body"]
        digest = hashlib.sha256()
        try:
            for chunk in body.iter_chunks(CHUNK_SIZE):
                digest.update(chunk)
        finally:
            body.close()
        return digest.digest()

    # -- the whole tree --------------------------------------------------------------------
    def run(self, workers: int) -> Recorder:
        """Walk both sides folder by folder with ``workers`` threads, holding little in memory."""
        pending_folders: deque[str] = deque([""])
        pending_files: deque[FileCheck] = deque()
        pending_trees: deque[tuple[str, str]] = deque()
        in_flight: dict[Future[Any], str] = {}
        high_water = max(1000, workers * 64)
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="verify") as pool:
            while pending_folders or pending_files or pending_trees or in_flight:
                while len(in_flight) < workers * 2:
                    folders_running = sum(1 for kind in in_flight.values() if kind == "folder")
                    if pending_trees:
                        kind, folder = pending_trees.popleft()
                        task = self.source_only_tree if kind == "source" else self.target_only_tree
                        in_flight[pool.submit(task, folder)] = "tree"
                    elif (
                        pending_folders
                        and len(pending_files) < high_water
                        and folders_running < max(1, workers // 2)
                    ):
                        folder = pending_folders.pop()  # depth first keeps the backlog small
                        in_flight[pool.submit(self.scan_folder, folder)] = "folder"
                    elif pending_files:
                        in_flight[pool.submit(self.check_file, pending_files.popleft())] = "file"
                    else:
                        break
                done, _ = wait(in_flight, return_when=FIRST_COMPLETED)
                for future in done:
                    kind = in_flight.pop(future)
                    result = future.result()  # a failed listing is fatal: the comparison would be wrong
                    if kind == "folder":
                        checks, both, source_only, target_only = result
                        pending_files.extend(checks)
                        pending_folders.extend(reversed(both))
                        pending_trees.extend(("source", f) for f in source_only)
                        pending_trees.extend(("target", f) for f in target_only)
        return self.recorder


def _is_sha256_hex(value: str) -> bool:
    return len(value) == 64 and all(c in "0123456789abcdefABCDEF" for c in value)


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
    source: Path = args.source
    if not source.is_dir():
        raise toolkit.ToolError(f"source {source} is not a folder (is the share mounted?)")
    if args.workers < 1:
        raise toolkit.ToolError("--workers must be at least 1")
    try:
        bucket, raw_prefix = parse_s3_url(args.target)
        excludes = ExcludeFilter.from_cli(args.exclude, defaults=not args.no_default_excludes)
    except ValueError as exc:
        raise toolkit.ToolError(str(exc)) from exc
    prefix = normalise_prefix(raw_prefix)
    s3 = client or make_client(
        "s3", region=args.region, endpoint_url=args.endpoint_url, max_pool_connections=args.workers + 4
    )
    s3.head_bucket(Bucket=bucket)

    started = toolkit.utc_now()
    clock = time.monotonic()
    bar = toolkit.progress(desc="verifying", enabled=args.progress)
    verifier = Verifier(
        source=source,
        bucket=bucket,
        prefix=prefix,
        client=s3,
        excludes=excludes,
        deep=args.deep,
        recorder=Recorder(max_listed=args.max_listed),
        on_bytes=bar.update,
    )
    try:
        recorder = verifier.run(args.workers)
    finally:
        bar.close()
    elapsed = time.monotonic() - clock

    counts = recorder.counts
    failed = recorder.difference_count > 0 or (
        args.require_content_check and counts["not_content_checked"] > 0
    )
    report = {
        "source": str(source.resolve()),
        "target": f"s3://{bucket}/{prefix}",
        "started_at": toolkit.iso(started),
        "finished_at": toolkit.iso(toolkit.utc_now()),
        "duration_seconds": round(elapsed, 3),
        "workers": args.workers,
        "deep": args.deep,
        "excludes": list(excludes.patterns),
        "summary": {
            "files_compared": counts["files_compared"],
            "bytes_compared": counts["bytes_compared"],
            "verified": {method: counts[method] for method in VERIFIED_BY},
            "not_content_checked": counts["not_content_checked"],
            "differences": {kind: counts[kind] for kind in DIFFERENCE_KINDS},
            "excluded_source": counts["excluded_source"],
            "excluded_target": counts["excluded_target"],
            "skipped_special_files": counts["skipped_special_files"],
        },
        "differences": [asdict(d) for d in sorted(recorder.differences, key=lambda d: (d.kind, d.path))],
        "differences_truncated": recorder.difference_count > len(recorder.differences),
        "ok": not failed,
    }
    toolkit.write_report(args.report, report)
    print_summary(report, elapsed)
    return toolkit.EXIT_FAILED if failed else toolkit.EXIT_OK


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
