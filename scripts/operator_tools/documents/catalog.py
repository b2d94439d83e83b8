"""The engine of catalog_legacy: register every migrated object under ``legacy/`` as a document.

For each object (folder markers, excluded names and junk skipped, junk matched without case) it
inserts a ``documents`` row: ``storage_key`` = the key, ``legacy_path`` = the UNC path the file
had on the share, ``filename``, a content type guessed from the name, the size and ETag from the
listing, ``status='available'``, ``uploaded_by='legacy-import'``, the file's modification time
as the document's date (from the object's metadata, ``file-mtime`` as DataSync writes it or
``mtime``; else the object's LastModified, counted), and an audit event ``document.imported``.
The dossier of a document is chosen by the rules of a :class:`CatalogConfig` (the first matching
rule names the dossier reference and, for dossiers it creates, their unit), else it goes to the
default dossier; those documents are listed. Objects that are copies made by links on the share
(from the share inventory's CSV) are reported.

Objects are handled in batches; each batch is one transaction that skips keys already
registered, so a rerun registers nothing twice and an interrupted run continues where the last
committed batch ended. The key column compares bytes (utf8mb4_bin) but ignores trailing spaces:
a key that collides that way with another is reported as a conflict, never merged.
"""

from __future__ import annotations

import base64
import json
import mimetypes
import os
import re
import tomllib
import uuid
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from patronus.units import DEFAULT_PREFIX, UnitNameError, check_unit_name
from patronus.units import DEFAULT_UNIT as DEFAULT_UNIT
from scripts.operator_tools import toolkit
from scripts.operator_tools.documents.excludes import ExcludeFilter
from scripts.operator_tools.documents.junk import is_junk
from scripts.operator_tools.documents.paths import UncRoot
from scripts.operator_tools.documents.s3 import ObjectInfo

ACTOR = "legacy-import"
MAX_STORAGE_KEY = 760
MAX_FILENAME = 1024
MAX_LEGACY_PATH = 2048
MAX_PROBLEMS_LISTED = 10000
NOT_REGISTERED = ("key_conflict", "key_too_long", "path_too_long")

FetchHeads = Callable[[Sequence[str]], list["HeadInfo"]]


@dataclass(frozen=True)
class Rule:
    pattern: re.Pattern[str]
    create_missing: bool = False
    title: str = "Legacy dossier {reference}"
    fixed_reference: str | None = None  # ``reference = "..."``: every match goes to that dossier
    unit: str | None = None  # the unit of the dossiers this rule creates

    def reference(self, relative: str) -> str | None:
        match = self.pattern.search(relative)
        if not match:
            return None
        if self.fixed_reference is not None:
            return self.fixed_reference
        if "reference" in self.pattern.groupindex:
            value = match.group("reference")
        elif self.pattern.groups:
            value = match.group(1)
        else:
            value = None
        return value.strip() if value else None


@dataclass(frozen=True)
class DossierSpec:
    reference: str = "LEGACY-IMPORT"
    title: str = "Documents imported from the legacy share"
    owner: str = ACTOR
    description: str = "Created by scripts/catalog_legacy.py for files no rule assigned to a dossier."
    unit: str | None = None


@dataclass
class CatalogConfig:
    unc_root: str | None = None
    default_dossier: DossierSpec = field(default_factory=DossierSpec)
    rules: list[Rule] = field(default_factory=list)

    @classmethod
    def load(cls, path: Path | None) -> CatalogConfig:
        """Read the TOML file (``unc_root``, ``[default_dossier]``, ``[[rules]]``); raises
        :class:`~scripts.operator_tools.toolkit.ToolError` naming what is wrong."""
        if path is None:
            return cls()
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except OSError as exc:
            raise toolkit.ToolError(f"cannot read the config file: {exc}") from exc
        except tomllib.TOMLDecodeError as exc:
            raise toolkit.ToolError(f"{path} is not valid TOML: {exc}") from exc
        unknown = set(data) - {"unc_root", "default_dossier", "rules"}
        if unknown:
            raise toolkit.ToolError(f"{path}: unknown setting(s) {', '.join(sorted(unknown))}")
        rules = [_rule(path, number, raw) for number, raw in enumerate(data.get("rules", []), start=1)]
        return cls(data.get("unc_root"), _default_dossier(path, data.get("default_dossier", {})), rules)


