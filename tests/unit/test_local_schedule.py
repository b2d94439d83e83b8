"""The local stand-in for the upload expiry's EventBridge schedule."""

from __future__ import annotations

import threading
import time

import pytest

from scripts.devstack.schedule import LocalSchedule


def test_it_runs_every_interval_and_goes_on_after_a_failure() -> None:
    # Given a job whose first run fails
    calls: list[float] = []
    enough = threading.Event()

    def job() -> None:
        calls.append(time.monotonic())
        if len(calls) >= 3:
            enough.set()
        if len(calls) == 1:
            raise RuntimeError("the database is down")

    # When it is scheduled every 20 ms
    schedule = LocalSchedule("job", 0.02, job).start()
    try:
        assert enough.wait(5)
    finally:
        schedule.stop()
    # Then it ran again after the failure, and no more once stopped
    count = len(calls)
    time.sleep(0.1)
    assert len(calls) == count >= 3


def test_stop_ends_the_wait_at_once() -> None:
    # Given a job scheduled every hour
    schedule = LocalSchedule("hourly", 3600, lambda: None).start()
    # When it is stopped before its first run
    started = time.monotonic()
    schedule.stop()
    # Then it stops without waiting for the hour, having run nothing
    assert time.monotonic() - started < 5 and schedule.runs == 0


def test_an_interval_must_be_positive() -> None:
    with pytest.raises(ValueError, match="positive"):
        LocalSchedule("job", 0, lambda: None)
