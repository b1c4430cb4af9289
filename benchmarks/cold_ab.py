"""`just bench --cold-ab REV`: cold runs of this checkout against commit REV, alternating.

Issue 18's cold-run targets (per-stage overhead, the scheduler process's share of the run) and
issue 15's one-stage cold run against the no-op, both sides in one run so that load on a shared
machine falls on both. Sides are chosen as in `--ab` (a worktree of REV, `PYTHONPATH`).
"""

import dataclasses
import pathlib
import shutil
import statistics
import sys
from collections.abc import Callable, Sequence

from benchmarks import ab, data_path, generate, measure, shape, tools

ONE_STAGE = (
    "from typing import Annotated\n\nfrom pivot import loaders, outputs\n"
    + "from pivot.pipeline import Pipeline\n\n\n"
    + "def one() -> Annotated[str, outputs.Out('out/one.txt', loaders.Text())]:\n"
    + "    return 'one'\n\n\npipeline = Pipeline('single')\npipeline.register(one)\n"
)


@dataclasses.dataclass
class Measured:
    """Per side: cold runs at N, the lower bound, and the one-stage timings."""

    cold: list[data_path.Cost] = dataclasses.field(default_factory=list[data_path.Cost])
    one_cold: list[float] = dataclasses.field(default_factory=list[float])
    one_full: list[float] = dataclasses.field(default_factory=list[float])
    one_snapshot: list[float] = dataclasses.field(default_factory=list[float])


def _median_cost(costs: Sequence[data_path.Cost]) -> data_path.Cost:
    return sorted(costs, key=lambda c: c.wall)[len(costs) // 2]


def measure_cold_ab(
    repo: pathlib.Path,
    rev: str,
    work: pathlib.Path,
    *,
    n: int,
    reps: int,
    log: Callable[[str], None] = print,
) -> str:
    described, tree = ab.baseline_tree(repo, rev, work)
    here = ab._git(repo, "log", "-1", "--format=%h %s")  # pyright: ignore[reportPrivateUsage]
    runs = work / "cold-ab-runs"
    shutil.rmtree(runs, ignore_errors=True)
    pivot = str(tools.pivot_executable())
    try:
        template = runs / "template"
        generate.write_project(shape.layered(n), generate.Form.PIVOT_PYTHON, template)
        lower = runs / "lower"
        generate.write_project(shape.layered(n), generate.Form.LOWER_BOUND, lower)
        one = runs / "one-template"
        (one / "out").mkdir(parents=True)
        (one / "pipeline.py").write_text(ONE_STAGE)
        sides = (
            ab.Side("A (baseline)", described, tree / "src", runs / "a"),
            ab.Side("B (this checkout)", here, repo / "src", runs / "b"),
        )
        found = {side.label: Measured() for side in sides}
        lower_walls: list[float] = []
        for rep in range(reps):
            order = sides if rep % 2 == 0 else tuple(reversed(sides))
            log(f"cold A/B: rep {rep + 1} of {reps}")
            env = order[0].env()
            lower_walls.append(data_path.cost([sys.executable, "lower_bound.py"], lower, env).wall)
            for side in order:
                got = found[side.label]
                shutil.rmtree(side.project, ignore_errors=True)
                shutil.copytree(template, side.project)
                measure.run((pivot, "init"), side.project, side.env())
                got.cold.append(
                    data_path.cost((pivot, "run", "-q"), side.project, side.env(), inprocess=True)
                )
                shutil.rmtree(side.project)
            for side in order:
                got = found[side.label]
                project = runs / f"one-{side.label[0]}"
                shutil.rmtree(project, ignore_errors=True)
                shutil.copytree(one, project)
                measure.run((pivot, "init"), project, side.env())
                got.one_cold.append(measure.timed((pivot, "run"), project, side.env()))
                for _ in range(2):  # the snapshot is recorded by a run that ran nothing
                    measure.run((pivot, "run"), project, side.env())
                got.one_full.append(measure.timed((pivot, "run", "--no-fast"), project, side.env()))
                got.one_snapshot.append(measure.timed((pivot, "run"), project, side.env()))
    finally:
        ab.remove_baseline_tree(repo, tree)
        shutil.rmtree(runs, ignore_errors=True)
    return render(sides, found, statistics.median(lower_walls), n=n, reps=reps)


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.0f} ms"


