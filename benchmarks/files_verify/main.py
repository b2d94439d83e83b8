"""Measure files_verify side by side with baselines in the same run; print a table, write JSON.

    python -m benchmarks.files_verify                  # ~1 GiB tree, 100,000-file listing
    python -m benchmarks.files_verify --size-mb 256 --listing-files 20000 --quick

Hashing: the same files, the same parallelism, alternating runs (the tree is read once first so
that every contender reads from the page cache); the median throughput of each is reported and
the ratio files_verify / sha256sum is the figure that matters (goal: >= 0.80).

Listing: ``find`` is the baseline of the local walk; for S3 the flat paginator (1,000 keys per
request) is the baseline of the per-folder delimiter listing the verifier uses.

Exit status: 0 when the hashing goal is met, 1 when it is not, 2 when the benchmark cannot run.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from scripts.operator_tools.documents.excludes import ExcludeFilter
from scripts.operator_tools.documents.hashing import sha256_file
from scripts.operator_tools.documents.s3 import iter_objects, list_folder
from scripts.operator_tools.documents.verifier import Recorder, Verifier

ROOT = Path(__file__).resolve().parents[2]
RESULTS = ROOT / "benchmarks" / "results" / "files_verify.json"
MIB = 1024 * 1024
GOAL_RATIO = 0.80


# -- the trees ---------------------------------------------------------------------------------
def generate_mixed_tree(root: Path, total_bytes: int, seed: int) -> list[Path]:
    """Files of mixed sizes (many small, some medium, a few large) adding up to ``total_bytes``."""
    rng = random.Random(seed)
    pool = os.urandom(16 * MIB)
    paths: list[Path] = []
    written = 0
    number = 0
    while written < total_bytes:
        roll = rng.random()
        if roll < 0.70:
            size = rng.randint(1024, 64 * 1024)
        elif roll < 0.95:
            size = rng.randint(64 * 1024, 4 * MIB)
        else:
            size = rng.randint(8 * MIB, 16 * MIB)
        size = min(size, total_bytes - written) or 1
        folder = root / f"dossier {number % 37:02d}" / f"année {number % 5}"
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"pièce {number:06d}.bin"
        offset = rng.randrange(0, len(pool) - size) if size < len(pool) else 0
        with path.open("wb") as handle:
            handle.write(number.to_bytes(8, "big"))
            handle.write(pool[offset : offset + size - 8] if size > 8 else b"")
        paths.append(path)
        written += path.stat().st_size
        number += 1
    return paths


def generate_listing_tree(root: Path, files: int) -> list[str]:
    """``files`` small files in folders of 100 (10 top folders); returns their relative paths."""
    relatives = []
    per_top = max(1, (files + 9) // 10)
    for number in range(files):
        top, rest = divmod(number, per_top)
        relative = f"top{top:02d}/folder{rest // 100:04d}/file{number:07d}.txt"
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"x" * (number % 512))
        relatives.append(relative)
    return relatives


# -- hashing -----------------------------------------------------------------------------------
def read_once(paths: list[Path]) -> None:
    """Bring the tree into the page cache so that no contender pays for the first read."""
    for path in paths:
        with path.open("rb") as handle:
            while handle.read(8 * MIB):
                pass


def sha256sum_run(paths: list[Path], workers: int) -> tuple[float, dict[str, str]]:
    """``xargs -0 -P workers sha256sum`` over the files; (seconds, path -> hex)."""
    per_call = max(1, len(paths) // (workers * 8))
    payload = b"\0".join(os.fsencode(p) for p in paths)
    started = time.perf_counter()
    done = subprocess.run(
        ["xargs", "-0", "-P", str(workers), "-n", str(per_call), "sha256sum", "--"],
        input=payload,
        capture_output=True,
        check=True,
    )
    elapsed = time.perf_counter() - started
    digests = {}
    for line in done.stdout.decode("utf-8", "surrogateescape").splitlines():
        digest, _, name = line.partition("  ")
        digests[name] = digest
    return elapsed, digests


def primitive_run(paths: list[Path], workers: int) -> float:
    """files_verify's hashing primitive (``sha256_file``) on ``workers`` threads."""
    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=workers) as pool:
        for _ in pool.map(sha256_file, paths, chunksize=16):
            pass
    return time.perf_counter() - started


