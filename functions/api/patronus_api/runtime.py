"""The API function's runtime: settings, connection and services of its execution environment.

The handler loads it once from the environment; routes ask it for a service. See
:mod:`patronus.runtime` for the pattern both functions follow.
"""

from __future__ import annotations

from patronus.runtime import Runtime

runtime = Runtime("api")
