"""One cold start: run as a fresh process by :mod:`benchmarks.api.coldstart`.

``python coldstart_child.py patronus|patronus-restore|fastapi RESULT_FILE``; the API Gateway
event comes in ``BENCH_EVENT`` (JSON) and the parent's wall clock at spawn in
``BENCH_SPAWNED_AT``. The child imports and initialises one handler, serves the one event and
writes the timings to RESULT_FILE. ``patronus-restore`` is the SnapStart restore path: the
process primes as before a snapshot (the before-snapshot hooks), then the after-restore hooks and
the first request, on a fresh connection, are timed (``restore_path_ms``). It imports nothing
else of the project before the handler, so the figures hold only what the function itself costs.
"""

from __future__ import annotations

import time

_STARTED = time.perf_counter()

import json  # noqa: E402
import os  # noqa: E402
import sys  # noqa: E402


class _Context:
    """A stand-in Lambda context defined here, not imported, so that nothing of the project is
    imported before the handler (scripts.devstack.gateway.LambdaContext elsewhere)."""

    function_name = "bench"
    function_version = "$LATEST"
    invoked_function_arn = "arn:aws:lambda:eu-west-3:000000000000:function:bench"
    memory_limit_in_mb = 512
    aws_request_id = "00000000-0000-0000-0000-000000000000"
    log_group_name = "/aws/lambda/bench"
    log_stream_name = "bench"

    def get_remaining_time_in_millis(self) -> int:
        return 30_000


def main() -> None:
    which, result_file = sys.argv[1], sys.argv[2]
    event = json.loads(os.environ["BENCH_EVENT"])
    before_import = time.perf_counter()
    if which in ("patronus", "patronus-restore"):
        from patronus_api.handler import handler
    elif which == "fastapi":
        from benchmarks.baselines.fastapi_app import handler
    else:
        raise SystemExit(f"unknown handler {which!r}")
    imported = time.perf_counter()
    restore_path_ms = None
    if which == "patronus-restore":
        from patronus import snapstart

        snapstart.hooks.run_before_snapshot()
        restored = time.perf_counter()
        snapstart.hooks.run_after_restore()
        response = handler(event, _Context())
        restore_path_ms = (time.perf_counter() - restored) * 1000
    else:
        response = handler(event, _Context())
    served = time.perf_counter()
    wall = time.time()
    with open(result_file, "w", encoding="utf-8") as out:
        json.dump(
            {
                "status": response["statusCode"],
                "body": response.get("body"),
                "import_ms": (imported - before_import) * 1000,
                "first_request_ms": (served - imported) * 1000,
                "in_process_ms": (served - _STARTED) * 1000,
                "spawn_to_response_ms": (wall - float(os.environ["BENCH_SPAWNED_AT"])) * 1000,
                "restore_path_ms": restore_path_ms,
            },
            out,
        )


if __name__ == "__main__":
    main()