@dataclass
class InMemoryS3:
    """Answers the calls files_verify makes, instantly, from a table of key -> (size, sha256)."""

    objects: dict[str, tuple[int, str]]
    heads: int = 0
    _folders: dict[str, tuple[dict[str, int], set[str]]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for key, (size, _) in self.objects.items():
            parts = key.split("/")
            for depth in range(len(parts) - 1):
                prefix = "/".join(parts[: depth + 1]) + "/"
                parent = "/".join(parts[:depth]) + "/" if depth else ""
                self._folders.setdefault(parent, ({}, set()))[1].add(prefix)
            parent = "/".join(parts[:-1]) + "/" if len(parts) > 1 else ""
            self._folders.setdefault(parent, ({}, set()))[0][key] = size

    def head_bucket(self, **_: Any) -> dict[str, Any]:
        return {}

    def head_object(self, *, Key: str, **_: Any) -> dict[str, Any]:
        self.heads += 1
        size, digest = self.objects[Key]
        return {"ContentLength": size, "Metadata": {"sha256": digest}}

    def get_paginator(self, _name: str) -> Any:
        store = self

        class Paginator:
            def paginate(self, *, Prefix: str, Delimiter: str = "", **_: Any) -> Iterator[dict[str, Any]]:
                files, folders = store._folders.get(Prefix, ({}, set()))
                if Delimiter:
                    yield {
                        "Contents": [{"Key": k, "Size": s, "ETag": ""} for k, s in files.items()],
                        "CommonPrefixes": [{"Prefix": p} for p in sorted(folders)],
                    }
                else:
                    yield {
                        "Contents": [
                            {"Key": k, "Size": s, "ETag": ""}
                            for k, (s, _) in sorted(store.objects.items())
                            if k.startswith(Prefix)
                        ]
                    }

        return Paginator()


def pipeline_run(root: Path, client: InMemoryS3, workers: int) -> tuple[float, dict[str, int]]:
    """The whole verifier (scan, HEAD, hash, compare) with an S3 that costs nothing."""
    verifier = Verifier(
        source=root,
        bucket="bench",
        prefix="legacy/",
        client=client,
        excludes=ExcludeFilter(),
        recorder=Recorder(max_listed=100),
    )
    started = time.perf_counter()
    recorder = verifier.run(workers)
    return time.perf_counter() - started, dict(recorder.counts)


def measure_hashing(root: Path, paths: list[Path], workers: int, repeats: int) -> dict[str, Any]:
    total = sum(p.stat().st_size for p in paths)
    read_once(paths)
    _, digests = sha256sum_run(paths, workers)  # warm-up, and the expected hashes
    client = InMemoryS3(
        {"legacy/" + p.relative_to(root).as_posix(): (p.stat().st_size, digests[str(p)]) for p in paths}
    )
    times: dict[str, list[float]] = {"sha256sum": [], "sha256_file": [], "verifier": []}
    counts: dict[str, int] = {}
    for _ in range(repeats):  # alternate so that drifts hit every contender alike
        times["sha256sum"].append(sha256sum_run(paths, workers)[0])
        times["sha256_file"].append(primitive_run(paths, workers))
        elapsed, counts = pipeline_run(root, client, workers)
        times["verifier"].append(elapsed)
    differences = sum(
        counts.get(k, 0) for k in ("missing", "extra", "size_mismatch", "content_mismatch", "error")
    )
    if differences or counts.get("sha256_metadata") != len(paths):
        raise RuntimeError(f"the verifier disagreed with sha256sum on the benchmark tree: {counts}")
    throughput = {name: total / statistics.median(values) for name, values in times.items()}
    return {
        "workers": workers,
        "files": len(paths),
        "bytes": total,
        "repeats": repeats,
        "seconds": {name: [round(v, 4) for v in values] for name, values in times.items()},
        "throughput_mib_s": {name: round(value / MIB, 1) for name, value in throughput.items()},
        "ratio_sha256_file_vs_sha256sum": round(throughput["sha256_file"] / throughput["sha256sum"], 3),
        "ratio_verifier_vs_sha256sum": round(throughput["verifier"] / throughput["sha256sum"], 3),
    }


# -- listing -----------------------------------------------------------------------------------
def timed(function: Callable[[], int]) -> tuple[float, int]:
    started = time.perf_counter()
    count = function()
    return time.perf_counter() - started, count


def walk_count(root: Path) -> int:
    return sum(len(files) for _, _, files in os.walk(root))


def find_count(root: Path) -> int:
    done = subprocess.run(["find", str(root), "-type", "f"], capture_output=True, check=True)
    return done.stdout.count(b"\n")


def per_folder_count(client: Any, bucket: str, prefix: str) -> tuple[int, int]:
    """Walk the prefix one delimiter listing per folder, as the verifier does: (objects, requests)."""
    pending, objects, requests = [prefix], 0, 0
    while pending:
        folder = list_folder(client, bucket, pending.pop())
        requests += 1
        objects += len(folder.objects)
        pending.extend(f"{folder.prefix}{name}/" for name in folder.folders)
    return objects, requests


def measure_listing(scratch: Path, files: int, upload_workers: int, verify: bool) -> dict[str, Any]:
    from scripts.devstack.seaweedfs import ThrowawaySeaweedFS
    from scripts.operator_tools.documents.s3 import make_client

    root = scratch / "listing"
    started = time.perf_counter()
    relatives = generate_listing_tree(root, files)
    result: dict[str, Any] = {"files": files, "generate_seconds": round(time.perf_counter() - started, 2)}
    timed(lambda: walk_count(root))  # warm the dentry cache for both
    walk_s, walk_n = timed(lambda: walk_count(root))
    find_s, find_n = timed(lambda: find_count(root))
    result["local"] = {
        "os_walk_seconds": round(walk_s, 3),
        "find_seconds": round(find_s, 3),
        "ratio_walk_vs_find": round(find_s / walk_s, 3) if walk_s else None,
        "counted": [walk_n, find_n],
    }

    server = ThrowawaySeaweedFS(scratch / "seaweedfs").start()
    try:
        os.environ.setdefault("AWS_ACCESS_KEY_ID", server.access_key)
        os.environ.setdefault("AWS_SECRET_ACCESS_KEY", server.secret_key)
        client = make_client("s3", endpoint_url=server.endpoint, max_pool_connections=upload_workers + 4)
        bucket = "bench-listing"
        client.create_bucket(Bucket=bucket)
        # Filling SeaweedFS through S3 PUTs runs at a few hundred objects per second on two cores;
        # the tree goes in through the filer instead (same keys), and a sample of PUTs gives the S3 rate.
        copy_s = fill_through_filer(server, root, f"/buckets/{bucket}/legacy/", upload_workers)
        sample = relatives[: min(len(relatives), 2000)]

        def upload(relative: str) -> None:
            client.put_object(
                Bucket=bucket, Key="put-sample/" + relative, Body=(root / relative).read_bytes()
            )

        put_started = time.perf_counter()
        with ThreadPoolExecutor(max_workers=upload_workers) as pool:
            list(pool.map(upload, sample, chunksize=16))
        put_s = time.perf_counter() - put_started
        flat_s, flat_n = timed(lambda: sum(1 for _ in iter_objects(client, bucket, "legacy/")))
        folder_started = time.perf_counter()
        folder_n, requests = per_folder_count(client, bucket, "legacy/")
        folder_s = time.perf_counter() - folder_started
        if flat_n != files or folder_n != files:
            raise RuntimeError(f"S3 listed {flat_n} / {folder_n} objects instead of {files}")
        result["s3"] = {
            "server": "SeaweedFS (throwaway, 127.0.0.1)",
            "fill_through_filer_seconds": round(copy_s, 2),
            "put_objects_per_second": round(len(sample) / put_s, 1),
            "flat_listing_seconds": round(flat_s, 3),
            "flat_listing_requests": (files + 999) // 1000,
            "per_folder_listing_seconds": round(folder_s, 3),
            "per_folder_requests": requests,
            "ratio_per_folder_vs_flat": round(folder_s / flat_s, 3) if flat_s else None,
        }
        if verify:
            verifier = Verifier(
                source=root,
                bucket=bucket,
                prefix="legacy/",
                client=client,
                excludes=ExcludeFilter(),
                recorder=Recorder(max_listed=100),
            )
            verify_started = time.perf_counter()
            recorder = verifier.run(16)
            verify_s = time.perf_counter() - verify_started
            result["s3"]["files_verify_seconds"] = round(verify_s, 2)
            result["s3"]["files_verify_files_per_second"] = round(files / verify_s, 1)
            result["s3"]["files_verify_differences"] = recorder.difference_count
    finally:
        server.stop()
    return result


def fill_through_filer(server: Any, source: Path, target: str, workers: int) -> float:
    """``weed filer.copy`` the tree into the bucket's folder; returns the seconds it took."""
    from scripts.devstack.seaweedfs import weed_binary

    ports = server.ports
    url = f"http://127.0.0.1:{ports['filer.port']}.{ports['filer.port.grpc']}{target}"
    started = time.perf_counter()
    subprocess.run(
        # filer.copy puts each source folder itself below the target: pass the folder's children
        [weed_binary(), "filer.copy", "-c", str(workers), *sorted(str(p) for p in source.iterdir()), url],
        check=True,
        capture_output=True,
    )
    return time.perf_counter() - started


# -- command line ------------------------------------------------------------------------------
def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.files_verify",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--size-mb", type=int, default=1024, help="size of the hashing tree (default 1024 MiB)"
    )
    parser.add_argument(
        "--workers", type=int, default=os.cpu_count() or 2, help="parallelism of both (default: cores)"
    )
    parser.add_argument("--repeats", type=int, default=3, help="alternating runs per contender (default 3)")
    parser.add_argument(
        "--listing-files", type=int, default=100_000, help="files in the listing tree (default 100000)"
    )
    parser.add_argument("--upload-workers", type=int, default=32, help="threads uploading the listing tree")
    parser.add_argument("--no-listing", action="store_true", help="skip the listing benchmark")
    parser.add_argument(
        "--verify-listing-tree", action="store_true", help="also run files_verify on the listing tree"
    )
    parser.add_argument("--quick", action="store_true", help="256 MiB, 2 repeats, 20,000 files")
    parser.add_argument("--seed", type=int, default=20261128)
    parser.add_argument(
        "--scratch", type=Path, help="where to generate the trees (default: a temporary folder)"
    )
    parser.add_argument("--output", type=Path, default=RESULTS, help="the JSON report")
    args = parser.parse_args(argv)
    if args.quick:
        args.size_mb, args.repeats, args.listing_files = min(args.size_mb, 256), min(args.repeats, 2), 20_000
    if min(args.size_mb, args.workers, args.repeats, args.listing_files, args.upload_workers) < 1:
        parser.error("sizes, counts and workers must be at least 1")
    return args


