import pathlib

from benchmarks import data_diff


def test_the_bench_diffs_a_generated_pair_and_checks_the_planted_changes(
    tmp_path: pathlib.Path,
) -> None:
    what, measured = data_diff.measure(tmp_path, 1)

    assert what.startswith("CSV pair: 1 MiB each")
    assert [row["diff"] for row in measured] == ["keyed (--key id)", "positional"]
    assert all(row["peak RSS"].endswith(" MiB") for row in measured)
    assert not (tmp_path / "diff-old.csv").exists()