def _default_dossier(path: Path, raw: Any) -> DossierSpec:
    if not isinstance(raw, dict) or set(raw) - {"reference", "title", "owner", "description", "unit"}:
        raise toolkit.ToolError(f"{path}: [default_dossier] takes reference, title, owner, description, unit")
    spec = DossierSpec(**{k: str(v) for k, v in raw.items()})
    if spec.unit is not None:
        _unit(path, "default_dossier", spec.unit)
    if not spec.reference or len(spec.reference) > 64:
        raise toolkit.ToolError(f"{path}: default_dossier.reference must be 1 to 64 characters")
    return spec


def _unit(path: Path, where: str, value: Any) -> str:
    return checked_unit(f"{path}: {where}", value)


def checked_unit(where: str, value: Any) -> str:
    """``value`` if it names a unit by the application's rule (``patronus.units``)."""
    try:
        return check_unit_name(str(value), unit_prefix())
    except UnitNameError as exc:
        raise toolkit.ToolError(f"{where}: {exc}") from exc


def unit_prefix() -> str:
    """The prefix of unit groups, as the API's settings read it (PATRONUS_UNIT_PREFIX)."""
    return os.environ.get("PATRONUS_UNIT_PREFIX", DEFAULT_PREFIX)


def _rule(path: Path, number: int, raw: Any) -> Rule:
    if not isinstance(raw, dict) or "pattern" not in raw:
        raise toolkit.ToolError(f"{path}: rule {number} needs a pattern")
    if set(raw) - {"pattern", "create_missing", "title", "reference", "unit"}:
        raise toolkit.ToolError(
            f"{path}: rule {number} takes pattern, create_missing, title, reference, unit"
        )
    try:
        pattern = re.compile(str(raw["pattern"]))
    except re.error as exc:
        raise toolkit.ToolError(
            f"{path}: rule {number} pattern is not a valid regular expression: {exc}"
        ) from exc
    fixed = str(raw["reference"]) if "reference" in raw else None
    if not pattern.groups and fixed is None:
        raise toolkit.ToolError(
            f"{path}: rule {number} needs a group holding the dossier reference, or a fixed reference"
        )
    unit = _unit(path, f"rule {number}", raw["unit"]) if "unit" in raw else None
    return Rule(
        pattern, bool(raw.get("create_missing", False)), str(raw.get("title", Rule.title)), fixed, unit
    )


@dataclass
class Candidate:
    info: ObjectInfo
    relative: str
    dossier_reference: str
    create_with_title: str | None
    sha256: str | None = None
    modified: datetime | None = None  # the file's modification time (UTC, naive)
    unit: str | None = None


def _now() -> datetime:
    """The database's DATETIME columns hold UTC without a zone."""
    return datetime.now(UTC).replace(tzinfo=None)


def collation_fold(key: str) -> str:
    """Equality as the key column sees it: utf8mb4_bin compares bytes but, like every PAD SPACE
    collation of MySQL 8.0 and MariaDB, ignores trailing spaces."""
    return key.rstrip(" ")


