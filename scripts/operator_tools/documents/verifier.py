"""The engine of files_verify: compare a source tree with an S3 prefix, folder by folder.

Every file of the source is matched with the object DataSync writes for it (the relative path,
``/``-separated, same characters, under the prefix) and classified:

* ``missing`` (in the source, not in S3), ``extra`` (in S3, not in the source),
  ``size_mismatch``, ``content_mismatch`` (same size, different checksum);
* ``name_normalisation``: the same name in S3 and on the share, but one in Unicode NFC and the
  other in NFD (macOS clients write NFD); ``name_encoding``: S3 holds the name percent-encoded;
* ``key_too_long``: the key would pass S3's 1,024-byte limit, so no object can exist for it;
* ``name_not_utf8``: a name that is not valid UTF-8 (shown with ``\\xNN`` escapes), which no S3
  key can carry;
* ``error``: a side could not be read.

The content is checked without downloading when S3 can vouch for it, with **every full-object
checksum the object carries** (``head_object(..., ChecksumMode="ENABLED")``: SHA-256, SHA-1,
CRC64NVME, which S3 adds to any object uploaded without a checksum, CRC32C, CRC32), and a
composite checksum of a multipart upload recomputed from its part sizes. Failing those, a
``sha256`` user metadata entry is used, unless ``deep``: then such objects are streamed and
hashed (metadata is written by whoever uploaded, S3 does not check it). An object with nothing
to compare is counted as not content-checked, and listed.

Both sides are walked one folder at a time (a delimiter listing per folder, a ``scandir`` per
folder), so memory holds one folder's entries and the order in which a server lists keys does
not matter. Folders and files are handled by a thread pool; hashing runs in parallel.

Resuming: with a :class:`Journal`, each folder whose files are all checked is written down
(its counts, differences and sub-folders); a rerun with the same journal skips those folders and
carries their results over, so an interrupted run of hours continues where it stopped.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import threading
import unicodedata
from collections import Counter, deque
from collections.abc import Callable, Iterable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import IO, Any
from urllib.parse import unquote

from botocore.exceptions import ClientError

from scripts.operator_tools import toolkit
from scripts.operator_tools.documents.excludes import ExcludeFilter
from scripts.operator_tools.documents.hashing import ALGORITHMS, CHUNK_SIZE, digest_file, uniform_parts
from scripts.operator_tools.documents.s3 import iter_objects, list_folder

DIFFERENCE_KINDS = (
    "missing",
    "extra",
    "size_mismatch",
    "content_mismatch",
    "name_normalisation",
    "name_encoding",
    "key_too_long",
    "name_not_utf8",
    "error",
)
VERIFIED_BY = (
    *(f"{a.lower()}_checksum" for a in ALGORITHMS),
    *(f"{a.lower()}_composite" for a in ALGORITHMS if a != "CRC64NVME"),
    "sha256_metadata",
    "deep",
)
MAX_KEY_BYTES = 1024
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
class Pair:
    """A folder on both sides: its path below the source, and below the prefix (they differ
    when S3 spells the folder name otherwise, NFC for NFD for instance)."""

    local: str
    remote: str

    @property
    def unit(self) -> str:
        return f"folder:{self.local}\0{self.remote}"


@dataclass(frozen=True)
class FileCheck:
    relative: str
    local_path: Path
    size: int
    key: str
    tally: Tally


@dataclass
class FolderScan:
    """What one folder leaves to do: files to check, sub-folders on both sides or on one only."""

    checks: list[FileCheck] = field(default_factory=list)
    both: list[Pair] = field(default_factory=list)
    source_only: list[str] = field(default_factory=list)
    target_only: list[str] = field(default_factory=list)


@dataclass(eq=False)  # compared and hashed by identity: each unit has its own
class Tally:
    """Counts, differences and unchecked paths of one unit of work (a folder, a one-sided tree)."""

    counts: Counter[str] = field(default_factory=Counter)
    differences: list[Difference] = field(default_factory=list)
    unchecked: list[str] = field(default_factory=list)
    special: list[str] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def add(self, name: str, amount: int = 1) -> None:
        with self._lock:
            self.counts[name] += amount

    def difference(self, item: Difference) -> None:
        with self._lock:
            self.counts[item.kind] += 1
            self.differences.append(item)

    def not_checked(self, path: str) -> None:
        with self._lock:
            self.counts["not_content_checked"] += 1
            self.unchecked.append(path)

    def skipped_special(self, path: str) -> None:
        with self._lock:
            self.counts["skipped_special_files"] += 1
            self.special.append(path)

    def as_json(self) -> dict[str, Any]:
        return {
            "counts": dict(self.counts),
            "differences": [asdict(d) for d in self.differences],
            "unchecked": self.unchecked,
            "special": self.special,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Tally:
        return cls(
            Counter(data["counts"]),
            [Difference(**d) for d in data["differences"]],
            list(data["unchecked"]),
            list(data["special"]),
        )


@dataclass
class Recorder:
    """Thread-safe totals; keeps the first ``max_listed`` differences (and unchecked and special
    paths) for the report."""

    max_listed: int = 1000
    counts: Counter[str] = field(default_factory=Counter)
    differences: list[Difference] = field(default_factory=list)
    unchecked: list[str] = field(default_factory=list)
    special: list[str] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def add(self, name: str, amount: int = 1) -> None:
        with self._lock:
            self.counts[name] += amount

    def merge(self, tally: Tally) -> None:
        with self._lock:
            self.counts.update(tally.counts)
            self.differences.extend(tally.differences[: self._room(self.differences)])
            self.unchecked.extend(tally.unchecked[: self._room(self.unchecked)])
            self.special.extend(tally.special[: self._room(self.special)])

    def _room(self, listed: list[Any]) -> int:
        return max(0, self.max_listed - len(listed))

    @property
    def difference_count(self) -> int:
        return sum(self.counts[kind] for kind in DIFFERENCE_KINDS)


class Journal:
    """The progress of one comparison, one JSON line per finished unit (append-only, flushed).

    The first line names the comparison (source, target, excludes, deep); a journal written for
    another comparison is refused. :meth:`finish` removes the file once the run is complete,
    so that a later run never reports an old result without checking.
    """

    def __init__(self, path: Path, identity: dict[str, Any]) -> None:
        self.path = path
        self.done: dict[str, dict[str, Any]] = {}
        self._lock = threading.Lock()
        lines = path.read_text(encoding="utf-8").splitlines() if path.exists() else []
        if lines:
            header = json.loads(lines[0])
            if header != {"journal": identity}:
                raise toolkit.ToolError(
                    f"the journal {path} belongs to another comparison ({header.get('journal')}): "
                    "give another --journal file, or delete this one to start over"
                )
            for line in lines[1:]:
                try:
                    entry = json.loads(line)
                except json.JSONDecodeError:
                    break  # a line cut by the interruption: that unit is done again
                self.done[entry["unit"]] = entry
        try:
            self._handle: IO[str] = path.open("a", encoding="utf-8")
        except OSError as exc:
            raise toolkit.ToolError(f"cannot write the journal {path}: {exc.strerror}") from exc
        if not lines:
            self._write({"journal": identity})

    @property
    def resumed(self) -> int:
        return len(self.done)

    def record(self, unit: str, tally: Tally, children: dict[str, Any] | None = None) -> None:
        self._write({"unit": unit, **tally.as_json(), "children": children or {}})

    def _write(self, entry: dict[str, Any]) -> None:
        with self._lock:
            self._handle.write(json.dumps(entry, ensure_ascii=False) + "\n")
            self._handle.flush()
            os.fsync(self._handle.fileno())

    def close(self) -> None:
        self._handle.close()

    def finish(self) -> None:
        self.close()
        self.path.unlink(missing_ok=True)


def join(folder: str, name: str) -> str:
    return f"{folder}/{name}" if folder else name


def is_sha256_hex(value: str) -> bool:
    return len(value) == 64 and all(c in _HEX for c in value)


def shown_name(relative: str) -> str:
    """A path for people: bytes that are not UTF-8 as ``\\xNN`` escapes, never as ``?``."""
    return os.fsencode(relative).decode("utf-8", "backslashreplace")


def _hex(value: str) -> str:
    """An S3 checksum (base64, maybe ``-N`` for a composite) in hex."""
    digest, _, parts = value.partition("-")
    text = base64.b64decode(digest).hex()
    return f"{text}-{parts}" if parts else text


def pair_names(local: Iterable[str], remote: Iterable[str]) -> list[tuple[str, str, str]]:
    """Names on one side only that are the same name spelled otherwise on the other:
    ``(local, remote, kind)`` with kind ``name_normalisation`` (NFC / NFD) or ``name_encoding``
    (percent-encoded in S3)."""
    unpaired = {unicodedata.normalize("NFC", name): name for name in remote}
    decoded = {unquote(name): name for name in remote if "%" in name}
    pairs = []
    for name in local:
        nfc = unicodedata.normalize("NFC", name)
        if nfc in unpaired and unpaired[nfc] != name:
            pairs.append((name, unpaired.pop(nfc), "name_normalisation"))
        elif name in decoded:
            pairs.append((name, decoded.pop(name), "name_encoding"))
    return pairs


def _form(name: str) -> str:
    return "NFC" if unicodedata.is_normalized("NFC", name) else "NFD"


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
    journal: Journal | None = None

    def key(self, relative: str) -> str:
        return self.prefix + relative

    def _mappable(self, relative: str, size: int | None, tally: Tally) -> bool:
        """False (after recording why) when no S3 key can exist for this path."""
        try:
            key = self.key(relative).encode("utf-8")
        except UnicodeEncodeError:
            detail = "the name is not valid UTF-8: no S3 key can carry it (rename it on the share)"
            tally.difference(Difference("name_not_utf8", shown_name(relative), "", size, None, detail))
            return False
        if len(key) > MAX_KEY_BYTES:
            detail = f"the key would be {len(key)} bytes, over S3's {MAX_KEY_BYTES}: DataSync cannot copy it"
            tally.difference(Difference("key_too_long", relative, "", size, None, detail))
            return False
        return True

    # -- one folder ------------------------------------------------------------------------
    def scan_folder(self, pair: Pair, tally: Tally) -> FolderScan:
        """Compare one folder's files; say which sub-folders are on both sides or on one only."""
        directory = self.source / pair.local if pair.local else self.source
        local = self._local_entries(pair.local, directory, tally)
        if local is None:
            return FolderScan()  # without the source side nothing here can be compared
        local_files, local_dirs = local
        remote_files, remote_dirs = self._remote_entries(pair.remote, tally)
        scan = FolderScan()
        renamed = {
            loc: rem
            for loc, rem, _kind in self._spelled_otherwise(
                pair, set(local_files) - set(remote_files), set(remote_files) - set(local_files), tally
            )
        }
        scan.checks = self._pair_files(
            pair, directory, local_files, remote_files, remote_dirs, tally, renamed
        )
        self._record_extras(pair, local_files, remote_files, local_dirs, tally, set(renamed.values()))
        dir_pairs = {
            loc: rem
            for loc, rem, _kind in self._spelled_otherwise(
                pair, local_dirs - remote_dirs, remote_dirs - local_dirs, tally, folders=True
            )
        }
        scan.both = [
            Pair(join(pair.local, n), join(pair.remote, n)) for n in sorted(local_dirs & remote_dirs)
        ]
        scan.both += [Pair(join(pair.local, n), join(pair.remote, r)) for n, r in sorted(dir_pairs.items())]
        scan.source_only = [join(pair.local, n) for n in sorted(local_dirs - remote_dirs - set(dir_pairs))]
        scan.target_only = [
            join(pair.remote, n) for n in sorted(remote_dirs - local_dirs - set(dir_pairs.values()))
        ]
        return scan

    def _spelled_otherwise(
        self, pair: Pair, local: set[str], remote: set[str], tally: Tally, *, folders: bool = False
    ) -> list[tuple[str, str, str]]:
        """Record each name S3 spells otherwise (NFC/NFD, percent-encoded) as one finding."""
        found = pair_names(sorted(local), sorted(remote))
        for name, other, kind in found:
            what = "folder" if folders else "file"
            if kind == "name_normalisation":
                detail = (
                    f"the same {what} name in Unicode {_form(name)} on the share and {_form(other)} "
                    f"in S3: {other!r}"
                )
            else:
                detail = f"S3 holds the {what} name percent-encoded: {other!r}"
            tally.difference(
                Difference(kind, join(pair.local, name), self.key(join(pair.remote, other)), detail=detail)
            )
        return found

    def _local_entries(
        self, folder: str, directory: Path, tally: Tally
    ) -> tuple[dict[str, int], set[str]] | None:
        """The folder's files (name -> size) and sub-folders; None when it cannot be listed."""
        try:
            entries = list(os.scandir(directory))
        except OSError as exc:
            detail = f"cannot list the source folder: {exc}"
            tally.difference(Difference("error", folder, self.key(folder) + "/", detail=detail))
            return None
        files: dict[str, int] = {}
        dirs: set[str] = set()
        for entry in entries:
            relative = join(folder, entry.name)
            if self.excludes.matches(relative):
                tally.add("excluded_source")
            elif entry.is_dir(follow_symlinks=False):
                if self._mappable(relative, None, tally):
                    dirs.add(entry.name)
            elif not entry.is_file(follow_symlinks=True):
                tally.skipped_special(shown_name(relative))
            elif self._mappable(relative, entry.stat(follow_symlinks=True).st_size, tally):
                files[entry.name] = entry.stat(follow_symlinks=True).st_size
        return files, dirs

    def _remote_entries(self, folder: str, tally: Tally) -> tuple[dict[str, int], set[str]]:
        """The objects directly under the folder's prefix (name -> size) and its sub-prefixes."""
        listing = list_folder(self.client, self.bucket, self.key(folder) + "/" if folder else self.prefix)
        files: dict[str, int] = {}
        for name, info in listing.objects.items():
            if self.excludes.matches(join(folder, name)):
                tally.add("excluded_target")
            else:
                files[name] = info.size
        dirs = {name for name in listing.folders if not self.excludes.matches(join(folder, name))}
        return files, dirs

    def _pair_files(
        self,
        pair: Pair,
        directory: Path,
        local_files: dict[str, int],
        remote_files: dict[str, int],
        remote_dirs: set[str],
        tally: Tally,
        renamed: dict[str, str],
    ) -> list[FileCheck]:
        """Files of the same size on both sides are to be checked; the others are differences."""
        checks: list[FileCheck] = []
        for name, size in local_files.items():
            if name in renamed:
                continue  # recorded as spelled otherwise
            relative = join(pair.local, name)
            key = self.key(join(pair.remote, name))
            remote_size = remote_files.get(name)
            if remote_size is None:
                detail = "S3 holds a folder of that name" if name in remote_dirs else ""
                tally.difference(Difference("missing", relative, key, size, None, detail))
            elif remote_size != size:
                tally.difference(Difference("size_mismatch", relative, key, size, remote_size))
            else:
                checks.append(FileCheck(relative, directory / name, size, key, tally))
        return checks

    def _record_extras(
        self,
        pair: Pair,
        local_files: dict[str, int],
        remote_files: dict[str, int],
        local_dirs: set[str],
        tally: Tally,
        renamed: set[str],
    ) -> None:
        for name, size in remote_files.items():
            if name in local_files or name in renamed:
                continue
            relative = join(pair.remote, name)
            detail = "the source holds a folder of that name" if name in local_dirs else ""
            tally.difference(Difference("extra", relative, self.key(relative), None, size, detail))

    # -- a folder on one side only ---------------------------------------------------------
    def source_only_tree(self, folder: str, tally: Tally) -> None:
        """A folder S3 does not have at all: every file below it is missing."""

        def unreadable(exc: OSError) -> None:
            where = Path(exc.filename).relative_to(self.source).as_posix() if exc.filename else folder
            tally.difference(Difference("error", where, "", detail=f"cannot list the source folder: {exc}"))

        for dirpath, dirnames, filenames in os.walk(self.source / folder, onerror=unreadable):
            base = Path(dirpath).relative_to(self.source).as_posix()
            dirnames[:] = [d for d in dirnames if not self.excludes.matches(join(base, d))]
            for name in filenames:
                self._missing_file(Path(dirpath) / name, join(base, name), tally)

    def _missing_file(self, path: Path, relative: str, tally: Tally) -> None:
        if self.excludes.matches(relative):
            tally.add("excluded_source")
            return
        try:
            size: int | None = path.stat().st_size
        except OSError:
            size = None
        if self._mappable(relative, size, tally):
            tally.difference(Difference("missing", relative, self.key(relative), size))

    def target_only_tree(self, folder: str, tally: Tally) -> None:
        """A prefix the source does not have at all: every object below it is extra."""
        for info in iter_objects(self.client, self.bucket, self.key(folder) + "/"):
            if info.key.endswith("/"):
                continue  # a folder marker
            relative = info.key[len(self.prefix) :]
            if self.excludes.excludes(relative):
                tally.add("excluded_target")
            else:
                tally.difference(Difference("extra", relative, info.key, None, info.size))

    # -- one file --------------------------------------------------------------------------
    def check_file(self, check: FileCheck) -> None:
        tally = check.tally
        try:
            self._check_file(check)
        except OSError as exc:
            detail = f"cannot read the source file: {exc}"
            tally.difference(Difference("error", check.relative, check.key, check.size, None, detail))
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "")
            kind = "missing" if code in {"404", "NoSuchKey", "NotFound"} else "error"
            tally.difference(Difference(kind, check.relative, check.key, check.size, None, f"S3: {code}"))
        finally:
            tally.add("files_compared")
            tally.add("bytes_compared", check.size)
            self.on_bytes(check.size)

    def _check_file(self, check: FileCheck) -> None:
        head = self.client.head_object(Bucket=self.bucket, Key=check.key, ChecksumMode="ENABLED")
        remote_size = int(head["ContentLength"])
        if remote_size != check.size:
            check.tally.difference(
                Difference("size_mismatch", check.relative, check.key, check.size, remote_size)
            )
            return
        outcome = self._compare_content(check, head)
        if outcome is None:
            check.tally.not_checked(check.relative)
            return
        method, matched, detail = outcome
        if matched:
            check.tally.add(method)
        else:
            check.tally.difference(
                Difference("content_mismatch", check.relative, check.key, check.size, remote_size, detail)
            )

    def _compare_content(self, check: FileCheck, head: dict[str, Any]) -> tuple[str, bool, str] | None:
        """(method, matched, detail) by the best means S3 offers; None when none is allowed."""
        checksums = {a: str(head[f"Checksum{a}"]) for a in ALGORITHMS if head.get(f"Checksum{a}")}
        if checksums:
            return self._compare_checksums(check, checksums)
        metadata = {k.lower(): v for k, v in (head.get("Metadata") or {}).items()}
        if self.deep:
            digest = digest_file(check.local_path, ["SHA256"]).whole["SHA256"]
            remote = self._remote_sha256(check.key)
            return "deep", digest == remote, f"SHA-256: share {digest.hex()}, S3 bytes {remote.hex()}"
        if is_sha256_hex(metadata.get("sha256", "")):
            digest = digest_file(check.local_path, ["SHA256"]).whole["SHA256"]
            expected = metadata["sha256"].lower()
            return (
                "sha256_metadata",
                digest.hex() == expected,
                f"SHA-256: share {digest.hex()}, S3 sha256 metadata {expected}",
            )
        return None

    def _compare_checksums(self, check: FileCheck, checksums: dict[str, str]) -> tuple[str, bool, str]:
        """Every checksum S3 holds for the object, computed in one read of the file."""
        composite = {a: v for a, v in checksums.items() if "-" in v}
        sizes = None
        if composite:
            parts = int(next(iter(composite.values())).rsplit("-", 1)[1])
            sizes = self._part_sizes_for(check, parts)
        digests = digest_file(check.local_path, list(checksums), sizes)
        mismatches = []
        for algorithm, value in checksums.items():
            if algorithm in composite:
                computed = digests.composite(algorithm)
                if computed != value and sizes is not None and len(sizes) > 1:
                    # parts of unequal size with the same count: ask S3 for each part's size
                    actual = self._part_sizes(check.key, len(sizes))
                    if actual != sizes:
                        digests = digest_file(check.local_path, list(checksums), actual)
                        computed = digests.composite(algorithm)
            else:
                computed = base64.b64encode(digests.whole[algorithm]).decode()
            if computed != value:
                label = f"{algorithm} composite" if algorithm in composite else algorithm
                mismatches.append(f"{label}: share {_hex(computed)}, S3 {_hex(value)}")
        strongest = next(a for a in ALGORITHMS if a in checksums)
        method = f"{strongest.lower()}_{'composite' if strongest in composite else 'checksum'}"
        return method, not mismatches, "; ".join(mismatches)

    def _part_sizes_for(self, check: FileCheck, parts: int) -> list[int]:
        first = self.client.head_object(Bucket=self.bucket, Key=check.key, PartNumber=1)
        assumed = uniform_parts(check.size, int(first["ContentLength"]))
        return assumed if len(assumed) == parts else self._part_sizes(check.key, parts)

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


