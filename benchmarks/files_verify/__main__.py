"""``python -m benchmarks.files_verify --help``."""

from __future__ import annotations

import sys

from benchmarks.files_verify.main import main

sys.exit(main())
