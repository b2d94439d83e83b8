"""The operator tools' toolkit: exit codes, errors, atomic reports, progress, sizes and times."""

from __future__ import annotations

import argparse
import io
import json
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from botocore.exceptions import ClientError, EndpointConnectionError, NoCredentialsError

from scripts.operator_tools import toolkit


def test_a_report_is_written_as_json_and_replaces_the_previous_one(tmp_path: Path) -> None:
    # Given an earlier report
    path = tmp_path / "reports" / "verify.json"
    toolkit.write_report(path, {"run": 1})
    # When a new one is written, with values JSON does not know
    toolkit.write_report(path, {"run": 2, "where": Path("/mnt/share"), "é": "ü"})
    # Then the file holds the new report only, and no temporary file is left behind
    assert json.loads(path.read_text(encoding="utf-8")) == {"run": 2, "where": "/mnt/share", "é": "ü"}
    assert [p.name for p in path.parent.iterdir()] == ["verify.json"]


def test_a_report_that_cannot_be_completed_leaves_the_previous_one_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given an earlier report, and a disk that fails when the new one is put in place
    path = tmp_path / "report.json"
    toolkit.write_report(path, {"run": 1})

    def fails(*_args: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(toolkit.os, "replace", fails)
    # When a new report is written
    with pytest.raises(toolkit.ToolError, match=r"cannot write the report .*No space left on device"):
        toolkit.write_report(path, {"run": 2})
    # Then the earlier report is intact and the half-done temporary file is gone
    assert json.loads(path.read_text(encoding="utf-8")) == {"run": 1}
    assert [p.name for p in tmp_path.iterdir()] == ["report.json"]


def test_no_report_path_writes_nothing(tmp_path: Path) -> None:
    toolkit.write_report(None, {"ignored": True})
    toolkit.write_report("", {"ignored": True})
    assert list(tmp_path.iterdir()) == []


def test_a_report_in_an_impossible_place_is_an_operator_error(tmp_path: Path) -> None:
    # Given a path below a regular file
    blocker = tmp_path / "file"
    blocker.write_text("x")
    # Then writing there is a ToolError naming the report, not a traceback
    with pytest.raises(toolkit.ToolError, match="cannot write the report"):
        toolkit.write_report(blocker / "report.json", {})


@pytest.mark.parametrize(
    ("count", "shown"),
    [
        (0, "0 B"),
        (1023, "1023 B"),
        (1024, "1.0 KiB"),
        (1536, "1.5 KiB"),
        (5 * 1024**3, "5.0 GiB"),
        (1024**4, "1.0 TiB"),
        (3 * 1024**5, "3072.0 TiB"),
    ],
)
def test_human_bytes(count: int, shown: str) -> None:
    assert toolkit.human_bytes(count) == shown


def test_times_are_iso_8601_in_utc() -> None:
    paris = timezone(timedelta(hours=1))
    assert toolkit.iso(datetime(2026, 12, 3, 10, 30, 5, 123, tzinfo=paris)) == "2026-12-03T09:30:05Z"
    now = datetime.fromisoformat(toolkit.iso().replace("Z", "+00:00"))
    assert abs((now - datetime.now(UTC)).total_seconds()) < 5


def test_positive_int() -> None:
    assert toolkit.positive_int("3") == 3
    with pytest.raises(argparse.ArgumentTypeError):
        toolkit.positive_int("0")


def test_progress_flags_and_bars() -> None:
    # Given the shared flags
    parser = argparse.ArgumentParser()
    toolkit.add_progress_arguments(parser)
    # Then no flag means automatic, and each flag forces its choice
    assert parser.parse_args([]).progress is None
    assert parser.parse_args(["--progress"]).progress is True
    assert parser.parse_args(["--no-progress"]).progress is False
    # And a bar is off when asked, on when asked (bytes scaled in KiB, MiB...)
    with toolkit.progress(desc="off", total=10, enabled=False) as bar:
        assert bar.disable
    with toolkit.progress(desc="on", total=2048, enabled=True, file=io.StringIO()) as bar:
        bar.update(2048)
        assert not bar.disable and bar.unit_scale and bar.unit_divisor == 1024


def _raises(error: BaseException) -> int:
    raise error


@pytest.mark.parametrize(
    ("error", "code", "message"),
    [
        (toolkit.ToolError("the dump x.sql does not exist"), 2, "error: the dump x.sql does not exist"),
        (KeyboardInterrupt(), 130, "interrupted"),
        (NoCredentialsError(), 2, "error: no AWS credentials found"),
        (
            ClientError({"Error": {"Code": "AccessDenied", "Message": "no"}}, "HeadBucket"),
            2,
            "error: AWS refused HeadBucket: AccessDenied: no",
        ),
        (EndpointConnectionError(endpoint_url="http://127.0.0.1:1"), 2, "error: Could not connect"),
    ],
)
def test_run_maps_errors_to_exit_codes_and_one_line(error: BaseException, code: int, message: str) -> None:
    # When a tool's main raises
    err = io.StringIO()
    assert toolkit.run(lambda _argv: _raises(error), [], err=err) == code
    # Then one line says what happened, without a traceback
    assert err.getvalue().startswith(message) and err.getvalue().count("\n") == 1


def test_run_returns_the_tools_exit_code_and_lets_bugs_through() -> None:
    assert toolkit.run(lambda argv: len(argv or ()), ["a", "b"]) == 2
    with pytest.raises(ZeroDivisionError):
        toolkit.run(lambda _argv: 1 // 0)


def test_exit_codes_are_the_documented_ones() -> None:
    # docs/migration.md: 0 done or holds, 1 failed or does not hold, 2 usage error, 130 Ctrl-C
    codes = (toolkit.EXIT_OK, toolkit.EXIT_FAILED, toolkit.EXIT_USAGE, toolkit.EXIT_INTERRUPTED)
    assert codes == (0, 1, 2, 130)
