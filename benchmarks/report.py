import dataclasses
import enum
from collections.abc import Callable

from benchmarks import results

R = results
TIME_MEASURES = (
    R.Measure.COLD,
    R.Measure.NOOP,
    R.Measure.STATUS,
    R.Measure.LEAF,
    R.Measure.HELPER,
)
RERUN_MEASURES = (R.Measure.COLD, R.Measure.NOOP, R.Measure.LEAF, R.Measure.HELPER)


def _scale(unit: R.Unit, value: float) -> tuple[float, str, int]:
    """(divisor, suffix, decimals) that print `value` readably."""
    magnitude = abs(value)
    match unit:
        case R.Unit.SECONDS:
            if magnitude >= 100:
                return 1.0, "s", 0
            if magnitude >= 1:
                return 1.0, "s", 2
            if magnitude >= 0.01:
                return 1e-3, "ms", 0
            return 1e-3, "ms", 1
        case R.Unit.BYTES:
            for divisor, suffix in ((1 << 30, "GiB"), (1 << 20, "MiB"), (1 << 10, "KiB")):
                if magnitude >= divisor:
                    return float(divisor), suffix, 1
            return 1.0, "B", 0
        case R.Unit.BYTES_PER_SECOND:
            if magnitude >= 1 << 30:
                return float(1 << 30), "GiB/s", 2
            return float(1 << 20), "MiB/s", 0
        case R.Unit.RATIO:
            return 1.0, "×", 2 if magnitude < 10 else 1


def number(value: float, unit: R.Unit) -> str:
    divisor, suffix, decimals = _scale(unit, value)
    gap = "" if suffix == "×" else " "
    return f"{value / divisor:.{decimals}f}{gap}{suffix}"


def sample(cell: R.Sample, *, show_reruns: bool = False) -> str:
    """`median (min–max)` in one unit, plus how many stages ran when asked."""
    divisor, suffix, decimals = _scale(cell.unit, cell.median)
    gap = "" if suffix == "×" else " "
    text = f"{cell.median / divisor:.{decimals}f}{gap}{suffix}"
    if len(cell.values) > 1:
        text += f" ({cell.low / divisor:.{decimals}f}–{cell.high / divisor:.{decimals}f})"
    if show_reruns and cell.reruns is not None:
        text += f" · ran {cell.reruns}"
    return text


def cell(value: R.Cell | None, *, show_reruns: bool = False) -> str:
    if value is None:
        return "—"
    if isinstance(value, str):
        return value.replace("|", "\\|")
    return sample(value, show_reruns=show_reruns)


def ratio(numerator: R.Sample | None, denominator: R.Sample | None) -> str:
    if numerator is None or denominator is None or denominator.median <= 0:
        return "—"
    return number(numerator.median / denominator.median, R.Unit.RATIO)


class Bound(enum.StrEnum):
    AT_MOST = "<"
    AT_LEAST = "≥"


@dataclasses.dataclass(frozen=True, slots=True)
class Target:
    """One target from issue 6 and how to read its value from the results."""

    text: str
    bound: Bound
    limit: float
    unit: R.Unit
    value: Callable[[R.Results], float | str]
    """The median measured value, or why there is none."""


@dataclasses.dataclass(frozen=True, slots=True)
class Verdict:
    target: str
    measured: str
    status: str
    met: bool | None


def judge(target: Target, out: R.Results) -> Verdict:
    value = target.value(out)
    if isinstance(value, str):
        return Verdict(target.text, "—", f"not measured: {value}", None)
    shown = number(value, target.unit)
    limit = number(target.limit, target.unit)
    if target.bound is Bound.AT_MOST:
        if value < target.limit:
            return Verdict(target.text, shown, "met", True)
        over = value / target.limit if target.limit else float("inf")
        return Verdict(
            target.text,
            shown,
            f"**missed** by {number(value - target.limit, target.unit)} "
            + f"({over:.1f}× the {limit} limit)",
            False,
        )
    if value >= target.limit:
        return Verdict(target.text, shown, "met", True)
    short = 1 - value / target.limit
    return Verdict(
        target.text, shown, f"**missed**: {shown} vs {limit} needed ({short:.0%} short)", False
    )