def run(argv: list[str] | None = None) -> dict[str, Any]:
    """Run the benchmarks; return the report (also written to --output)."""
    args = parse_args(argv)
    if not shutil.which("sha256sum") or not shutil.which("xargs"):
        raise RuntimeError("sha256sum and xargs (coreutils, findutils) are needed for the baseline")
    report: dict[str, Any] = {
        "benchmark": "files_verify",
        "started_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {"cpus": os.cpu_count(), "python": sys.version.split()[0]},
    }
    with tempfile.TemporaryDirectory(prefix="bench-files-", dir=args.scratch) as scratch_dir:
        scratch = Path(scratch_dir)
        tree = scratch / "hashing"
        started = time.perf_counter()
        paths = generate_mixed_tree(tree, args.size_mb * MIB, args.seed)
        print(
            f"generated {len(paths)} files, {args.size_mb} MiB in {time.perf_counter() - started:.1f} s",
            flush=True,
        )
        report["hashing"] = measure_hashing(tree, paths, args.workers, args.repeats)
        if args.workers > 1:
            report["hashing_single_thread"] = measure_hashing(tree, paths, 1, max(1, args.repeats - 1))
        shutil.rmtree(tree)
        if not args.no_listing:
            report["listing"] = measure_listing(
                scratch, args.listing_files, args.upload_workers, args.verify_listing_tree
            )
    ratio = report["hashing"]["ratio_verifier_vs_sha256sum"]
    report["goal"] = {"verifier_vs_sha256sum_at_least": GOAL_RATIO, "measured": ratio}
    report["goal_met"] = ratio >= GOAL_RATIO
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return report