def render(
    sides: Sequence[ab.Side],
    found: dict[str, Measured],
    lower: float,
    *,
    n: int,
    reps: int,
) -> str:
    a, b = sides
    ma, mb = found[a.label], found[b.label]
    ca, cb = _median_cost(ma.cold), _median_cost(mb.cold)

    def overhead(c: data_path.Cost) -> float:
        return (c.wall - lower) / n

    def med(values: Sequence[float]) -> float:
        return statistics.median(values)

    rows = [
        (
            f"cold run, N={n:,}: wall",
            f"{ca.wall:.2f} s",
            f"{cb.wall:.2f} s",
            f"{cb.wall / ca.wall:.2f}",
        ),
        (
            f"cold run, N={n:,}: per-stage overhead (wall − lower bound) ÷ N",
            f"{overhead(ca) * 1000:.1f} ms",
            f"{overhead(cb) * 1000:.1f} ms",
            f"{overhead(cb) / overhead(ca):.2f}",
        ),
        (
            f"cold run, N={n:,}: scheduler process CPU (share of wall)",
            f"{ca.self_cpu:.2f} s ({ca.self_cpu / ca.wall:.0%})",
            f"{cb.self_cpu:.2f} s ({cb.self_cpu / cb.wall:.0%})",
            f"{cb.self_cpu / ca.self_cpu:.2f}",
        ),
        (
            f"cold run, N={n:,}: workers' CPU",
            f"{ca.children_cpu:.2f} s",
            f"{cb.children_cpu:.2f} s",
            f"{cb.children_cpu / ca.children_cpu:.2f}",
        ),
        (
            "one trivial stage: cold `pivot run`",
            _ms(med(ma.one_cold)),
            _ms(med(mb.one_cold)),
            f"{med(mb.one_cold) / med(ma.one_cold):.2f}",
        ),
        (
            "one trivial stage: no-op, full check (`--no-fast`)",
            _ms(med(ma.one_full)),
            _ms(med(mb.one_full)),
            f"{med(mb.one_full) / med(ma.one_full):.2f}",
        ),
        (
            "one trivial stage: no-op, snapshot",
            _ms(med(ma.one_snapshot)),
            _ms(med(mb.one_snapshot)),
            f"{med(mb.one_snapshot) / med(ma.one_snapshot):.2f}",
        ),
        (
            "one trivial stage: cold ÷ full-check no-op (goal ≤ 2)",
            f"{med(ma.one_cold) / med(ma.one_full):.2f}",
            f"{med(mb.one_cold) / med(mb.one_full):.2f}",
            "",
        ),
        (
            "one trivial stage: cold ÷ snapshot no-op (goal ≤ 2)",
            f"{med(ma.one_cold) / med(ma.one_snapshot):.1f}",
            f"{med(mb.one_cold) / med(mb.one_snapshot):.1f}",
            "",
        ),
    ]
    runs = ", ".join(f"{c.wall:.2f}" for c in ma.cold), ", ".join(f"{c.wall:.2f}" for c in mb.cold)
    return "\n".join(
        [
            f"- A: `{a.revision}`",
            f"- B: `{b.revision}`",
            f"- project: layered, N={n:,} trivial stages (pipeline.py), lower bound (the stage "
            + f"bodies in one plain Python process) {lower * 1000:.0f} ms; {reps} cold runs per "
            + "side alternating A B / B A, median by wall (A: "
            + f"{runs[0]} s; B: {runs[1]} s); one-stage timings: medians of {reps}",
            "- scheduler process CPU: user + system time of the `pivot` process itself "
            + "(its threads included, workers excluded)",
            "",
            "| measure | A | B | B ÷ A |",
            "|---|---|---|---|",
            *(f"| {what} | {va} | {vb} | {ratio} |" for what, va, vb, ratio in rows),
        ]
    )