def _median(
    n: int, measure: R.Measure, tool: R.Tool, flag: str = ""
) -> Callable[[R.Results], float | str]:
    def read(out: R.Results) -> float | str:
        got = out.grid.get((n, measure, tool))
        if isinstance(got, R.Sample):
            return got.median
        return got or f"{tool} at N={n} not run{flag}"

    return read


def _dvc_over(n: int, measure: R.Measure, tool: R.Tool) -> Callable[[R.Results], float | str]:
    def read(out: R.Results) -> float | str:
        dvc = out.get(n, measure, R.Tool.DVC)
        pivot = out.get(n, measure, tool)
        if R.Tool.DVC not in out.tools:
            return "DVC not measured (run with --dvc)"
        if dvc is None:
            return f"DVC {measure} at N={n} failed or not run"
        if pivot is None:
            return f"{tool} {measure} at N={n} failed or not run"
        return dvc.median / pivot.median

    return read


def _extra(key: R.Extra, hint: str = "") -> Callable[[R.Results], float | str]:
    def read(out: R.Results) -> float | str:
        got = out.extras.get(key)
        if isinstance(got, R.Sample):
            return got.median
        return got or f"not run{hint}"

    return read


def judge_imports(out: R.Results) -> Verdict:
    """`import pivot` must pull in none of the heavy libraries."""
    text = "`import pivot` loads none of networkx, loky, lmdb, ruamel, dependency_injector"
    got = out.extras.get(R.Extra.IMPORT_HEAVY)
    if not isinstance(got, str) or got.startswith(("failed", "probe")):
        return Verdict(text, "—", f"not measured: {got or 'not run'}", None)
    if got == "none":
        return Verdict(text, "none", "met", True)
    return Verdict(text, got, f"**missed**: imports {got}", False)


def targets(cores: int) -> list[Target]:
    py, cmd = R.Tool.PIVOT_PYTHON, R.Tool.PIVOT_CMD
    speedup = 1.8 if cores == 2 else 0.9 * cores
    s, x = R.Unit.SECONDS, R.Unit.RATIO
    return [
        Target("no-op `pivot run`, N=176, pipeline.py", Bound.AT_MOST, 0.3, s,
               _median(176, R.Measure.NOOP, py)),
        Target("no-op `pivot run`, N=176, pivot.yaml cmd", Bound.AT_MOST, 0.3, s,
               _median(176, R.Measure.NOOP, cmd)),
        Target("`pivot status`, N=176 (DESIGN §7: well under 0.5 s)", Bound.AT_MOST, 0.5, s,
               _median(176, R.Measure.STATUS, py)),
        Target("no-op: `dvc repro` ÷ `pivot run`, N=176, pipeline.py", Bound.AT_LEAST, 10, x,
               _dvc_over(176, R.Measure.NOOP, py)),
        Target("no-op: `dvc repro` ÷ `pivot run`, N=176, pivot.yaml cmd", Bound.AT_LEAST, 10, x,
               _dvc_over(176, R.Measure.NOOP, cmd)),
        Target("cold: `dvc repro` ÷ `pivot run`, N=176, pipeline.py", Bound.AT_LEAST, 25, x,
               _dvc_over(176, R.Measure.COLD, py)),
        Target("per-stage overhead, N=176, pipeline.py", Bound.AT_MOST, 0.010, s,
               _median(176, R.Measure.OVERHEAD, py)),
        Target("no-op `pivot run`, N=1000", Bound.AT_MOST, 1.0, s,
               _median(1000, R.Measure.NOOP, py, " (run with --full)")),
        Target("no-op(1000) ÷ no-op(176)", Bound.AT_MOST, 6, x, _extra(R.Extra.NOOP_SCALING)),
        Target(f"parallel speedup on {cores} cores", Bound.AT_LEAST, speedup, x,
               _extra(R.Extra.SPEEDUP)),
        Target("hash throughput ÷ raw read", Bound.AT_LEAST, 0.8, x,
               _extra(R.Extra.HASH_RATIO)),
        Target("`pivot --help`", Bound.AT_MOST, 0.2, s, _extra(R.Extra.HELP)),
        Target("dask: per-stage overhead, trivial stages", Bound.AT_MOST, 0.030, s,
               _extra(R.Extra.DASK_OVERHEAD, " (run with --dask)")),
        Target("dask: 8 × 1 s CPU stages on 2 workers (≤ 4 s + 15 %)", Bound.AT_MOST, 4.6, s,
               _extra(R.Extra.DASK_CPU_STAGES, " (run with --dask)")),
    ]  # fmt: skip


