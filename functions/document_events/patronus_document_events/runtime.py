"""The document_events function's runtime: settings, connection and document service.

The handler loads it once from the environment; see :mod:`patronus.runtime` for the pattern
both functions follow.
"""

from __future__ import annotations

from patronus.runtime import Runtime

runtime = Runtime("document_events")
