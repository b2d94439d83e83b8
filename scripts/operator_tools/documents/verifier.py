"""The engine of files_verify: compare a source tree with an S3 prefix, folder by folder.

Every file of the source is matched with the object DataSync writes for it (the relative path,
``/``-separated, same characters, under the prefix) and classified: ``missing`` (in the source,
not in S3), ``extra`` (in S3, not in the source), ``size_mismatch``, ``content_mismatch`` (same
size, different SHA-256), or ``error`` (a side could not be read).

The content is checked without downloading when S3 can vouch for it: the object's SHA-256
checksum (``head_object(..., ChecksumMode="ENABLED")``; a multipart object carries a composite
checksum, recomputed locally from its part sizes), else a ``sha256`` user metadata entry; with
``deep`` an object with neither is streamed and hashed, otherwise it is counted as not
content-checked.

Both sides are walked one folder at a time (a delimiter listing per folder, a ``scandir`` per
folder), so memory holds one folder's entries and the order in which a server lists keys does
not matter. Folders and files are handled by a thread pool; hashing runs in parallel (hashlib
releases the GIL).
"""

from __future__ import annotations

import hashlib
import os
import threading
from collections import Counter, deque
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from botocore.exceptions import ClientError

from scripts.operator_tools import toolkit
from scripts.operator_tools.documents.excludes import ExcludeFilter
from scripts.operator_tools.documents.hashing import CHUNK_SIZE, sha256_file, uniform_parts
from scripts.operator_tools.documents.s3 import iter_objects, list_folder

DIFFERENCE_KINDS = ("missing", "extra", "size_mismatch", "content_mismatch", "error")
VERIFIED_BY = ("sha256_checksum", "sha256_composite", "sha256_metadata", "deep")
_HEX = frozenset("0123456789abcdefABCDEF")


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
class FolderScan:
    """What one folder leaves to do: files to check, sub-folders on both sides or on one only."""

    checks: list[FileCheck] = field(default_factory=list)
    both: list[str] = field(default_factory=list)
    source_only: list[str] = field(default_factory=list)
    target_only: list[str] = field(default_factory=list)


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


def join(folder: str, name: str) -> str:
    return f"{folder}/{name}" if folder else name