def size_table(out: R.Results, n: int) -> str:
    tools = out.tools
    pivots = [t for t in (R.Tool.PIVOT_PYTHON, R.Tool.PIVOT_CMD) if t in tools]
    ratio_heads = [f"DVC ÷ {t}" for t in pivots] if R.Tool.DVC in tools else []
    head = ["measure", *tools, *ratio_heads]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for measure in R.Measure:
        shown = measure in RERUN_MEASURES
        row = [
            str(measure),
            *(cell(out.grid.get((n, measure, t)), show_reruns=shown) for t in tools),
        ]
        if ratio_heads:
            dvc = out.get(n, measure, R.Tool.DVC)
            row += [ratio(dvc, out.get(n, measure, t)) for t in pivots]
        lines.append("| " + " | ".join(row) + " |")
    return "\n".join(lines)


def verdict_table(verdicts: list[Verdict]) -> str:
    lines = ["| target | measured | verdict |", "|---|---|---|"]
    lines += [f"| {v.target} | {v.measured} | {v.status} |" for v in verdicts]
    return "\n".join(lines)


def extras_table(out: R.Results) -> str:
    lines = ["| measure | value |", "|---|---|"]
    for key in R.Extra:
        if key in out.extras:
            lines.append(f"| {key} | {cell(out.extras[key])} |")
    return "\n".join(lines)


def render(out: R.Results, cores: int) -> str:
    meta = out.meta
    verdicts = [*(judge(t, out) for t in targets(cores)), judge_imports(out)]
    met = sum(1 for v in verdicts if v.met)
    missed = sum(1 for v in verdicts if v.met is False)
    parts = [
        f"# Pivot benchmark — {meta.get('date', '?')} on {meta.get('host', '?')}",
        "",
        f"Reproduce: `{meta.get('command', 'just bench')}`",
        "",
        " · ".join(
            f"{k}: {meta[k]}"
            for k in ("machine", "load", "python", "pivot", "dvc", "reps")
            if k in meta
        )
        or "(no run details)",
        "",
        "Times are wall-clock seconds of the whole command, median (min–max) over the "
        + "repetitions; `ran k` counts the stage outputs the run rewrote. "
        + "No-op, status and incremental runs start after one untimed warm-up no-op run. "
        + "Lock bytes written are counted with `strace -f` over every process of a cold run. "
        + "The lower bound runs every stage body in one plain Python process.",
        "",
        f"## Targets (issue 6): {met} met, {missed} missed, "
        + f"{len(verdicts) - met - missed} not measured",
        "",
        verdict_table(verdicts),
    ]
    for n in out.sizes:
        parts += ["", f"## N = {n} stages", "", size_table(out, n)]
    parts += ["", "## Other measures", "", extras_table(out)]
    for title, text in out.sections:
        parts += ["", f"## {title}", "", text]
    if out.notes:
        parts += ["", "## Notes", "", *(f"- {note}" for note in out.notes)]
    for title, text in out.profiles:
        parts += ["", f"## Profile: {title}", "", "```text", text.rstrip(), "```"]
    return "\n".join(parts) + "\n"
