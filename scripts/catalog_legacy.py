"""Register every migrated file under ``legacy/`` as a Patronus document.

    python -m scripts.catalog_legacy --bucket DOCUMENTS_BUCKET \\
        --database-url mysql://admin@127.0.0.1:3306/patronus \\
        --unc-root '\\\\10.0.20.1\\share' --config catalog.toml --report catalog.json [--dry-run]

For each object under the prefix (folder markers and excluded names skipped) it inserts a
``documents`` row: ``storage_key`` = the key, ``legacy_path`` = the UNC path the file had on the
share (``--unc-root`` + the path below the prefix, with backslashes), ``filename``, a content
type guessed from the name, the size and ETag from the listing, ``status='available'``,
``uploaded_by='legacy-import'``, and an audit event ``document.imported`` (actor
``legacy-import``). ``--fetch-checksums`` also reads each new object's SHA-256 (its full-object
checksum or ``sha256`` metadata) with one HEAD request per object.

The dossier of a document is chosen by rules from a TOML file: the first rule whose regular
expression matches the path below the prefix names the dossier reference (group ``reference``,
else group 1). A reference that does not exist yet is created when the rule says
``create_missing = true``; otherwise, and when no rule matches, the document goes to the default
dossier (created if missing; ``LEGACY-IMPORT`` unless the file says otherwise)::

    unc_root = '\\\\10.0.20.1\\share'          # optional, --unc-root wins

    [default_dossier]
    reference = "LEGACY-IMPORT"
    title = "Documents imported from the legacy share"
    owner = "legacy-import"

    [[rules]]
    pattern = '^dossiers/(?P<reference>D-[0-9]{4}-[0-9]+)/'
    create_missing = true
    title = "Legacy dossier {reference}"

Idempotent and resumable: objects are handled in batches of ``--batch-size``; each batch is one
transaction that skips keys already registered, so a rerun registers nothing twice and a run
interrupted half-way continues where the last committed batch ended. The key column compares
bytes (utf8mb4_bin) but ignores trailing spaces: a key that collides that way with another
registered key is reported as a conflict and skipped, never merged.

Exit status: 0 when every object is registered (or already was), 1 when some could not be
(conflicts, keys too long), 2 on bad input or unreachable services.
"""

from __future__ import annotations

import argparse
import base64
import json
import mimetypes
import re
import sys
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
from scripts.operator_tools.documents import db
from scripts.operator_tools.documents.excludes import ExcludeFilter
from scripts.operator_tools.documents.paths import UncRoot, normalise_prefix
from scripts.operator_tools.documents.s3 import DEFAULT_REGION, ObjectInfo, iter_objects, make_client

ACTOR = "legacy-import"
MAX_STORAGE_KEY = 760
MAX_FILENAME = 1024
MAX_LEGACY_PATH = 2048


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
        default = data.get("default_dossier", {})
        if not isinstance(default, dict) or set(default) - {"reference", "title", "owner", "description"}:
            raise toolkit.ToolError(f"{path}: [default_dossier] takes reference, title, owner, description")
        spec = DossierSpec(**{k: str(v) for k, v in default.items()})
        if not spec.reference or len(spec.reference) > 64:
            raise toolkit.ToolError(f"{path}: default_dossier.reference must be 1 to 64 characters")
        rules = []
        for number, raw in enumerate(data.get("rules", []), start=1):
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
                raise toolkit.ToolError(
                    f"{path}: rule {number} pattern needs a group holding the dossier reference"
                )
            rules.append(
                Rule(pattern, bool(raw.get("create_missing", False)), str(raw.get("title", Rule.title)))
            )
        return cls(data.get("unc_root"), spec, rules)


