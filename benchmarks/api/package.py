"""Deployment package sizes: the API function code and the project layer, zipped and unzipped.

The project layer is ``layers/patronus/python`` plus its pinned third-party packages
(``layers/patronus/requirements.txt``) as pip installs them for Lambda arm64 / Python 3.12.
The AWS-managed Powertools layer (Powertools, pydantic, the X-Ray SDK) is not counted.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import zipfile
from pathlib import Path
from typing import Any

from benchmarks.api.environment import ROOT
from stacks.packaging import pip_install_command

GOAL_BYTES = 5 * 1000 * 1000
SKIP = {"__pycache__", ".mypy_cache", ".pytest_cache"}


def _files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file() and not SKIP & set(p.relative_to(folder).parts))


def _sizes(folder: Path, zip_path: Path) -> dict[str, int]:
    files = _files(folder)
    with zipfile.ZipFile(zip_path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        for path in files:
            archive.write(path, path.relative_to(folder.parent if folder.name == "python" else folder))
    return {
        "files": len(files),
        "unzipped_bytes": sum(p.stat().st_size for p in files),
        "zipped_bytes": zip_path.stat().st_size,
    }


def _install_layer_requirements(target: Path) -> None:
    """Install the layer's third-party packages exactly as the CDK bundling does."""
    command = pip_install_command(ROOT / "layers" / "patronus" / "requirements.txt", target)
    result = subprocess.run(command, capture_output=True, text=True, timeout=300, check=False)
    if result.returncode != 0:
        raise RuntimeError(f"pip could not install the layer requirements:\n{result.stderr[-2000:]}")


def measure() -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="patronus-package-") as folder:
        work = Path(folder)
        function_dir = work / "function"
        shutil.copytree(ROOT / "functions" / "api", function_dir, ignore=shutil.ignore_patterns(*SKIP))
        layer_dir = work / "layer" / "python"
        shutil.copytree(
            ROOT / "layers" / "patronus" / "python", layer_dir, ignore=shutil.ignore_patterns(*SKIP)
        )
        _install_layer_requirements(layer_dir)
        function = _sizes(function_dir, work / "function.zip")
        layer = _sizes(layer_dir, work / "layer.zip")
    total = function["unzipped_bytes"] + layer["unzipped_bytes"]
    return {
        "function": function,
        "layer": layer,
        "total_unzipped_bytes": total,
        "total_zipped_bytes": function["zipped_bytes"] + layer["zipped_bytes"],
        "goal": "function code + project layer under 5 MB unzipped (Powertools layer excluded)",
        "goal_met": total < GOAL_BYTES,
    }
