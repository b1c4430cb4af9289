import os
import pathlib
import sys

import pytest

from benchmarks import data_path, measure

BURN = "import sys; sum(range(3_000_000)); data = bytearray(64 << 20); sys.exit({code})"


def test_cost_separates_the_process_own_cpu_and_memory(tmp_path: pathlib.Path) -> None:
    script = tmp_path / "burn.py"
    script.write_text(BURN.format(code=0))
    env = dict(os.environ)

    inprocess = data_path.cost([str(script)], tmp_path, env, inprocess=True)
    child = data_path.cost([sys.executable, str(script)], tmp_path, env)

    assert inprocess.self_cpu > 0
    assert inprocess.peak_kib >= 64 << 10
    assert child.children_cpu > 0
    assert child.peak_kib >= 64 << 10
    assert not (tmp_path / ".bench-cost.json").exists()


def test_cost_raises_when_the_command_fails(tmp_path: pathlib.Path) -> None:
    script = tmp_path / "fail.py"
    script.write_text(BURN.format(code=3))

    with pytest.raises(measure.CommandFailedError):
        data_path.cost([str(script)], tmp_path, dict(os.environ), inprocess=True)


def test_render_counts_targets_and_lists_measures() -> None:
    report = data_path.Report(
        rows=[data_path.Row("checkout", "1.00 s", "4.00 s", "DVC ÷ Pivot 4.0×")],
        targets=[
            data_path.Target("checkout ≥ 3×", "4.0×", True),
            data_path.Target("rss ≤ 150 MiB", "200 MiB", False),
            data_path.Target("re-track ≥ 5×", "DVC not measured", None),
        ],
    )

    text = data_path.render(report, data_path.Settings())

    assert "1 met, 1 missed" in text
    assert "| rss ≤ 150 MiB | 200 MiB | **missed** |" in text
    assert "| re-track ≥ 5× | DVC not measured | not measured |" in text
    assert "| checkout | 1.00 s | 4.00 s | DVC ÷ Pivot 4.0× |" in text


def test_cold_only_measures_the_cold_runs_and_nothing_else(tmp_path: pathlib.Path) -> None:
    settings = data_path.Settings(sizes=(4, 8), reps=2, cold_only=True)

    report = data_path.run(tmp_path, settings, None, lambda _: None)

    assert [r.what.split(":")[0] for r in report.rows] == ["cold run, N=4", "cold run, N=8"]
    assert all("median of 2" in r.note for r in report.rows)
    assert len(report.targets) == 3
    assert all(t.met is not None for t in report.targets)
    assert report.notes == []