def render(report: dict[str, Any]) -> str:
    lines = ["", "hashing (median of alternating runs, page cache warm)"]
    lines.append(f"  {'contender':<34}{'workers':>8}{'MiB/s':>10}{'vs sha256sum':>14}")
    for key in ("hashing", "hashing_single_thread"):
        section = report.get(key)
        if not section:
            continue
        base = section["throughput_mib_s"]["sha256sum"]
        names = {
            "sha256sum": "sha256sum (xargs -P)",
            "sha256_file": "files_verify sha256_file",
            "verifier": "files_verify pipeline (S3 in memory)",
        }
        for name, label in names.items():
            value = section["throughput_mib_s"][name]
            lines.append(f"  {label:<34}{section['workers']:>8}{value:>10.1f}{value / base:>14.2f}")
    hashing = report["hashing"]
    lines.append(f"  tree: {hashing['files']} files, {hashing['bytes'] / MIB:.0f} MiB")
    listing = report.get("listing")
    if listing:
        local, s3 = listing["local"], listing.get("s3", {})
        lines += [
            "",
            f"listing {listing['files']} small files",
            f"  local os.walk           {local['os_walk_seconds']:>8.3f} s   "
            f"(find: {local['find_seconds']:.3f} s)",
        ]
        if s3:
            lines += [
                f"  S3 flat paginator       {s3['flat_listing_seconds']:>8.3f} s   "
                f"({s3['flat_listing_requests']} requests; {s3['server']})",
                f"  S3 per-folder listing   {s3['per_folder_listing_seconds']:>8.3f} s   "
                f"({s3['per_folder_requests']} requests; what files_verify does)",
                f"  S3 PUT rate (sample)    {s3['put_objects_per_second']:>8.0f} objects/s; the tree was "
                f"filled through the filer in {s3['fill_through_filer_seconds']:.0f} s",
            ]
            if "files_verify_seconds" in s3:
                lines.append(
                    f"  files_verify end to end {s3['files_verify_seconds']:>8.2f} s   "
                    f"({s3['files_verify_files_per_second']:.0f} files/s, one HEAD each, "
                    f"{s3['files_verify_differences']} differences)"
                )
    goal = report["goal"]
    lines += [
        "",
        f"goal: files_verify pipeline >= {goal['verifier_vs_sha256sum_at_least']:.0%} of sha256sum: "
        f"{goal['measured']:.0%} -> {'met' if report['goal_met'] else 'MISSED'}",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    args_for_output = parse_args(argv)
    try:
        report = run(argv)
    except (RuntimeError, OSError, subprocess.CalledProcessError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(render(report))
    print(f"\nJSON report: {args_for_output.output}")
    return 0 if report["goal_met"] else 1
