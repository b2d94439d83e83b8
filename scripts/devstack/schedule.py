"""A local stand-in for an EventBridge schedule: a daemon thread that calls one function every
``interval`` seconds until stopped. A failing run is logged and the next one comes as planned,
as a scheduled Lambda's failed invocation would be."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

log = logging.getLogger(__name__)


class LocalSchedule:
    """``run()`` every ``interval`` seconds (the first run one interval after ``start()``)."""

    def __init__(self, name: str, interval: float, run: Callable[[], object]) -> None:
        if interval <= 0:
            raise ValueError(f"{name}: the interval must be positive, not {interval}")
        self.name = name
        self.interval = interval
        self._run = run
        self._stopped = threading.Event()
        self._thread = threading.Thread(target=self._loop, name=f"schedule-{name}", daemon=True)
        self.runs = 0

    def start(self) -> LocalSchedule:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopped.set()
        if self._thread.is_alive():
            self._thread.join(timeout=self.interval + 5)

    def _loop(self) -> None:
        while not self._stopped.wait(self.interval):
            try:
                self._run()
            except Exception:  # the next run comes as planned
                log.exception("the scheduled %s failed", self.name)
            self.runs += 1
