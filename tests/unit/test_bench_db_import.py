"""The import benchmark's figure: the median of at least five pairwise ratios, with the load."""

from __future__ import annotations

from pathlib import Path

from benchmarks.db_import import DEFAULT_ROUNDS, Measurements, _result, table


def test_the_figure_is_the_median_of_five_alternated_pairs_with_the_load_recorded(tmp_path: Path) -> None:
    # Given five pairs measured on a busy machine, one of them slowed down for db_import only
    dump = tmp_path / "dump.sql"
    dump.write_bytes(b"x" * 1024)
    measured = Measurements(
        client_s=[20.0, 21.0, 20.0, 22.0, 20.0],
        import_s=[13.0, 14.0, 30.0, 14.0, 12.5],
        ratios=[20 / 13, 21 / 14, 20 / 30, 22 / 14, 20 / 12.5],
        load=[{"before": 1.0, "after": 1.2}] * 4 + [{"before": 6.5, "after": 7.0}],
    )
    # When the result is built
    result = _result(dump, {}, 1.0, 2, 5, measured, private_server=True)
    # Then the ratio is the median of the pairwise ratios (the slow pair does not decide it), the
    # pairs alternate which load goes first, and the machine load around each pair is kept
    assert DEFAULT_ROUNDS >= 5
    assert result["ratio"] == round(20 / 13, 2)
    assert result["ratio_range"] == [0.67, 1.6]
    assert result["runs"]["first"] == ["client", "db_import", "client", "db_import", "client"]
    assert result["runs"]["load_average_1m"][4] == {"before": 6.5, "after": 7.0}
    assert result["machine_load_1m"]["max"] == 7.0
    assert "median of 5 pairs" in table({**result, "verify": {"equal": True, "rows": 0, "seconds": 0.0}})
