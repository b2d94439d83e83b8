"""The upload_expiry function's runtime: settings, connection and document service.

The handler loads it once from the environment; see :mod:`patronus.runtime` for the pattern
every function follows.
"""

from __future__ import annotations

from patronus.runtime import Runtime

runtime = Runtime("upload_expiry")