@dataclass
class _Unit:
    """A folder being compared: its tally, and how many of its files are still being checked."""

    pair: Pair
    tally: Tally
    scan: FolderScan | None = None
    pending: int = 0


class _Walk:
    """The work queues of :meth:`Verifier.run` and what is running.

    One-sided trees go first, then folders (depth first, while the file backlog is small and
    at most half the threads list folders), then files: the backlog of files stays bounded. A
    folder is finished (merged into the totals and written to the journal) once it was listed
    and its last file checked.
    """

    def __init__(self, verifier: Verifier, pool: ThreadPoolExecutor, workers: int) -> None:
        self.verifier = verifier
        self.journal = verifier.journal
        self.pool = pool
        self.workers = workers
        self.folders: deque[Pair] = deque([Pair("", "")])
        self.files: deque[FileCheck] = deque()
        self.trees: deque[tuple[str, str]] = deque()
        self.running: dict[Future[Any], tuple[str, Any]] = {}
        self.units: dict[Tally, _Unit] = {}
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
            if self._restored(f"{side}:{folder}"):
                return True
            verifier, tally = self.verifier, Tally()
            task = verifier.source_only_tree if side == "source" else verifier.target_only_tree
            self.running[self.pool.submit(task, folder, tally)] = ("tree", (f"{side}:{folder}", tally))
        elif self.folders and self._room_for_a_folder():
            pair = self.folders.pop()  # depth first keeps the backlog small
            if self._restored(pair.unit):
                return True
            unit = _Unit(pair, Tally())
            self.units[unit.tally] = unit
            self.running[self.pool.submit(self.verifier.scan_folder, pair, unit.tally)] = ("folder", unit)
        elif self.files:
            check = self.files.popleft()
            self.running[self.pool.submit(self.verifier.check_file, check)] = ("file", check)
        else:
            return False
        return True

    def _restored(self, unit: str) -> bool:
        """A unit the journal holds as finished: its results are carried over, not redone."""
        entry = self.journal.done.get(unit) if self.journal is not None else None
        if entry is None:
            return False
        self.verifier.recorder.merge(Tally.from_json(entry))
        children = entry.get("children") or {}
        self.folders.extend(Pair(local, remote) for local, remote in reversed(children.get("both", [])))
        self.trees.extend(("source", f) for f in children.get("source_only", []))
        self.trees.extend(("target", f) for f in children.get("target_only", []))
        return True

    def _room_for_a_folder(self) -> bool:
        listing = sum(1 for kind, _ in self.running.values() if kind == "folder")
        return len(self.files) < self.high_water and listing < max(1, self.workers // 2)

    def collect(self) -> None:
        done, _ = wait(self.running, return_when=FIRST_COMPLETED)
        for future in done:
            kind, item = self.running.pop(future)
            result = future.result()  # a failed listing is fatal: the comparison would be wrong
            if kind == "folder":
                item.scan = result
                item.pending = len(result.checks)
                self._queue(result)
                self._maybe_finished(item)
            elif kind == "file":
                unit = self.units[item.tally]
                unit.pending -= 1
                self._maybe_finished(unit)
            else:
                name, tally = item
                self._finish(name, tally)

    def _maybe_finished(self, unit: _Unit) -> None:
        if unit.scan is None or unit.pending:
            return
        del self.units[unit.tally]
        scan = unit.scan
        children = {
            "both": [[p.local, p.remote] for p in scan.both],
            "source_only": scan.source_only,
            "target_only": scan.target_only,
        }
        self._finish(unit.pair.unit, unit.tally, children)

    def _finish(self, name: str, tally: Tally, children: dict[str, Any] | None = None) -> None:
        self.verifier.recorder.merge(tally)
        if self.journal is not None:
            self.journal.record(name, tally, children)

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
        "require_content_check": require_content_check,
        "excludes": list(verifier.excludes.patterns),
        "resumed_units": verifier.journal.resumed if verifier.journal is not None else 0,
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
        "not_content_checked": sorted(recorder.unchecked),
        "skipped_special_files": sorted(recorder.special),
        "ok": not failed,
    }
