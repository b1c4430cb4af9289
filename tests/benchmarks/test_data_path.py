import os
import pathlib
import sys
from collections.abc import Callable

import pytest

from benchmarks import data_path, measure, preconditions
from tests.benchmarks.test_preconditions import FakeTime

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


def test_dir_only_measures_the_directory_output_rep_by_rep_and_nothing_else(
    tmp_path: pathlib.Path,
) -> None:
    settings = data_path.Settings(files=30, reps=2, dir_only=True)

    report = data_path.run(tmp_path, settings, None, lambda _: None)

    assert report.notes == []
    assert [r.what for r in report.rows] == [
        "stage writing 30 files: caching time (writer's own time)"
    ]
    assert report.rows[0].pivot.count("–") == 1  # median (min–max) of two reps
    assert "median of 2" in report.rows[0].note
    assert report.rows[0].dvc == "—"
    [target] = report.targets
    assert target.met is not None
    assert "per rep" in target.measured
    text = data_path.render(report, settings)
    assert "renamed aside" not in text
    assert "tracked steps" not in text


class Recorded:
    """What a recording driver saw at each call."""

    def __init__(self, root: pathlib.Path) -> None:
        self.root = root
        self.calls: list[tuple[str, str, bool, float]] = []
        """(tool, step, whether `data` existed, clock) per call."""
        self.markers: list[list[str]] = []
        """Every checkout marker alive anywhere under `root`, at each call."""


def _recording_driver(tool: str, seen: Recorded, clock: Callable[[], float]) -> data_path.Driver:
    def project(name: str) -> pathlib.Path:
        path = seen.root / "projects" / f"{tool}-{name}"
        path.mkdir(parents=True)
        return path

    def run(args: object, cwd: pathlib.Path) -> data_path.Cost:
        step = "checkout" if args == ("checkout",) else "add"
        seen.calls.append((tool, step, (cwd / "data").exists(), clock()))
        seen.markers.append(sorted(p.name for p in seen.root.rglob("*.marker")))
        if step == "checkout":
            (cwd / "data").mkdir()
            (cwd / "data" / f"{tool}{len(seen.calls):02d}.marker").write_text("")
        return data_path.Cost(1.0, 0.0, 0.0, 0)

    return data_path.Driver(project, run, "", "", (), ("add",), ("checkout",))


def _source(root: pathlib.Path) -> pathlib.Path:
    (root / "d").mkdir(parents=True)
    (root / "d" / "f").write_text("x")
    return root


def test_tracked_steps_alternate_the_tools_rep_by_rep(tmp_path: pathlib.Path) -> None:
    time = FakeTime(1000.0)
    seen = Recorded(tmp_path)
    drivers = {t: _recording_driver(t, seen, time.clock) for t in ("A", "B")}
    settings = data_path.Settings(tracked_reps=3, settle_seconds=0, ballast_mib=0)
    bench = data_path.Bench(tmp_path, settings, None, lambda _: None, clock=time.clock)

    steps = bench.tracked_all(drivers, _source(tmp_path / "source"), 3)

    checkouts = [(tool, had_data) for tool, step, had_data, _ in seen.calls if step == "checkout"]
    assert checkouts == [(t, False) for t in "ABBAAB"]
    adds = [tool for tool, step, _, _ in seen.calls if step == "add"]
    assert adds == ["A", "B", *"ABBAAB"]  # the first track, then the re-tracks alternating
    assert {tool: {s: len(v) for s, v in done.items()} for tool, done in steps.items()} == {
        t: {"track": 1, "retrack": 3, "checkout": 3} for t in "AB"
    }
    assert not (tmp_path / "projects" / "A-tracked").exists()


def test_no_workspace_is_deleted_between_the_timed_steps(tmp_path: pathlib.Path) -> None:
    _, seen, drivers, bench = _two_tools(tmp_path)

    bench.tracked_all(drivers, _source(tmp_path / "source"), 3)

    made = [
        f"{tool}{i:02d}.marker"
        for i, (tool, step, *_) in enumerate(seen.calls, 1)
        if step == "checkout"
    ]
    assert seen.markers[-1] == sorted(made[:-1])  # every earlier checkout still on disk
    assert list(tmp_path.rglob("*.marker")) == []  # and all deleted once the steps are done


