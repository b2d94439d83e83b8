"""Put the Lambda code (layer package and function folders) on sys.path, as Lambda does."""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CODE_PATHS = [
    ROOT / "layers" / "patronus" / "python",
    ROOT / "functions" / "api",
    ROOT / "functions" / "document_events",
    ROOT / "functions" / "db_migrate",
]


def add_code_paths() -> None:
    for path in reversed(CODE_PATHS):
        if str(path) not in sys.path:
            sys.path.insert(0, str(path))
