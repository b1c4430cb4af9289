import pathlib

from benchmarks import ab, cold_ab, data_path


def test_render_shows_overhead_share_and_one_stage_ratios_per_side() -> None:
    sides = (
        ab.Side("A (baseline)", "aaa old", pathlib.Path("a"), pathlib.Path("pa")),
        ab.Side("B (this checkout)", "bbb new", pathlib.Path("b"), pathlib.Path("pb")),
    )
    found = {
        "A (baseline)": cold_ab.Measured(
            cold=[data_path.Cost(5.0, 2.5, 1.0, 0), data_path.Cost(4.0, 2.0, 1.0, 0)],
            one_cold=[0.6],
            one_full=[0.2],
            one_snapshot=[0.03],
        ),
        "B (this checkout)": cold_ab.Measured(
            cold=[data_path.Cost(3.0, 1.2, 1.0, 0)],
            one_cold=[0.4],
            one_full=[0.2],
            one_snapshot=[0.04],
        ),
    }

    text = cold_ab.render(sides, found, 1.0, n=1000, reps=2)

    assert "| cold run, N=1,000: wall | 5.00 s | 3.00 s | 0.60 |" in text
    assert "per-stage overhead (wall − lower bound) ÷ N | 4.0 ms | 2.0 ms | 0.50 |" in text
    assert "scheduler process CPU (share of wall) | 2.50 s (50%) | 1.20 s (40%) | 0.48 |" in text
    assert "cold ÷ full-check no-op (goal ≤ 2) | 3.00 | 2.00 |" in text
    assert "cold ÷ snapshot no-op (goal ≤ 2) | 20.0 | 10.0 |" in text
