"""Installing requirements-dev.txt into a fresh virtualenv: pip against uv, side by side.

    python -m benchmarks.install            # writes benchmarks/results/install.json

Each installer gets a new venv and no cache (pip --no-cache-dir, uv --no-cache), both from PyPI
(pip with no configuration file, so a machine's extra indexes do not count; uv reads none). The
uv figure includes installing uv itself with pip, as `make install` does. Needs the network to
PyPI and takes a few minutes (pip's part), so `make bench` does not run it.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results" / "install.json"
PYPI = "https://pypi.org/simple"


def _run(argv: list[str], env: dict[str, str]) -> float:
    started = time.perf_counter()
    subprocess.run(argv, cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - started


def _uv_requirement() -> str:
    for line in (ROOT / "requirements-dev.txt").read_text().splitlines():
        if line.startswith("uv=="):
            return line.strip()
    raise SystemExit("requirements-dev.txt pins no uv")


def measure(folder: Path) -> dict[str, Any]:
    env = {**os.environ, "PIP_CONFIG_FILE": os.devnull, "PIP_DISABLE_PIP_VERSION_CHECK": "1"}
    for name in ("PIP_FIND_LINKS", "PIP_EXTRA_INDEX_URL", "PIP_INDEX_URL", "PIP_CONSTRAINT"):
        env.pop(name, None)
    started_at = datetime.now(UTC).isoformat(timespec="seconds")
    seconds: dict[str, float] = {}
    pip_venv, uv_venv = folder / "pip", folder / "uv"
    for venv in (pip_venv, uv_venv):
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    print("pip install -r requirements-dev.txt ...", flush=True)
    seconds["pip"] = _run(
        [
            str(pip_venv / "bin/python"),
            "-m",
            "pip",
            "install",
            "--no-cache-dir",
            "--index-url",
            PYPI,
            "-r",
            "requirements-dev.txt",
        ],
        env,
    )
    print(f"  {seconds['pip']:.1f} s; uv (bootstrapped with pip) ...", flush=True)
    bootstrap = _run(
        [
            str(uv_venv / "bin/python"),
            "-m",
            "pip",
            "install",
            "--no-cache-dir",
            "--index-url",
            PYPI,
            _uv_requirement(),
        ],
        env,
    )
    install = _run(
        [
            str(uv_venv / "bin/uv"),
            "pip",
            "install",
            "--no-cache",
            "--python",
            str(uv_venv / "bin/python"),
            "--index-url",
            PYPI,
            "-r",
            "requirements-dev.txt",
        ],
        env,
    )
    seconds["uv"] = bootstrap + install
    print(f"  {seconds['uv']:.1f} s (of which {bootstrap:.1f} s installing uv)", flush=True)
    return {
        "benchmark": "install",
        "started_at": started_at,
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
        "requirements": "requirements-dev.txt",
        "seconds": {
            "pip": round(seconds["pip"], 1),
            "uv_total": round(seconds["uv"], 1),
            "uv_bootstrap": round(bootstrap, 1),
            "uv_install": round(install, 1),
        },
        "ratio_pip_over_uv": round(seconds["pip"] / seconds["uv"], 1),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--output", type=Path, default=RESULTS, help="JSON report (default: %(default)s)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="patronus-install-") as folder:
        report = measure(Path(folder))
    args.output.write_text(json.dumps(report, indent=2) + "\n")
    print(
        f"pip {report['seconds']['pip']} s, uv {report['seconds']['uv_total']} s: "
        f"{report['ratio_pip_over_uv']}x; written to {args.output}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
