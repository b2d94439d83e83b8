"""Where the local stack's code and data are: the Lambda code on sys.path, the data folder."""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_DATA_DIR = ROOT / ".local"
# The walkthrough `make run` prints; the README shows the same text (a test compares them).
WALKTHROUGH = ROOT / "scripts" / "devstack" / "walkthrough.sh"
CODE_PATHS = [
    ROOT / "layers" / "patronus" / "python",
    ROOT / "functions" / "api",
    ROOT / "functions" / "document_events",
    ROOT / "functions" / "db_migrate",
    ROOT / "functions" / "upload_expiry",
]
# Sample events of the functions (sam local invoke takes them too).
EVENTS = ROOT / "events"


def add_code_paths() -> None:
    for path in reversed(CODE_PATHS):
        if str(path) not in sys.path:
            sys.path.insert(0, str(path))


def local_data_dir(environ: Mapping[str, str] = os.environ) -> Path:
    """The local stack's data folder: ``PATRONUS_DATA_DIR`` if set (relative to the current
    folder), else ``.local`` in the repository. ``make run`` and the token tool share it."""
    configured = environ.get("PATRONUS_DATA_DIR", "").strip()
    return Path(configured) if configured else DEFAULT_DATA_DIR
