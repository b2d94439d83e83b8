"""How the project layer's third-party packages are installed for Lambda (arm64, CPython).

Plain Python without CDK imports, so that tools (the package-size benchmark) install exactly
what the synth bundles without starting the CDK runtime.
"""

from __future__ import annotations

import sys
from pathlib import Path

PYTHON_VERSION = "3.13"
PIP_PLATFORM = "manylinux2014_aarch64"


def pip_install_command(requirements: Path, target: Path) -> list[str]:
    return [
        sys.executable,
        "-m",
        "pip",
        "install",
        "--quiet",
        "--disable-pip-version-check",
        "--no-compile",
        "-r",
        str(requirements),
        "--target",
        str(target),
        "--platform",
        PIP_PLATFORM,
        "--implementation",
        "cp",
        "--python-version",
        PYTHON_VERSION,
        "--only-binary=:all:",
    ]
