"""files_verify benchmarks (``python -m benchmarks.files_verify``).

* Local hashing throughput, side by side in one run with ``sha256sum`` over the same files at
  the same parallelism (``xargs -P N sha256sum`` against N threads): once with the hashing
  primitive alone (``sha256_file`` in a thread pool) and once through the whole verifier
  pipeline (folder scan, per-file HEAD, hash, compare) against an in-memory S3 that answers
  instantly, so that only local work is timed. Goal: at least 80 % of sha256sum's throughput.
* Listing time for 100,000 small files: the local walk (``os.walk`` and the verifier's per-folder
  ``scandir``) beside ``find``, and an S3 listing (flat paginator and per-folder delimiter
  listings) against a throwaway SeaweedFS.

A top-level runner calls :func:`run` (same arguments as the command line); it returns the
report and writes benchmarks/results/files_verify.json.
"""

from __future__ import annotations

from benchmarks.files_verify.main import main, run

__all__ = ["main", "run"]