def is_sha256_hex(value: str) -> bool:
    return len(value) == 64 and all(c in _HEX for c in value)


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

    def key(self, relative: str) -> str:
        return self.prefix + relative

    def _mappable(self, relative: str) -> bool:
        try:
            relative.encode("utf-8")
        except UnicodeEncodeError:
            shown = relative.encode("utf-8", "replace").decode()
            self.recorder.difference(
                Difference("missing", shown, "", detail="name is not valid UTF-8; S3 keys must be")
            )
            return False
        return True

    # -- one folder ------------------------------------------------------------------------
    def scan_folder(self, folder: str) -> FolderScan:
        """Compare one folder's files; say which sub-folders are on both sides or on one only."""
        directory = self.source / folder if folder else self.source
        local = self._local_entries(folder, directory)
        if local is None:
            return FolderScan()  # without the source side nothing here can be compared
        local_files, local_dirs = local
        remote_files, remote_dirs = self._remote_entries(folder)
        scan = FolderScan(checks=self._pair_files(folder, directory, local_files, remote_files, remote_dirs))
        self._record_extras(folder, local_files, remote_files, local_dirs)
        scan.both = [join(folder, n) for n in sorted(local_dirs & remote_dirs)]
        scan.source_only = [join(folder, n) for n in sorted(local_dirs - remote_dirs)]
        scan.target_only = [join(folder, n) for n in sorted(remote_dirs - local_dirs)]
        return scan

    def _local_entries(self, folder: str, directory: Path) -> tuple[dict[str, int], set[str]] | None:
        """The folder's files (name -> size) and sub-folders; None when it cannot be listed."""
        try:
            entries = list(os.scandir(directory))
        except OSError as exc:
            detail = f"cannot list the source folder: {exc}"
            self.recorder.difference(Difference("error", folder, self.key(folder) + "/", detail=detail))
            return None
        files: dict[str, int] = {}
        dirs: set[str] = set()
        for entry in entries:
            relative = join(folder, entry.name)
            if self.excludes.matches(relative):
                self.recorder.add("excluded_source")
            elif entry.is_dir(follow_symlinks=False):
                dirs.add(entry.name)
            elif not entry.is_file(follow_symlinks=True):
                self.recorder.add("skipped_special_files")
            elif self._mappable(relative):
                files[entry.name] = entry.stat(follow_symlinks=True).st_size
        return files, dirs

    def _remote_entries(self, folder: str) -> tuple[dict[str, int], set[str]]:
        """The objects directly under the folder's prefix (name -> size) and its sub-prefixes."""
        listing = list_folder(self.client, self.bucket, self.key(folder) + "/" if folder else self.prefix)
        files: dict[str, int] = {}
        for name, info in listing.objects.items():
            if self.excludes.matches(join(folder, name)):
                self.recorder.add("excluded_target")
            else:
                files[name] = info.size
        dirs = {name for name in listing.folders if not self.excludes.matches(join(folder, name))}
        return files, dirs

    def _pair_files(
        self,
        folder: str,
        directory: Path,
        local_files: dict[str, int],
        remote_files: dict[str, int],
        remote_dirs: set[str],
    ) -> list[FileCheck]:
        """Files of the same size on both sides are to be checked; the others are differences."""
        checks: list[FileCheck] = []
        for name, size in local_files.items():
            relative = join(folder, name)
            key = self.key(relative)
            remote_size = remote_files.get(name)
            if remote_size is None:
                detail = "S3 holds a folder of that name" if name in remote_dirs else ""
                self.recorder.difference(Difference("missing", relative, key, size, None, detail))
            elif remote_size != size:
                self.recorder.difference(Difference("size_mismatch", relative, key, size, remote_size))
            else:
                checks.append(FileCheck(relative, directory / name, size, key))
        return checks

    def _record_extras(
        self, folder: str, local_files: dict[str, int], remote_files: dict[str, int], local_dirs: set[str]
    ) -> None:
        for name, size in remote_files.items():
            if name in local_files:
                continue
            relative = join(folder, name)
            detail = "the source holds a folder of that name" if name in local_dirs else ""
            self.recorder.difference(Difference("extra", relative, self.key(relative), None, size, detail))

    # -- a folder on one side only ---------------------------------------------------------
    def source_only_tree(self, folder: str) -> None:
        """A folder S3 does not have at all: every file below it is missing."""

        def unreadable(exc: OSError) -> None:
            where = Path(exc.filename).relative_to(self.source).as_posix() if exc.filename else folder
            self.recorder.difference(
                Difference("error", where, "", detail=f"cannot list the source folder: {exc}")
            )

        for dirpath, dirnames, filenames in os.walk(self.source / folder, onerror=unreadable):
            base = Path(dirpath).relative_to(self.source).as_posix()
            dirnames[:] = [d for d in dirnames if not self.excludes.matches(join(base, d))]
            for name in filenames:
                self._missing_file(Path(dirpath) / name, join(base, name))

    def _missing_file(self, path: Path, relative: str) -> None:
        if self.excludes.matches(relative):
            self.recorder.add("excluded_source")
            return
        if not self._mappable(relative):
            return
        try:
            size: int | None = path.stat().st_size
        except OSError:
            size = None
        self.recorder.difference(Difference("missing", relative, self.key(relative), size))

    def target_only_tree(self, folder: str) -> None:
        """A prefix the source does not have at all: every object below it is extra."""
        for info in iter_objects(self.client, self.bucket, self.key(folder) + "/"):
            if info.key.endswith("/"):
                continue  # a folder marker
            relative = info.key[len(self.prefix) :]
            if self.excludes.excludes(relative):
                self.recorder.add("excluded_target")
            else:
                self.recorder.difference(Difference("extra", relative, info.key, None, info.size))

    # -- one file --------------------------------------------------------------------------
    def check_file(self, check: FileCheck) -> None:
        try:
            self._check_file(check)
        except OSError as exc:
            detail = f"cannot read the source file: {exc}"
            self.recorder.difference(Difference("error", check.relative, check.key, check.size, None, detail))
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
        outcome = self._compare_content(check, head)
        if outcome is None:
            self.recorder.add("not_content_checked")
            return
        method, matched, detail = outcome
        if matched:
            self.recorder.add(method)
        else:
            self.recorder.difference(
                Difference("content_mismatch", check.relative, check.key, check.size, remote_size, detail)
            )

    def _compare_content(self, check: FileCheck, head: dict[str, Any]) -> tuple[str, bool, str] | None:
        """(method, matched, detail) by the best means S3 offers; None when none is allowed."""
        checksum = head.get("ChecksumSHA256")
        metadata = {k.lower(): v for k, v in (head.get("Metadata") or {}).items()}
        if checksum and "-" in checksum:
            return ("sha256_composite", *self._check_composite(check, checksum))
        if checksum:
            digest = sha256_file(check.local_path)
            return (
                "sha256_checksum",
                digest.base64 == checksum,
                f"sha256 {digest.hex}; S3 checksum {checksum}",
            )
        if is_sha256_hex(metadata.get("sha256", "")):
            digest = sha256_file(check.local_path)
            expected = metadata["sha256"].lower()
            return "sha256_metadata", digest.hex == expected, f"sha256 {digest.hex}; S3 metadata {expected}"
        if self.deep:
            digest = sha256_file(check.local_path)
            remote = self._remote_sha256(check.key)
            return "deep", digest.sha256 == remote, f"sha256 {digest.hex}; S3 bytes {remote.hex()}"
        return None

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
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="verify") as pool:
            walk = _Walk(self, pool, workers)
            while walk.busy:
                walk.submit_ready()
                walk.collect()
        return self.recorder


