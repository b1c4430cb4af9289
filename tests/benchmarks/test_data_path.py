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


def _recording_driver(
    tool: str, root: pathlib.Path, calls: list[tuple[str, str, bool]]
) -> data_path.Driver:
    def project(name: str) -> pathlib.Path:
        path = root / f"{tool}-{name}"
        path.mkdir(parents=True)
        return path

    def run(args: object, cwd: pathlib.Path) -> data_path.Cost:
        step = "checkout" if args == ("checkout",) else "add"
        calls.append((tool, step, (cwd / "data").exists()))
        if step == "checkout":
            (cwd / "data").mkdir()
        return data_path.Cost(1.0, 0.0, 0.0, 0)

    return data_path.Driver(project, run, "", "", (), ("add",), ("checkout",))


def test_tracked_steps_alternate_the_tools_rep_by_rep(tmp_path: pathlib.Path) -> None:
    source = tmp_path / "source"
    (source / "d").mkdir(parents=True)
    (source / "d" / "f").write_text("x")
    calls: list[tuple[str, str, bool]] = []
    drivers = {t: _recording_driver(t, tmp_path / "projects", calls) for t in ("A", "B")}
    bench = data_path.Bench(tmp_path, data_path.Settings(reps=3), None, lambda _: None)

    steps = bench.tracked_all(drivers, source, 3)

    checkouts = [(tool, had_data) for tool, step, had_data in calls if step == "checkout"]
    assert checkouts == [(t, False) for t in "ABBAAB"]
    adds = [tool for tool, step, _ in calls if step == "add"]
    assert adds == ["A", "B", *"ABBAAB"]  # the first track, then the re-tracks alternating
    assert {tool: {s: len(v) for s, v in done.items()} for tool, done in steps.items()} == {
        t: {"track": 1, "retrack": 3, "checkout": 3} for t in "AB"
    }
    assert not (tmp_path / "projects" / "A-tracked").exists()
