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

The document's date (``created_at``) is the file's modification time, read with one HEAD per new
object from the metadata DataSync writes (``file-mtime``), else the object's LastModified. Junk
files (Thumbs.db, desktop.ini, ~$*, .~lock.*#, ._*, .DS_Store, *.tmp) are skipped in any case.
With ``--links inventory.csv`` (from share_inventory), documents that links on the share made
(duplicate copies) are reported.

The dossier of a document is chosen by rules from a TOML file: the first rule whose regular
expression matches the path below the prefix names the dossier reference (group ``reference``,
else group 1, or a fixed ``reference``). A reference that does not exist yet is created when the
rule says ``create_missing = true`` (in the rule's ``unit``, else the default dossier's ``unit``,
else ``--default-unit``: the settings' default unit); otherwise,
and when no rule matches, the document goes to the default dossier (created if missing;
``LEGACY-IMPORT`` unless the file says otherwise); those documents are listed::

    unc_root = '\\\\10.0.20.1\\share'          # optional, --unc-root wins

    [default_dossier]
    reference = "LEGACY-IMPORT"
    title = "Documents imported from the legacy share"
    owner = "legacy-import"

    [[rules]]                                  # a restricted folder: its own dossier and unit
    pattern = '^Confidentiel/'
    reference = "LEGACY-CONFIDENTIEL"
    create_missing = true
    unit = "unit-direction"

    [[rules]]
    pattern = '^dossiers/(?P<reference>D-[0-9]{4}-[0-9]+)/'
    create_missing = true
    title = "Legacy dossier {reference}"

Idempotent and resumable: objects are handled in batches of ``--batch-size``; each batch is one
transaction that skips keys already registered, so a rerun registers nothing twice and a run
interrupted half-way continues where the last committed batch ended. The key column compares
bytes (utf8mb4_bin) but ignores trailing spaces: a key that collides that way with another
registered key is reported as a conflict and skipped, never merged.

The engine is ``scripts/operator_tools/documents/catalog.py``.

Exit status: 0 when every object is registered (or already was), 1 when some could not be
(conflicts, keys too long), 2 on bad input or unreachable services.
"""

from __future__ import annotations

import argparse
import csv
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

if __package__ in {None, ""}:  # run as a file: make the repository root importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from scripts.operator_tools import toolkit
from scripts.operator_tools.documents import db
from scripts.operator_tools.documents.catalog import (
    DEFAULT_UNIT,
    Catalog,
    CatalogConfig,
    HeadFetcher,
    checked_unit,
)
from scripts.operator_tools.documents.excludes import ExcludeFilter
from scripts.operator_tools.documents.paths import UncRoot, normalise_prefix
from scripts.operator_tools.documents.s3 import DEFAULT_REGION, iter_objects, make_client


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
        "--fetch-checksums", action="store_true", help="also record the SHA-256 S3 holds for each new object"
    )
    parser.add_argument("--workers", type=int, default=8, help="parallel HEAD requests (one per new object)")
    parser.add_argument(
        "--links",
        type=Path,
        metavar="CSV",
        help="the share inventory's CSV (share_inventory --csv): documents that links made are reported",
    )
    parser.add_argument(
        "--exclude", action="append", metavar="PATTERN", help="more DataSync-style patterns to skip"
    )
    parser.add_argument(
        "--dry-run", action="store_true", help="report what would be registered; change nothing"
    )
    parser.add_argument(
        "--default-unit",
        default=os.environ.get("PATRONUS_DEFAULT_UNIT", DEFAULT_UNIT),
        help="unit of the dossiers it creates that no rule (nor [default_dossier]) gives a unit "
        f"(default: PATRONUS_DEFAULT_UNIT, else {DEFAULT_UNIT})",
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
    unc_root, excludes, prefix = _inputs(args, config)
    s3 = client or make_client(
        "s3", region=args.region, endpoint_url=args.endpoint_url, max_pool_connections=args.workers + 2
    )
    s3.head_bucket(Bucket=args.bucket)
    links = _links(args.links)
    connection = db.connect_from_args(args)
    default_unit = checked_unit("--default-unit", args.default_unit)
    catalog = Catalog(connection, config, unc_root, prefix, dry_run=args.dry_run, links=links)
    catalog.default_unit = _check_units(connection, config, default_unit)
    fetcher = HeadFetcher(s3, args.bucket, args.workers, checksums=args.fetch_checksums)
    started = toolkit.utc_now()
    try:
        with toolkit.progress(desc="cataloguing", unit=" objects", enabled=args.progress) as bar:
            objects = iter_objects(s3, args.bucket, prefix)
            catalog.register_all(
                objects, excludes, batch_size=args.batch_size, fetch_heads=fetcher, on_batch=bar.update
            )
    finally:
        fetcher.close()
        connection.close()
    report = catalog.report(bucket=args.bucket, started=started)
    toolkit.write_report(args.report, report)
    print_summary(report, config.default_dossier.reference)
    return toolkit.EXIT_OK if report["ok"] else toolkit.EXIT_FAILED


def _links(path: Path | None) -> frozenset[str]:
    """The share paths that are links, from the inventory's CSV (kinds symlink and hardlink)."""
    if path is None:
        return frozenset()
    try:
        with path.open(encoding="utf-8", newline="") as handle:
            rows = list(csv.DictReader(handle))
    except OSError as exc:
        raise toolkit.ToolError(f"cannot read {path}: {exc.strerror}") from exc
    if rows and not {"kind", "path"} <= set(rows[0]):
        raise toolkit.ToolError(f"{path} is not a share inventory CSV (columns kind, path)")
    return frozenset(row["path"] for row in rows if row["kind"] in {"symlink", "hardlink"})


def _check_units(connection: Any, config: CatalogConfig, default_unit: str) -> str | None:
    """The unit of created dossiers that no rule places: the default dossier's unit, else
    ``default_unit``; None when the schema has no units. Rules that give units need them."""
    wanted = [r.unit for r in config.rules if r.unit] + (
        [config.default_dossier.unit] if config.default_dossier.unit else []
    )
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT COUNT(*) AS n FROM information_schema.COLUMNS "
            "WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'dossiers' AND COLUMN_NAME = 'unit'"
        )
        present = cursor.fetchone()["n"]
    if present:
        return config.default_dossier.unit or default_unit
    if wanted:
        raise toolkit.ToolError(
            f"the rules give units ({', '.join(sorted(set(wanted)))}) but the dossiers table has no unit "
            "column: apply the schema migration that adds units first"
        )
    return None


def _inputs(args: argparse.Namespace, config: CatalogConfig) -> tuple[UncRoot, ExcludeFilter, str]:
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
    return unc_root, excludes, prefix


def print_summary(report: dict[str, Any], default_reference: str) -> None:
    dry_run = report["dry_run"]
    verb = "would register" if dry_run else "registered"
    c = report["counts"]
    where = f"s3://{report['bucket']}/{report['prefix']}"
    print(
        f"{'DRY RUN: ' if dry_run else ''}{c['listed']} objects under {where}: "
        f"{verb} {c['registered']}, already registered {c['already_registered']}, "
        f"skipped {c['folder_markers']} folder markers and {c['excluded']} excluded, "
        f"{c['not_registered']} could not be registered"
    )
    print(
        f"dossiers: {c['matched_by_rule']} by rule, {c['to_default_dossier']} to "
        f"{default_reference} ({c['unknown_reference']} with an unknown reference), "
        f"{c['dossiers_created']} dossier(s) {'to create' if dry_run else 'created'}"
    )
    print(
        f"dates: {c['date_from_file_mtime']} from the file's modification time, "
        f"{c['date_from_s3_last_modified']} from S3's LastModified (no mtime in the metadata), "
        f"{c['date_unknown']} unknown (import time); junk skipped {c['junk']}"
    )
    if report["unplaced"]:
        print(f"placed by no rule ({c['to_default_dossier']}, in {default_reference}):")
        for key in report["unplaced"][:20]:
            print(f"  {key}")
    if c["link_copies"]:
        print(f"copies made by links on the share: {c['link_copies']}")
        for item in report["link_copies"][:20]:
            print(f"  {item['key']} (link {item['link']})")
    for problem in report["problems"][:20]:
        print(f"  {problem['kind']:<15} {problem['key']}: {problem['detail']}")


if __name__ == "__main__":
    sys.exit(toolkit.run(main))
