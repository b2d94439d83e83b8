"""The engine of catalog_legacy: register every migrated object under ``legacy/`` as a document.

For each object (folder markers and excluded names skipped) it inserts a ``documents`` row:
``storage_key`` = the key, ``legacy_path`` = the UNC path the file had on the share,
``filename``, a content type guessed from the name, the size and ETag from the listing,
``status='available'``, ``uploaded_by='legacy-import'``, and an audit event
``document.imported``. The dossier of a document is chosen by the rules of a
:class:`CatalogConfig` (the first matching rule names the dossier reference), else it goes to
the default dossier.

Objects are handled in batches; each batch is one transaction that skips keys already
registered, so a rerun registers nothing twice and an interrupted run continues where the last
committed batch ended. The key column compares bytes (utf8mb4_bin) but ignores trailing spaces:
a key that collides that way with another is reported as a conflict, never merged.
"""

from __future__ import annotations

import base64
import json
import mimetypes
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

from scripts.operator_tools import toolkit
from scripts.operator_tools.documents.excludes import ExcludeFilter
from scripts.operator_tools.documents.paths import UncRoot
from scripts.operator_tools.documents.s3 import ObjectInfo

ACTOR = "legacy-import"
MAX_STORAGE_KEY = 760
MAX_FILENAME = 1024
MAX_LEGACY_PATH = 2048
MAX_PROBLEMS_LISTED = 10000
NOT_REGISTERED = ("key_conflict", "key_too_long", "path_too_long")

FetchSha256 = Callable[[Sequence[str]], list[str | None]]


@dataclass(frozen=True)
class Rule:
    pattern: re.Pattern[str]
    create_missing: bool = False
    title: str = "Legacy dossier {reference}"

    def reference(self, relative: str) -> str | None:
        match = self.pattern.search(relative)
        if not match:
            return None
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
    if not isinstance(raw, dict) or set(raw) - {"reference", "title", "owner", "description"}:
        raise toolkit.ToolError(f"{path}: [default_dossier] takes reference, title, owner, description")
    spec = DossierSpec(**{k: str(v) for k, v in raw.items()})
    if not spec.reference or len(spec.reference) > 64:
        raise toolkit.ToolError(f"{path}: default_dossier.reference must be 1 to 64 characters")
    return spec


def _rule(path: Path, number: int, raw: Any) -> Rule:
    if not isinstance(raw, dict) or "pattern" not in raw:
        raise toolkit.ToolError(f"{path}: rule {number} needs a pattern")
    if set(raw) - {"pattern", "create_missing", "title"}:
        raise toolkit.ToolError(f"{path}: rule {number} takes pattern, create_missing, title")
    try:
        pattern = re.compile(str(raw["pattern"]))
    except re.error as exc:
        raise toolkit.ToolError(
            f"{path}: rule {number} pattern is not a valid regular expression: {exc}"
        ) from exc
    if not pattern.groups:
        raise toolkit.ToolError(f"{path}: rule {number} pattern needs a group holding the dossier reference")
    return Rule(pattern, bool(raw.get("create_missing", False)), str(raw.get("title", Rule.title)))


@dataclass
class Candidate:
    info: ObjectInfo
    relative: str
    dossier_reference: str
    create_with_title: str | None
    sha256: str | None = None


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
        self, connection: Any, config: CatalogConfig, unc_root: UncRoot, prefix: str, *, dry_run: bool
    ):
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
        dossier_id = self._in_transaction(lambda cursor: self._create_dossier(cursor, reference, spec))
        self.counts["dossiers_created"] += 1
        self._dossiers[reference] = dossier_id
        return dossier_id

    @staticmethod
    def _create_dossier(cursor: Any, reference: str, spec: DossierSpec) -> int:
        now = _now()
        public_id = uuid.uuid4().hex
        cursor.execute(
            "INSERT INTO dossiers (public_id, reference, title, description, status, owner, version, "
            "created_at, updated_at) VALUES (%s, %s, %s, %s, 'open', %s, 1, %s, %s)",
            (public_id, reference, spec.title[:200], spec.description, spec.owner[:128], now, now),
        )
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
                return Candidate(info, relative, reference, rule.title if rule.create_missing else None)
            else:
                self.counts["unknown_reference"] += 1
            break
        self.counts["to_default_dossier"] += 1
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

    def register(self, batch: Sequence[ObjectInfo], fetch_sha256: FetchSha256 | None = None) -> int:
        """Register the batch's objects not registered yet; return how many were (or would be)."""
        new = self._unregistered(batch)
        if not new:
            return 0
        candidates = [self.candidate(info) for info in new]
        if fetch_sha256 is not None:
            digests = fetch_sha256([c.info.key for c in candidates])
            for candidate, sha256 in zip(candidates, digests, strict=True):
                candidate.sha256 = sha256
        rows = [(candidate, self.dossier_for(candidate)) for candidate in candidates]
        if self.dry_run:
            self.counts["to_register"] += len(rows)
        else:
            self._insert_documents(rows)
            self.counts["registered"] += len(rows)
        for candidate, _ in rows:
            self.per_dossier[candidate.dossier_reference] += 1
        return len(rows)

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
            now,
            now,
        )
        details = {
            "storage_key": info.key,
            "legacy_path": legacy_path,
            "size_bytes": info.size,
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
        fetch_sha256: FetchSha256 | None = None,
        on_batch: Callable[[int], None] = lambda _count: None,
    ) -> None:
        """Register every eligible object, ``batch_size`` per transaction."""
        for batch in batched(self.eligible(objects, excludes), batch_size):
            self.register(batch, fetch_sha256)
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
                "not_registered": not_registered,
                "matched_by_rule": counts["matched_by_rule"],
                "unknown_reference": counts["unknown_reference"],
                "to_default_dossier": counts["to_default_dossier"],
                "dossiers_created": created,
            },
            "per_dossier": dict(sorted(self.per_dossier.items())),
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


class ChecksumFetcher:
    """Reads, in parallel, the SHA-256 S3 holds for each key (hex), or None when it holds none."""

    def __init__(self, client: Any, bucket: str, workers: int):
        self.client = client
        self.bucket = bucket
        self.pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="head")

    def one(self, key: str) -> str | None:
        head = self.client.head_object(Bucket=self.bucket, Key=key, ChecksumMode="ENABLED")
        checksum = head.get("ChecksumSHA256")
        if checksum and "-" not in checksum:  # a composite checksum is not the file's SHA-256
            return base64.b64decode(checksum).hex()
        metadata = {k.lower(): v for k, v in (head.get("Metadata") or {}).items()}
        value = str(metadata.get("sha256", "")).lower()
        return value if re.fullmatch(r"[0-9a-f]{64}", value) else None

    def __call__(self, keys: Sequence[str]) -> list[str | None]:
        return list(self.pool.map(self.one, keys))

    def close(self) -> None:
        self.pool.shutdown()