class _Walk:
    """The work queues of :meth:`Verifier.run` and what is running.

    One-sided trees go first, then folders (depth first, while the file backlog is small and
    at most half the threads list folders), then files: the backlog of files stays bounded.
    """

    def __init__(self, verifier: Verifier, pool: ThreadPoolExecutor, workers: int) -> None:
        self.verifier = verifier
        self.pool = pool
        self.workers = workers
        self.folders: deque[str] = deque([""])
        self.files: deque[FileCheck] = deque()
        self.trees: deque[tuple[str, str]] = deque()
        self.running: dict[Future[Any], str] = {}
        self.high_water = max(1000, workers * 64)

    @property
    def busy(self) -> bool:
        return bool(self.folders or self.files or self.trees or self.running)

    def submit_ready(self) -> None:
        while len(self.running) < self.workers * 2 and self._submit_one():
            pass

    def _submit_one(self) -> bool:
        if self.trees:
            side, folder = self.trees.popleft()
            verifier = self.verifier
            task = verifier.source_only_tree if side == "source" else verifier.target_only_tree
            self.running[self.pool.submit(task, folder)] = "tree"
        elif self.folders and self._room_for_a_folder():
            # depth first keeps the backlog small
            self.running[self.pool.submit(self.verifier.scan_folder, self.folders.pop())] = "folder"
        elif self.files:
            self.running[self.pool.submit(self.verifier.check_file, self.files.popleft())] = "file"
        else:
            return False
        return True

    def _room_for_a_folder(self) -> bool:
        listing = sum(1 for kind in self.running.values() if kind == "folder")
        return len(self.files) < self.high_water and listing < max(1, self.workers // 2)

    def collect(self) -> None:
        done, _ = wait(self.running, return_when=FIRST_COMPLETED)
        for future in done:
            kind = self.running.pop(future)
            result = future.result()  # a failed listing is fatal: the comparison would be wrong
            if kind == "folder":
                self._queue(result)

    def _queue(self, scan: FolderScan) -> None:
        self.files.extend(scan.checks)
        self.folders.extend(reversed(scan.both))
        self.trees.extend(("source", f) for f in scan.source_only)
        self.trees.extend(("target", f) for f in scan.target_only)


def verification_report(
    verifier: Verifier,
    *,
    workers: int,
    started: datetime,
    seconds: float,
    require_content_check: bool,
) -> dict[str, Any]:
    """The JSON report of a finished run; ``ok`` is false on any difference (and, when
    ``require_content_check``, on any object whose content could not be checked)."""
    recorder = verifier.recorder
    counts = recorder.counts
    failed = recorder.difference_count > 0 or (require_content_check and counts["not_content_checked"] > 0)
    return {
        "source": str(verifier.source.resolve()),
        "target": f"s3://{verifier.bucket}/{verifier.prefix}",
        "started_at": toolkit.iso(started),
        "finished_at": toolkit.iso(),
        "duration_seconds": round(seconds, 3),
        "workers": workers,
        "deep": verifier.deep,
        "excludes": list(verifier.excludes.patterns),
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