def test_each_timed_command_follows_a_warm_up_of_its_own_project(
    tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, seen, drivers, bench = _two_tools(tmp_path)
    warmed: list[tuple[str, int]] = []
    monkeypatch.setattr(
        preconditions, "warm", lambda root: warmed.append((root.name, len(seen.calls)))
    )

    bench.tracked_all(drivers, _source(tmp_path / "source"), 2)

    assert warmed == [(f"{tool}-tracked", i) for i, (tool, *_) in enumerate(seen.calls)]


def _two_tools(
    tmp_path: pathlib.Path, *, settle_seconds: int = 0, skips_recent_inodes: bool | None = None
) -> tuple[FakeTime, Recorded, dict[str, data_path.Driver], data_path.Bench]:
    """Two recording tools and a bench on a fake clock (no ballast)."""
    time = FakeTime(1000.0)
    seen = Recorded(tmp_path)
    drivers = {t: _recording_driver(t, seen, time.clock) for t in ("A", "B")}
    settings = data_path.Settings(settle_seconds=settle_seconds, ballast_mib=0)
    bench = data_path.Bench(
        tmp_path,
        settings,
        None,
        lambda _: None,
        clock=time.clock,
        sleep=time.sleep,
        skips_recent_inodes=skips_recent_inodes,
    )
    return time, seen, drivers, bench


def _after_a_deletion(
    tmp_path: pathlib.Path, *, skips_recent_inodes: bool
) -> tuple[FakeTime, Recorded, dict[str, data_path.Driver], data_path.Bench]:
    """`_two_tools` with a 300 s settle, right after a deletion."""
    found = _two_tools(tmp_path, settle_seconds=300, skips_recent_inodes=skips_recent_inodes)
    found[3].deletions.remove(_source(tmp_path / "old-project"))
    return found


def test_timed_steps_wait_out_recent_deletions_where_they_slow_creation(
    tmp_path: pathlib.Path,
) -> None:
    time, seen, drivers, bench = _after_a_deletion(tmp_path, skips_recent_inodes=True)
    time.now += 100

    bench.tracked_all(drivers, _source(tmp_path / "source"), 1)

    # and again before the checkouts: the tools' first tracks may have deleted files
    assert time.slept == [200, 300]
    assert min(at for *_, at in seen.calls) >= 1300
    assert min(at for _, step, *_, at in seen.calls if step == "checkout") >= 1600
    assert "waited 200 s before the first track and 300 s before the first checkout" in (
        bench.report.settled
    )


def test_a_journaled_filesystem_needs_no_wait(tmp_path: pathlib.Path) -> None:
    time, _, drivers, bench = _after_a_deletion(tmp_path, skips_recent_inodes=False)

    bench.tracked_all(drivers, _source(tmp_path / "source"), 1)

    assert time.slept == []
    assert "no wait" in bench.report.settled


def test_summary_gives_median_ratios_and_each_rep_pair() -> None:
    steps = {
        "Pivot": {"track": [2.0], "retrack": [0.5, 0.4, 0.6], "checkout": [1.0, 2.0, 2.0]},
        "DVC": {"track": [3.0], "retrack": [3.0, 1.6, 3.0], "checkout": [4.0, 8.0, 6.0]},
    }

    rows, targets = data_path.summarize(steps, 20_000)

    checkout = next(r for r in rows if r.what.startswith("checkout"))
    assert checkout.pivot == "2.00 s (1.00 s–2.00 s)"
    assert checkout.note == "DVC ÷ Pivot 3.0× (per rep 3.0–4.0×)"
    assert [(t.goal.split(":")[0], t.measured, t.met) for t in targets] == [
        (
            "checkout of 20,000 files, copy mode (into an empty workspace)",
            "3.0× (6.00 s vs 2.00 s); per rep 3.0–4.0×",
            True,
        ),
        ("no-op re-track of 20,000 files", "6.0× (3.00 s vs 500.0 ms); per rep 4.0–6.0×", True),
    ]


def test_summary_without_dvc_measures_no_ratio() -> None:
    steps = {"Pivot": {"track": [2.0], "retrack": [0.5], "checkout": [1.0], "verify": [3.0]}}

    rows, targets = data_path.summarize(steps, 10)

    assert [r.dvc for r in rows] == ["—"] * 4
    assert [(t.measured, t.met) for t in targets] == [("DVC not measured", None)] * 2


def test_tracked_only_measures_the_tracked_steps_and_nothing_else(tmp_path: pathlib.Path) -> None:
    settings = data_path.Settings(
        files=30, tracked_reps=2, tracked_only=True, settle_seconds=0, ballast_mib=0
    )

    report = data_path.run(tmp_path, settings, None, lambda _: None)

    assert report.notes == []
    assert [r.what.split(" ")[0] for r in report.rows] == ["track", "no-op", "checkout", "checkout"]
    assert report.rows[1].pivot.count("–") == 1  # median (min–max) of two re-tracks
    assert [t.met for t in report.targets] == [None, None]
    assert not (tmp_path / "data-path").exists()


def test_render_states_the_conditions_of_the_tracked_steps() -> None:
    text = data_path.render(data_path.Report(), data_path.Settings(tracked_reps=7))

    assert "median (min–max) of 7" in text
    assert "renamed aside" in text
    assert "360 s" in text


def test_a_tracked_only_report_speaks_of_the_tracked_steps_alone() -> None:
    settings = data_path.Settings(reps=3, tracked_reps=5, tracked_only=True)

    text = data_path.render(data_path.Report(), settings)

    assert "median (min–max) of 5" in text
    assert "of 3" not in text
    assert "directory-output" not in text