@dataclass
class Candidate:
    info: ObjectInfo
    relative: str
    dossier_reference: str
    create_with_title: str | None
    sha256: str | None = None


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
        now = datetime.now(UTC).replace(tzinfo=None)
        public_id = uuid.uuid4().hex
        self.connection.begin()
        try:
            with self.connection.cursor() as cursor:
                cursor.execute(
                    "INSERT INTO dossiers (public_id, reference, title, description, status, owner, version, "
                    "created_at, updated_at) VALUES (%s, %s, %s, %s, 'open', %s, 1, %s, %s)",
                    (public_id, reference, spec.title[:200], spec.description, spec.owner[:128], now, now),
                )
                dossier_id = int(cursor.lastrowid)
                cursor.execute(
                    "INSERT INTO audit_events (occurred_at, actor, action, entity_type, entity_id, "
                    "dossier_id, details) VALUES (%s, %s, 'dossier.created', 'dossier', %s, %s, %s)",
                    (
                        now,
                        ACTOR,
                        public_id,
                        dossier_id,
                        json.dumps({"reference": reference, "source": "catalog_legacy"}),
                    ),
                )
            self.connection.commit()
        except Exception:
            self.connection.rollback()
            raise
        self.counts["dossiers_created"] += 1
        self._dossiers[reference] = dossier_id
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
        relative = info.key[len(self.prefix) :]
        for rule in self.config.rules:
            reference = rule.reference(relative)
            if not reference:
                continue
            if len(reference) > 64:
                self.problem(
                    "reference_too_long", info.key, f"dossier reference {reference!r} exceeds 64 characters"
                )
                break
            if rule.create_missing or self._exists_or_planned(reference):
                self.counts["matched_by_rule"] += 1
                return Candidate(info, relative, reference, rule.title if rule.create_missing else None)
            self.counts["unknown_reference"] += 1
            break
        self.counts["to_default_dossier"] += 1
        return Candidate(info, relative, self.config.default_dossier.reference, None)

    def problem(self, kind: str, key: str, detail: str) -> None:
        self.counts[kind] += 1
        if len(self.problems) < 10000:
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

    def register(
        self,
        batch: Sequence[ObjectInfo],
        fetch_sha256: Callable[[Sequence[str]], list[str | None]] | None = None,
    ) -> int:
        """Register the batch's objects not registered yet; return how many were (or would be)."""
        found = self.existing_keys([info.key for info in batch])
        folded_found = {_collation_fold(key): key for key in found}
        new: list[ObjectInfo] = []
        seen: dict[str, str] = {}
        for info in batch:
            if info.key in found:
                self.counts["already_registered"] += 1
                continue
            folded = _collation_fold(info.key)
            clash = folded_found.get(folded) or seen.get(folded)
            if clash:
                self.problem(
                    "key_conflict",
                    info.key,
                    f"the key column ignores trailing spaces: clashes with {clash!r}",
                )
                continue
            seen[folded] = info.key
            new.append(info)
        if not new:
            return 0
        candidates = [self.candidate(info) for info in new]
        if fetch_sha256 is not None:
            for candidate, sha256 in zip(
                candidates, fetch_sha256([c.info.key for c in candidates]), strict=True
            ):
                candidate.sha256 = sha256
        rows = [(candidate, self.dossier_for(candidate)) for candidate in candidates]
        if self.dry_run:
            for candidate, _ in rows:
                self.per_dossier[candidate.dossier_reference] += 1
            self.counts["to_register"] += len(rows)
            return len(rows)
        now = datetime.now(UTC).replace(tzinfo=None)
        documents = []
        audits = []
        for candidate, dossier_id in rows:
            public_id = uuid.uuid4().hex
            info = candidate.info
            filename = candidate.relative.rsplit("/", 1)[-1]
            legacy_path = self.unc_root.join(candidate.relative)
            content_type = mimetypes.guess_type(filename, strict=False)[0] or "application/octet-stream"
            documents.append(
                (
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
            )
            details = {
                "storage_key": info.key,
                "legacy_path": legacy_path,
                "size_bytes": info.size,
                "source": "catalog_legacy",
            }
            audits.append((now, ACTOR, public_id, dossier_id, json.dumps(details, ensure_ascii=False)))
        self.connection.begin()
        try:
            with self.connection.cursor() as cursor:
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
            self.connection.commit()
        except Exception:
            self.connection.rollback()
            raise
        for candidate, _ in rows:
            self.per_dossier[candidate.dossier_reference] += 1
        self.counts["registered"] += len(rows)
        return len(rows)


def _collation_fold(key: str) -> str:
    """Equality as the key column sees it: utf8mb4_bin compares bytes but, like every PAD SPACE
    collation of MySQL 8.0 and MariaDB, ignores trailing spaces."""
    return key.rstrip(" ")


def eligible(
    objects: Iterable[ObjectInfo], catalog: Catalog, excludes: ExcludeFilter, prefix: str
) -> Iterator[ObjectInfo]:
    """Objects worth registering: not folder markers, not excluded, with keys the schema can hold."""
    for info in objects:
        catalog.counts["listed"] += 1
        relative = info.key[len(prefix) :]
        if not relative or info.key.endswith("/"):
            catalog.counts["folder_markers"] += 1
            continue
        if excludes.excludes(relative):
            catalog.counts["excluded"] += 1
            continue
        legacy_path = catalog.unc_root.join(relative)
        if len(info.key) > MAX_STORAGE_KEY or len(relative.rsplit("/", 1)[-1]) > MAX_FILENAME:
            catalog.problem("key_too_long", info.key, f"keys hold at most {MAX_STORAGE_KEY} characters")
            continue
        if len(legacy_path) > MAX_LEGACY_PATH:
            catalog.problem(
                "path_too_long", info.key, f"legacy_path holds at most {MAX_LEGACY_PATH} characters"
            )
            continue
        yield info


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


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m scripts.catalog_legacy",
        description="Register every migrated object under legacy/ as a Patronus document (idempotent, "
        "resumable). Exit 0 when all are registered, 1 when some could not be, 2 on bad input.",
    )
    parser.add_argument("--bucket", required=True, help="the documents bucket")
    parser.add_argument(
        "--prefix", default="legacy/", help="where DataSync wrote the share (default legacy/)"
    )
    parser.add_argument("--unc-root", help="UNC path of the migrated folder, e.g. \\\\10.0.20.1\\share")
    parser.add_argument("--config", type=Path, help="TOML file: unc_root, [default_dossier], [[rules]]")
    parser.add_argument("--batch-size", type=int, default=500, help="objects per transaction (default 500)")
    parser.add_argument(
        "--fetch-checksums", action="store_true", help="HEAD each new object to record its SHA-256"
    )
    parser.add_argument(
        "--workers", type=int, default=8, help="parallel HEAD requests with --fetch-checksums"
    )
    parser.add_argument(
        "--exclude", action="append", metavar="PATTERN", help="more DataSync-style patterns to skip"
    )
    parser.add_argument(
        "--dry-run", action="store_true", help="report what would be registered; change nothing"
    )
    parser.add_argument("--report", type=Path, help="write the JSON report here")
    parser.add_argument("--region", default=DEFAULT_REGION, help=f"AWS region (default {DEFAULT_REGION})")
    parser.add_argument("--endpoint-url", help="S3 endpoint (a local S3-compatible server)")
    toolkit.add_progress_arguments(parser)
    db.add_arguments(parser)
    return parser