class Catalog:
    """Registers objects batch by batch; every batch is one transaction."""

    def __init__(
        self,
        connection: Any,
        config: CatalogConfig,
        unc_root: UncRoot,
        prefix: str,
        *,
        dry_run: bool,
        links: frozenset[str] = frozenset(),
    ):
        self.links = links  # share paths that are links (from the share inventory)
        self.unplaced: list[str] = []
        self.link_copies: list[dict[str, str]] = []
        self.connection = connection
        self.config = config
        self.unc_root = unc_root
        self.prefix = prefix
        self.dry_run = dry_run
        self.counts: Counter[str] = Counter()
        self.per_dossier: Counter[str] = Counter()
        self.problems: list[dict[str, str]] = []
        self._dossiers: dict[str, int] = {}
        self._planned: set[str] = set()
        # The unit of created dossiers that no rule gives one (None: the schema has no units).
        self.default_unit: str | None = None

    # -- dossiers --------------------------------------------------------------------------
    def _find_dossier(self, reference: str) -> int | None:
        """The id of the dossier with this reference (compared as the column's collation does)."""
        if reference not in self._dossiers:
            with self.connection.cursor() as cursor:
                cursor.execute(
                    "SELECT id FROM dossiers WHERE reference = %s ORDER BY id LIMIT 1", (reference,)
                )
                row = cursor.fetchone()
            if row is None:
                return None
            self._dossiers[reference] = int(row["id"])
        return self._dossiers[reference]

    def _exists_or_planned(self, reference: str) -> bool:
        return self._find_dossier(reference) is not None or reference in self._planned

    def _dossier_id(self, reference: str, spec: DossierSpec) -> int | None:
        """The dossier's id, creating it if needed (None in a dry run when it would be created)."""
        found = self._find_dossier(reference)
        if found is not None:
            return found
        if self.dry_run:
            if reference not in self._planned:
                self._planned.add(reference)
                self.counts["dossiers_to_create"] += 1
            return None
        dossier_id = self._in_transaction(
            lambda cursor: self._create_dossier(cursor, reference, spec, self.default_unit)
        )
        self.counts["dossiers_created"] += 1
        self._dossiers[reference] = dossier_id
        return dossier_id

    @staticmethod
    def _create_dossier(cursor: Any, reference: str, spec: DossierSpec, default_unit: str | None) -> int:
        """Insert the dossier; where the schema has units (``default_unit`` given), in the spec's
        unit or else the default one, recorded in ``units`` first."""
        now = _now()
        public_id = uuid.uuid4().hex
        columns = "public_id, reference, title, description, status, owner, version, created_at, updated_at"
        values: tuple[Any, ...] = (
            public_id, reference, spec.title[:200], spec.description, spec.owner[:128], now, now
        )  # fmt: skip
        placeholders = "%s, %s, %s, %s, 'open', %s, 1, %s, %s"
        unit = spec.unit or default_unit
        if unit is not None:
            cursor.execute("INSERT IGNORE INTO units (name, created_at) VALUES (%s, %s)", (unit, now))
            columns, placeholders, values = columns + ", unit", placeholders + ", %s", (*values, unit)
        cursor.execute(f"INSERT INTO dossiers ({columns}) VALUES ({placeholders})", values)
        dossier_id = int(cursor.lastrowid)
        details = json.dumps({"reference": reference, "source": "catalog_legacy"})
        cursor.execute(
            "INSERT INTO audit_events (occurred_at, actor, action, entity_type, entity_id, "
            "dossier_id, details) VALUES (%s, %s, 'dossier.created', 'dossier', %s, %s, %s)",
            (now, ACTOR, public_id, dossier_id, details),
        )
        return dossier_id

    def dossier_for(self, candidate: Candidate) -> int | None:
        if candidate.create_with_title is not None:
            spec = DossierSpec(
                reference=candidate.dossier_reference,
                title=candidate.create_with_title.replace("{reference}", candidate.dossier_reference),
                owner=ACTOR,
                description="Created from the folder layout of the legacy share.",
                unit=candidate.unit,
            )
        else:
            spec = self.config.default_dossier
        return self._dossier_id(candidate.dossier_reference, spec)

    # -- candidates ------------------------------------------------------------------------
    def candidate(self, info: ObjectInfo) -> Candidate:
        """The dossier an object goes to: the first rule that names a usable reference, else the
        default dossier."""
        relative = info.key[len(self.prefix) :]
        for rule in self.config.rules:
            reference = rule.reference(relative)
            if not reference:
                continue
            if len(reference) > 64:
                detail = f"dossier reference {reference!r} exceeds 64 characters"
                self.problem("reference_too_long", info.key, detail)
            elif rule.create_missing or self._exists_or_planned(reference):
                self.counts["matched_by_rule"] += 1
                title = rule.title if rule.create_missing else None
                return Candidate(info, relative, reference, title, unit=rule.unit)
            else:
                self.counts["unknown_reference"] += 1
            break
        self.counts["to_default_dossier"] += 1
        if len(self.unplaced) < MAX_PROBLEMS_LISTED:
            self.unplaced.append(info.key)
        return Candidate(info, relative, self.config.default_dossier.reference, None)

    def problem(self, kind: str, key: str, detail: str) -> None:
        self.counts[kind] += 1
        if len(self.problems) < MAX_PROBLEMS_LISTED:
            self.problems.append({"kind": kind, "key": key, "detail": detail})

    # -- one batch -------------------------------------------------------------------------
    def existing_keys(self, keys: Sequence[str]) -> set[str]:
        """Keys already registered, exactly; keys equal but for trailing spaces are a conflict."""
        if not keys:
            return set()
        with self.connection.cursor() as cursor:
            cursor.execute(
                f"SELECT storage_key FROM documents WHERE storage_key IN ({', '.join(['%s'] * len(keys))})",
                tuple(keys),
            )
            found = [row["storage_key"] for row in cursor.fetchall()]
        return set(found)

    def register(self, batch: Sequence[ObjectInfo], fetch_heads: FetchHeads | None = None) -> int:
        """Register the batch's objects not registered yet; return how many were (or would be)."""
        new = self._unregistered(batch)
        if not new:
            return 0
        candidates = [self.candidate(info) for info in new]
        heads = fetch_heads([c.info.key for c in candidates]) if fetch_heads is not None else None
        for number, candidate in enumerate(candidates):
            head = heads[number] if heads is not None else HeadInfo()
            candidate.sha256 = head.sha256
            self._date(candidate, head)
            self._link_copy(candidate)
        rows = [(candidate, self.dossier_for(candidate)) for candidate in candidates]
        if self.dry_run:
            self.counts["to_register"] += len(rows)
        else:
            self._insert_documents(rows)
            self.counts["registered"] += len(rows)
        for candidate, _ in rows:
            self.per_dossier[candidate.dossier_reference] += 1
        return len(rows)

    def _date(self, candidate: Candidate, head: HeadInfo) -> None:
        """The document's date: the file's modification time from the object's metadata, else the
        object's LastModified (when DataSync wrote it), else none (the import time is used)."""
        if head.modified is not None:
            candidate.modified = head.modified
            self.counts["date_from_file_mtime"] += 1
        elif candidate.info.last_modified is not None:
            candidate.modified = candidate.info.last_modified.astimezone(UTC).replace(tzinfo=None)
            self.counts["date_from_s3_last_modified"] += 1
        else:
            self.counts["date_unknown"] += 1

    def _link_copy(self, candidate: Candidate) -> None:
        """Report an object that a link on the share made (a duplicate copy of its target)."""
        if not self.links:
            return
        parts = candidate.relative.split("/")
        for depth in range(1, len(parts) + 1):
            link = "/".join(parts[:depth])
            if link in self.links:
                self.counts["link_copies"] += 1
                if len(self.link_copies) < MAX_PROBLEMS_LISTED:
                    self.link_copies.append({"key": candidate.info.key, "link": link})
                return

    def _unregistered(self, batch: Sequence[ObjectInfo]) -> list[ObjectInfo]:
        """The batch's objects that are neither registered nor clash with a registered key."""
        found = self.existing_keys([info.key for info in batch])
        taken = {collation_fold(key): key for key in found}
        new: list[ObjectInfo] = []
        for info in batch:
            if info.key in found:
                self.counts["already_registered"] += 1
                continue
            folded = collation_fold(info.key)
            clash = taken.get(folded)
            if clash:
                detail = f"the key column ignores trailing spaces: clashes with {clash!r}"
                self.problem("key_conflict", info.key, detail)
                continue
            taken[folded] = info.key
            new.append(info)
        return new

    def _insert_documents(self, rows: list[tuple[Candidate, int | None]]) -> None:
        now = _now()
        documents, audits = [], []
        for candidate, dossier_id in rows:
            document, audit = self._document_row(candidate, dossier_id, now)
            documents.append(document)
            audits.append(audit)

        def insert(cursor: Any) -> None:
            cursor.executemany(
                "INSERT INTO documents (public_id, dossier_id, filename, content_type, size_bytes, "
                "sha256, storage_key, status, etag, upload_id, uploaded_by, legacy_path, created_at, "
                "updated_at) "
                "VALUES (%s, %s, %s, %s, %s, %s, %s, 'available', %s, NULL, %s, %s, %s, %s)",
                documents,
            )
            cursor.executemany(
                "INSERT INTO audit_events (occurred_at, actor, action, entity_type, entity_id, "
                "dossier_id, details) VALUES (%s, %s, 'document.imported', 'document', %s, %s, %s)",
                audits,
            )

        self._in_transaction(insert)

    def _document_row(
        self, candidate: Candidate, dossier_id: int | None, now: datetime
    ) -> tuple[tuple[Any, ...], tuple[Any, ...]]:
        """The ``documents`` row of a candidate and its ``audit_events`` row."""
        public_id = uuid.uuid4().hex
        info = candidate.info
        filename = candidate.relative.rsplit("/", 1)[-1]
        legacy_path = self.unc_root.join(candidate.relative)
        content_type = mimetypes.guess_type(filename, strict=False)[0] or "application/octet-stream"
        document = (
            public_id,
            dossier_id,
            filename,
            content_type,
            info.size,
            candidate.sha256,
            info.key,
            info.etag or None,
            ACTOR,
            legacy_path,
            candidate.modified or now,
            candidate.modified or now,
        )
        details = {
            "storage_key": info.key,
            "legacy_path": legacy_path,
            "size_bytes": info.size,
            "modified_at": toolkit.iso(candidate.modified.replace(tzinfo=UTC))
            if candidate.modified
            else None,
            "source": "catalog_legacy",
        }
        audit = (now, ACTOR, public_id, dossier_id, json.dumps(details, ensure_ascii=False))
        return document, audit

    def _in_transaction(self, work: Callable[[Any], Any]) -> Any:
        self.connection.begin()
        try:
            with self.connection.cursor() as cursor:
                result = work(cursor)
            self.connection.commit()
        except Exception:
            self.connection.rollback()
            raise
        return result

    # -- the whole listing -----------------------------------------------------------------
    def eligible(self, objects: Iterable[ObjectInfo], excludes: ExcludeFilter) -> Iterator[ObjectInfo]:
        """Objects worth registering: not folder markers, not excluded, with keys the schema holds."""
        for info in objects:
            self.counts["listed"] += 1
            relative = info.key[len(self.prefix) :]
            if not relative or info.key.endswith("/"):
                self.counts["folder_markers"] += 1
            elif excludes.excludes(relative):
                self.counts["excluded"] += 1
            elif is_junk(relative):
                self.counts["junk"] += 1
            elif self._fits(info, relative):
                yield info

    def _fits(self, info: ObjectInfo, relative: str) -> bool:
        if len(info.key) > MAX_STORAGE_KEY or len(relative.rsplit("/", 1)[-1]) > MAX_FILENAME:
            self.problem("key_too_long", info.key, f"keys hold at most {MAX_STORAGE_KEY} characters")
            return False
        if len(self.unc_root.join(relative)) > MAX_LEGACY_PATH:
            self.problem("path_too_long", info.key, f"legacy_path holds at most {MAX_LEGACY_PATH} characters")
            return False
        return True

    def register_all(
        self,
        objects: Iterable[ObjectInfo],
        excludes: ExcludeFilter,
        *,
        batch_size: int,
        fetch_heads: FetchHeads | None = None,
        on_batch: Callable[[int], None] = lambda _count: None,
    ) -> None:
        """Register every eligible object, ``batch_size`` per transaction."""
        for batch in batched(self.eligible(objects, excludes), batch_size):
            self.register(batch, fetch_heads)
            on_batch(len(batch))

    def report(self, *, bucket: str, started: datetime) -> dict[str, Any]:
        """The JSON report; ``ok`` is false when some objects could not be registered."""
        counts = self.counts
        not_registered = sum(counts[k] for k in NOT_REGISTERED)
        created = counts["dossiers_to_create"] if self.dry_run else counts["dossiers_created"]
        return {
            "bucket": bucket,
            "prefix": self.prefix,
            "unc_root": self.unc_root.unc(),
            "dry_run": self.dry_run,
            "started_at": toolkit.iso(started),
            "finished_at": toolkit.iso(),
            "counts": {
                "listed": counts["listed"],
                "registered": counts["to_register"] if self.dry_run else counts["registered"],
                "already_registered": counts["already_registered"],
                "folder_markers": counts["folder_markers"],
                "excluded": counts["excluded"],
                "junk": counts["junk"],
                "date_from_file_mtime": counts["date_from_file_mtime"],
                "date_from_s3_last_modified": counts["date_from_s3_last_modified"],
                "date_unknown": counts["date_unknown"],
                "link_copies": counts["link_copies"],
                "not_registered": not_registered,
                "matched_by_rule": counts["matched_by_rule"],
                "unknown_reference": counts["unknown_reference"],
                "to_default_dossier": counts["to_default_dossier"],
                "dossiers_created": created,
            },
            "per_dossier": dict(sorted(self.per_dossier.items())),
            "unplaced": self.unplaced,
            "link_copies": self.link_copies,
            "problems": self.problems,
            "ok": not_registered == 0,
        }


