"""``python -m benchmarks.web --help``."""

from __future__ import annotations

import sys

from benchmarks.web.main import main

sys.exit(main())
