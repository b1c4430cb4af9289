import pytest

from benchmarks import report
from benchmarks import results as R

PY, CMD, DVC, LOW = R.Tool.PIVOT_PYTHON, R.Tool.PIVOT_CMD, R.Tool.DVC, R.Tool.LOWER_BOUND


def _results() -> R.Results:
    out = R.Results(meta={"date": "2025-01-02", "host": "box", "command": "just bench --dvc"})
    out.sizes = [176]
    out.tools = [PY, CMD, DVC, LOW]
    out.grid = {
        (176, R.Measure.COLD, PY): R.Sample((1.5, 1.4, 1.6), reruns=176),
        (176, R.Measure.COLD, DVC): R.Sample((77.0,), reruns=176),
        (176, R.Measure.COLD, LOW): R.Sample((0.05, 0.05, 0.06)),
        (176, R.Measure.NOOP, PY): R.Sample((0.25, 0.24, 0.3), reruns=0),
        (176, R.Measure.NOOP, CMD): R.Sample((0.45, 0.44, 0.5), reruns=0),
        (176, R.Measure.NOOP, DVC): R.Sample((2.4, 2.3, 2.5), reruns=0),
        (176, R.Measure.STATUS, PY): "failed: `pivot status` | exit 1",
        (176, R.Measure.OVERHEAD, PY): R.Sample((0.008,)),
        (176, R.Measure.LOCK_WRITTEN, DVC): R.Sample((5 * 1024 * 1024,), R.Unit.BYTES),
    }
    out.extras = {
        R.Extra.SPEEDUP: R.Sample((1.5, 1.6, 1.7), R.Unit.RATIO),
        R.Extra.HASH_RATIO: R.Sample((0.9,), R.Unit.RATIO),
        R.Extra.HELP: R.Sample((0.15,)),
        R.Extra.IMPORT_HEAVY: "none",
        R.Extra.READ: R.Sample((3 * 2**30,), R.Unit.BYTES_PER_SECOND),
    }
    out.notes = ["something odd"]
    out.profiles = [("`pivot run` no-op", "  10 0.1 main.py:1(main)")]
    return out


@pytest.mark.parametrize(
    ("value", "unit", "text"),
    [
        (0.123, R.Unit.SECONDS, "123 ms"),
        (0.0042, R.Unit.SECONDS, "4.2 ms"),
        (2.345, R.Unit.SECONDS, "2.35 s"),
        (154.2, R.Unit.SECONDS, "154 s"),
        (512, R.Unit.BYTES, "512 B"),
        (5 * 1024 * 1024, R.Unit.BYTES, "5.0 MiB"),
        (1.8, R.Unit.RATIO, "1.80×"),
        (31.25, R.Unit.RATIO, "31.2×"),
        (3 * 2**30, R.Unit.BYTES_PER_SECOND, "3.00 GiB/s"),
    ],
)
def test_numbers_are_printed_in_a_readable_unit(value: float, unit: R.Unit, text: str) -> None:
    assert report.number(value, unit) == text


def test_sample_shows_median_range_and_stages_run() -> None:
    cell = R.Sample((0.25, 0.24, 0.3), reruns=0)

    assert report.sample(cell, show_reruns=True) == "250 ms (240–300) · ran 0"
    assert report.sample(R.Sample((1.0,))) == "1.00 s"


def _verdicts() -> dict[str, report.Verdict]:
    out = _results()
    verdicts = [report.judge(t, out) for t in report.targets(cores=2)]
    return {v.target: v for v in verdicts}


def test_targets_met_are_marked_met() -> None:
    verdicts = _verdicts()

    assert verdicts["no-op `pivot run`, N=176, pipeline.py"].status == "met"
    assert verdicts["cold: `dvc repro` ÷ `pivot run`, N=176, pipeline.py"].met is True
    assert verdicts["hash throughput ÷ raw read"].met is True
    assert verdicts["`pivot --help`"].met is True


def test_missed_targets_say_by_how_much() -> None:
    verdicts = _verdicts()

    slow = verdicts["no-op `pivot run`, N=176, pivot.yaml cmd"]
    assert slow.met is False
    assert slow.status == "**missed** by 150 ms (1.5× the 300 ms limit)"
    ratio = verdicts["no-op: `dvc repro` ÷ `pivot run`, N=176, pipeline.py"]
    assert ratio.measured == "9.60×"
    assert ratio.status == "**missed**: 9.60× vs 10.0× needed (4% short)"
    speedup = verdicts["parallel speedup on 2 cores"]
    assert speedup.status == "**missed**: 1.60× vs 1.80× needed (11% short)"


def test_unmeasured_targets_say_why() -> None:
    verdicts = _verdicts()

    assert verdicts["no-op `pivot run`, N=1000"].status.startswith("not measured:")
    assert "--full" in verdicts["no-op `pivot run`, N=1000"].status
    assert verdicts["`pivot status`, N=176 (DESIGN §7: well under 0.5 s)"].met is None


def test_heavy_imports_verdict() -> None:
    out = _results()
    assert report.judge_imports(out).met is True

    out.extras[R.Extra.IMPORT_HEAVY] = "networkx, lmdb"
    verdict = report.judge_imports(out)
    assert verdict.met is False
    assert "networkx, lmdb" in verdict.status


def test_render_has_targets_tables_notes_and_profiles() -> None:
    text = report.render(_results(), cores=2)

    assert text.startswith("# Pivot benchmark — 2025-01-02 on box")
    assert "Reproduce: `just bench --dvc`" in text
    assert "## N = 176 stages" in text
    assert (
        "| measure | Pivot (pipeline.py) | Pivot (pivot.yaml cmd) | DVC | lower bound "
        + "| DVC ÷ Pivot (pipeline.py) | DVC ÷ Pivot (pivot.yaml cmd) |"
    ) in text
    assert "| no-op run | 250 ms (240–300) · ran 0 | 450 ms (440–500) · ran 0 | 2.40 s " in text
    assert "| 9.60× | 5.33× |" in text
    assert "failed: `pivot status` \\| exit 1" in text
    assert "- something odd" in text
    assert "## Profile: `pivot run` no-op" in text
    assert "| raw read throughput | 3.00 GiB/s |" in text


def test_render_without_dvc_has_no_ratio_columns() -> None:
    out = _results()
    out.tools = [PY, LOW]
    out.grid = {k: v for k, v in out.grid.items() if k[2] is not DVC}

    text = report.render(out, cores=2)

    assert "DVC ÷" not in text
    assert "not measured: DVC not measured (run with --dvc)" in text