def main(argv: Sequence[str] | None = None, *, client: Any = None) -> int:
    args = build_parser().parse_args(argv)
    if args.batch_size < 1 or args.workers < 1:
        raise toolkit.ToolError("--batch-size and --workers must be at least 1")
    config = CatalogConfig.load(args.config)
    unc_text = args.unc_root or config.unc_root
    if not unc_text:
        raise toolkit.ToolError(
            "the UNC root of the share is needed: --unc-root '\\\\10.0.20.1\\share' or unc_root in --config"
        )
    try:
        unc_root = UncRoot.parse(unc_text)
        excludes = ExcludeFilter.from_cli(args.exclude)
    except ValueError as exc:
        raise toolkit.ToolError(str(exc)) from exc
    prefix = normalise_prefix(args.prefix)
    if not prefix:
        raise toolkit.ToolError("--prefix cannot be empty: the catalog only registers migrated files")
    s3 = client or make_client(
        "s3", region=args.region, endpoint_url=args.endpoint_url, max_pool_connections=args.workers + 2
    )
    s3.head_bucket(Bucket=args.bucket)
    connection = db.connect_from_args(args)
    catalog = Catalog(connection, config, unc_root, prefix, dry_run=args.dry_run)
    fetcher = ChecksumFetcher(s3, args.bucket, args.workers) if args.fetch_checksums else None
    started = toolkit.utc_now()
    bar = toolkit.progress(desc="cataloguing", unit=" objects", enabled=args.progress)
    try:
        objects = eligible(iter_objects(s3, args.bucket, prefix), catalog, excludes, prefix)
        for batch in batched(objects, args.batch_size):
            catalog.register(batch, fetcher)
            bar.update(len(batch))
    finally:
        bar.close()
        if fetcher is not None:
            fetcher.close()
        connection.close()

    counts = catalog.counts
    not_registered = sum(counts[k] for k in ("key_conflict", "key_too_long", "path_too_long"))
    report = {
        "bucket": args.bucket,
        "prefix": prefix,
        "unc_root": unc_root.unc(),
        "dry_run": args.dry_run,
        "started_at": toolkit.iso(started),
        "finished_at": toolkit.iso(toolkit.utc_now()),
        "counts": {
            "listed": counts["listed"],
            "registered": counts["to_register"] if args.dry_run else counts["registered"],
            "already_registered": counts["already_registered"],
            "folder_markers": counts["folder_markers"],
            "excluded": counts["excluded"],
            "not_registered": not_registered,
            "matched_by_rule": counts["matched_by_rule"],
            "unknown_reference": counts["unknown_reference"],
            "to_default_dossier": counts["to_default_dossier"],
            "dossiers_created": counts["dossiers_to_create"] if args.dry_run else counts["dossiers_created"],
        },
        "per_dossier": dict(sorted(catalog.per_dossier.items())),
        "problems": catalog.problems,
        "ok": not_registered == 0,
    }
    toolkit.write_report(args.report, report)
    verb = "would register" if args.dry_run else "registered"
    c = report["counts"]
    print(
        f"{'DRY RUN: ' if args.dry_run else ''}{c['listed']} objects under s3://{args.bucket}/{prefix}: "
        f"{verb} {c['registered']}, already registered {c['already_registered']}, "
        f"skipped {c['folder_markers']} folder markers and {c['excluded']} excluded, "
        f"{c['not_registered']} could not be registered"
    )
    print(
        f"dossiers: {c['matched_by_rule']} by rule, {c['to_default_dossier']} to "
        f"{config.default_dossier.reference} ({c['unknown_reference']} with an unknown reference), "
        f"{c['dossiers_created']} dossier(s) {'to create' if args.dry_run else 'created'}"
    )
    for problem in catalog.problems[:20]:
        print(f"  {problem['kind']:<15} {problem['key']}: {problem['detail']}")
    return toolkit.EXIT_OK if report["ok"] else toolkit.EXIT_FAILED


if __name__ == "__main__":
    sys.exit(toolkit.run(main))