def batched(items: Iterable[ObjectInfo], size: int) -> Iterator[list[ObjectInfo]]:
    batch: list[ObjectInfo] = []
    for item in items:
        batch.append(item)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


@dataclass(frozen=True)
class HeadInfo:
    """What one HEAD of an object tells the catalog."""

    sha256: str | None = None
    modified: datetime | None = None  # the file's modification time (UTC, naive)


_MTIME_KEYS = ("file-mtime", "mtime")


def parse_mtime(value: str) -> datetime | None:
    """A modification time as object metadata holds it: ``1595002920000000000ns`` (DataSync and
    Storage Gateway), seconds (``1595002920`` or ``1595002920.25``), or ISO 8601."""
    text = value.strip()
    try:
        if text.endswith("ns") and text[:-2].isdigit():
            seconds = int(text[:-2]) / 1e9
        elif re.fullmatch(r"\d+(?:\.\d+)?", text):
            seconds = float(text)
        else:
            moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
            moment = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
            return moment.astimezone(UTC).replace(tzinfo=None)
        return datetime.fromtimestamp(seconds, UTC).replace(tzinfo=None)
    except (ValueError, OverflowError, OSError):
        return None


class HeadFetcher:
    """Reads, in parallel, each new object's metadata: the file's modification time, and (with
    ``checksums``) the SHA-256 S3 holds, in hex."""

    def __init__(self, client: Any, bucket: str, workers: int, *, checksums: bool):
        self.client = client
        self.bucket = bucket
        self.checksums = checksums
        self.pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="head")

    def one(self, key: str) -> HeadInfo:
        extra = {"ChecksumMode": "ENABLED"} if self.checksums else {}
        head = self.client.head_object(Bucket=self.bucket, Key=key, **extra)
        metadata = {k.lower(): str(v) for k, v in (head.get("Metadata") or {}).items()}
        modified = next((parse_mtime(metadata[k]) for k in _MTIME_KEYS if k in metadata), None)
        return HeadInfo(self._sha256(head, metadata) if self.checksums else None, modified)

    @staticmethod
    def _sha256(head: dict[str, Any], metadata: dict[str, str]) -> str | None:
        checksum = head.get("ChecksumSHA256")
        if checksum and "-" not in checksum:  # a composite checksum is not the file's SHA-256
            return base64.b64decode(checksum).hex()
        value = metadata.get("sha256", "").lower()
        return value if re.fullmatch(r"[0-9a-f]{64}", value) else None

    def __call__(self, keys: Sequence[str]) -> list[HeadInfo]:
        return list(self.pool.map(self.one, keys))

    def close(self) -> None:
        self.pool.shutdown()
