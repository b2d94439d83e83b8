"""Run every benchmark package (``make bench``): benchmarks/<name>/__main__.py, one after another.

Each runs as ``python -m benchmarks.<name>`` in its own process, with ``--quick`` when its --help
offers that flag (unless --full is given), and writes its JSON report to benchmarks/results/.
This runner collects those reports, prints one summary line per benchmark, writes
benchmarks/results/summary.json and exits with 1 when a benchmark failed or missed its goal.
The benchmarks only create throwaway servers, files and databases of their own.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
RESULTS = HERE / "results"
FIRST = ("api",)  # ours first; the others in name order


def discover() -> list[str]:
    names = sorted(
        p.parent.name for p in HERE.glob("*/__main__.py") if not p.parent.name.startswith((".", "_"))
    )
    return [n for n in FIRST if n in names] + [n for n in names if n not in FIRST]


def supports_quick(name: str) -> bool:
    shown = subprocess.run(
        [sys.executable, "-m", f"benchmarks.{name}", "--help"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    return shown.returncode == 0 and "--quick" in shown.stdout


def command(name: str, full: bool) -> list[str]:
    quick = name != "api" and not full and supports_quick(name)
    return [sys.executable, "-m", f"benchmarks.{name}", *(["--quick"] if quick else [])]


def run(name: str, argv: list[str]) -> dict[str, Any]:
    """Run one benchmark with its output on screen; collect the JSON reports it wrote."""
    print(f"\n=== {name}: {' '.join(['python', *argv[1:]])}", flush=True)
    started = time.time()
    returncode = subprocess.run(argv, cwd=ROOT, check=False).returncode
    elapsed = time.time() - started
    reports = {}
    for path in sorted(RESULTS.glob("*.json")):
        if path.name != "summary.json" and path.stat().st_mtime >= started:
            try:
                reports[path.name] = json.loads(path.read_text())
            except ValueError:
                reports[path.name] = {"error": "not valid JSON"}
    return {
        "name": name,
        "command": argv[1:],
        "exit_code": returncode,
        "seconds": elapsed,
        "reports": reports,
    }


def goals(report: Any) -> dict[str, bool]:
    """The verdicts a report states: top-level or per-section booleans named goal*/ok/passed."""
    found: dict[str, bool] = {}
    if not isinstance(report, dict):
        return found
    for key, value in report.items():
        if isinstance(value, bool) and (key.startswith("goal") or key in {"ok", "passed"}):
            found[key] = value
        elif isinstance(value, dict):
            found.update({f"{key}.{k}": v for k, v in goals(value).items() if "." not in k})
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--only", action="append", metavar="NAME", help="run only this benchmark (repeatable)"
    )
    parser.add_argument("--full", action="store_true", help="run the others with their defaults, not --quick")
    parser.add_argument("--list", action="store_true", help="list the benchmarks found and exit")
    parser.add_argument("--dry-run", action="store_true", help="print the commands without running them")
    args = parser.parse_args(argv)
    names = discover()
    if args.list:
        print("\n".join(names))
        return 0
    unknown = sorted(set(args.only or ()) - set(names))
    if unknown:
        parser.error(f"no benchmark named {', '.join(unknown)}; found: {', '.join(names)}")
    selected = [n for n in names if not args.only or n in args.only]
    commands = {name: command(name, args.full) for name in selected}
    if args.dry_run:
        for argv_ in commands.values():
            print(" ".join(["python", *argv_[1:]]))
        return 0
    RESULTS.mkdir(parents=True, exist_ok=True)
    outcomes = [run(name, argv_) for name, argv_ in commands.items()]
    (RESULTS / "summary.json").write_text(json.dumps(outcomes, indent=2, default=str) + "\n")
    print("\nSummary")
    failed = False
    for outcome in outcomes:
        verdicts = {k: v for report in outcome["reports"].values() for k, v in goals(report).items()}
        ok = outcome["exit_code"] == 0 and all(verdicts.values())
        failed |= not ok
        stated = (
            ", ".join(f"{k}={'met' if v else 'MISSED'}" for k, v in verdicts.items()) or "no goals stated"
        )
        print(
            f"  {outcome['name']:<14} {'ok  ' if ok else 'FAIL'} exit {outcome['exit_code']:<3}"
            f" {outcome['seconds']:7.1f} s  {', '.join(outcome['reports']) or 'no JSON report'}  ({stated})"
        )
    print(f"\nSummary JSON: {RESULTS / 'summary.json'}")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
