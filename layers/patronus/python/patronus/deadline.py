"""The time one invocation has left, so that no dependency call outlives the caller's patience.

API Gateway gives up on an integration after 29 s and answers 504 itself, with no Retry-After.
Each invocation starts the deadline from the Lambda context (capped at API Gateway's limit, less
a margin to answer); the storage and the database bound every call by what is left, and refuse
an attempt that could not finish in time with :class:`~patronus.errors.Unavailable`, which the
API answers 503 with Retry-After while the client is still listening.

One invocation at a time runs in an execution environment, so the deadline is module state.
"""

from __future__ import annotations

import math
import time

from patronus.errors import Unavailable

API_GATEWAY_TIMEOUT_SECONDS = 29.0
# Kept back to build and send the 503 once the last dependency call has given up.
ANSWER_MARGIN_SECONDS = 1.0


class Deadline:
    def __init__(self) -> None:
        self._at: float | None = None

    def start(self, remaining_seconds: float, *, cap: float = API_GATEWAY_TIMEOUT_SECONDS) -> None:
        """Begin an invocation that has ``remaining_seconds`` (the Lambda context's) to answer."""
        self._at = time.monotonic() + min(remaining_seconds, cap) - ANSWER_MARGIN_SECONDS

    def clear(self) -> None:
        self._at = None

    def remaining(self) -> float:
        """Seconds left for dependency calls; infinite outside an invocation (scripts, tests)."""
        return math.inf if self._at is None else self._at - time.monotonic()

    def require(self, seconds: float, what: str) -> None:
        """Refuse to start a call to ``what`` that may take ``seconds`` when less is left."""
        if self.remaining() < seconds:
            raise Unavailable(f"not enough time left to wait for {what}", retry_after=2)

    def bound(self, seconds: float) -> float:
        """``seconds``, or less if less is left (never below 0.1 s: a socket needs a timeout)."""
        return max(0.1, min(seconds, self.remaining()))


deadline = Deadline()
