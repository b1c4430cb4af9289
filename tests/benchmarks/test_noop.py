from benchmarks import noop


def test_single_stage_goal_is_held_against_the_full_check() -> None:
    out = noop.NoopResults()
    out.fast[("import", 0, "")] = 0.02
    out.full[("single", 1, "cold")] = 0.36
    out.full[("single", 1, "run")] = 0.20
    out.fast[("single", 1, "run")] = 0.02

    text = noop.render(out)

    assert (
        "| one trivial stage, cold end-to-end ÷ its full-check no-op (`--no-fast`) | 1.80 | ≤ 2 "
        + "| met |"
    ) in text
    assert "÷ its snapshot no-op, for comparison | 18.00 | — | — |" in text
