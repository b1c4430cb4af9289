import contextlib
import dataclasses
import itertools
import pathlib
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Mapping, Sequence

from benchmarks import generate, measure, results, shape, tools

STRACE_MAX_DVC_STAGES = 176
"""DVC under strace is slow; beyond this size its lock bytes are not traced."""


@dataclasses.dataclass
class Context:
    """Where a benchmark run works and what it has measured so far."""

    work: pathlib.Path
    reps: int
    dvc_cold_reps: int
    out: results.Results
    log: Callable[[str], None] = print
    _copies: Iterator[int] = dataclasses.field(default_factory=itertools.count)

    @property
    def runs(self) -> pathlib.Path:
        return self.work / "runs"

    def template(
        self,
        form: generate.Form,
        project: shape.ProjectShape,
        *,
        tag: str = "layered",
        burn: int = 0,
    ) -> pathlib.Path:
        """A pristine copy of one form of the project, generated once per run."""
        path = self.work / "templates" / f"{tag}-{project.size}-{form}"
        if not path.exists():
            generate.write_project(project, form, path, burn=burn)
        return path

    def fresh(self, template: pathlib.Path, spec: tools.ToolSpec) -> pathlib.Path:
        """An identical fresh copy of `template`, set up for `spec`'s tool (untimed)."""
        dest = self.runs / f"{template.name}-{next(self._copies)}"
        shutil.copytree(template, dest)
        for command in spec.setup:
            measure.run(command, dest, spec.env)
        return dest

    def fail(self, key: str, exc: measure.CommandFailedError) -> str:
        self.out.notes.append(f"{key}: {exc.short}")
        self.log(f"  ! {key}: {exc.short}")
        return f"failed (exit {exc.returncode}, see notes)"


def _lock_bytes_on_disk(root: pathlib.Path, pattern: str) -> int:
    return sum(p.stat().st_size for p in root.glob(pattern))


def _repeat(
    ctx: Context, before_each: Callable[[int], None], run: Callable[[], float]
) -> list[float]:
    values: list[float] = []
    for rep in range(ctx.reps):
        before_each(rep)
        values.append(run())
    return values


def warm_up(ctx: Context, specs: Sequence[tools.ToolSpec]) -> None:
    """One untimed small run per tool, so bytecode caches exist before anything is timed."""
    project = shape.layered(10)
    ctx.log("warm-up: one untimed N=10 run per tool")
    for spec in specs:
        copy = ctx.fresh(ctx.template(spec.form, project, tag="warmup"), spec)
        try:
            measure.run(spec.run, copy, spec.env)
            if spec.status is not None:
                measure.run(spec.status, copy, spec.env)
        except measure.CommandFailedError:
            pass  # the timed measures report the failure where it shows
        finally:
            shutil.rmtree(copy)


def measure_tool(ctx: Context, spec: tools.ToolSpec, project: shape.ProjectShape) -> None:
    """Fill one column of the size-N table: cold, no-op, status, incremental, lock bytes."""
    n = project.size
    grid = ctx.out.grid
    key = f"{spec.tool} N={n}"
    template = ctx.template(spec.form, project)
    cold_reps = ctx.dvc_cold_reps if spec.tool is results.Tool.DVC else ctx.reps
    cold: list[float] = []
    copy = template
    ctx.log(f"{key}: cold run ×{cold_reps}")
    try:
        for _ in range(cold_reps):
            if copy is not template:
                shutil.rmtree(copy)
            copy = ctx.fresh(template, spec)
            cold.append(measure.timed(spec.run, copy, spec.env))
    except measure.CommandFailedError as exc:
        grid[(n, results.Measure.COLD, spec.tool)] = ctx.fail(f"{key} cold run", exc)
        return
    produced = len(measure.output_mtimes(copy))
    grid[(n, results.Measure.COLD, spec.tool)] = results.Sample(tuple(cold), reruns=produced)
    if produced != n:
        ctx.out.notes.append(f"{key}: the cold run left {produced} of {n} outputs")
    if spec.tool is results.Tool.LOWER_BOUND:
        shutil.rmtree(copy)
        return
    with _attempt(ctx, key, results.Measure.LOCK_WRITTEN, n, spec.tool):
        copy = _trace_lock_bytes(ctx, spec, template, copy, n)
    if spec.lock_glob is not None:
        grid[(n, results.Measure.LOCK_ON_DISK, spec.tool)] = results.Sample(
            (_lock_bytes_on_disk(copy, spec.lock_glob),), results.Unit.BYTES
        )
    _steady_state(ctx, spec, copy, n)
    shutil.rmtree(copy)


def _trace_lock_bytes(
    ctx: Context,
    spec: tools.ToolSpec,
    template: pathlib.Path,
    copy: pathlib.Path,
    n: int,
) -> pathlib.Path:
    """Measure lock bytes written by a cold run; returns the copy to keep measuring in."""
    cell = (n, results.Measure.LOCK_WRITTEN, spec.tool)
    if not measure.strace_available():
        ctx.out.grid[cell] = "strace not installed"
        return copy
    if spec.tool is results.Tool.DVC and n > STRACE_MAX_DVC_STAGES:
        ctx.out.grid[cell] = f"not traced above N={STRACE_MAX_DVC_STAGES}"
        return copy
    ctx.log(f"{spec.tool} N={n}: cold run under strace (lock bytes, untimed)")
    traced = ctx.fresh(template, spec)
    written = measure.bytes_written(spec.run, traced, spec.env, spec.is_lock)
    ctx.out.grid[cell] = results.Sample((written,), results.Unit.BYTES)
    shutil.rmtree(copy)
    return traced


@contextlib.contextmanager
def _attempt(
    ctx: Context, key: str, what: results.Measure, n: int, tool: results.Tool
) -> Iterator[None]:
    try:
        yield
    except measure.CommandFailedError as exc:
        ctx.out.grid[(n, what, tool)] = ctx.fail(f"{key} {what}", exc)


def _steady_state(ctx: Context, spec: tools.ToolSpec, copy: pathlib.Path, n: int) -> None:
    key = f"{spec.tool} N={n}"
    grid = ctx.out.grid

    def run_counting() -> tuple[float, int]:
        before = measure.output_mtimes(copy)
        seconds = measure.timed(spec.run, copy, spec.env)
        return seconds, measure.count_changed(before, measure.output_mtimes(copy))

    def sampled(before_each: Callable[[int], None]) -> results.Sample:
        pairs: list[tuple[float, int]] = []
        for rep in range(ctx.reps):
            before_each(rep)
            pairs.append(run_counting())
        return results.Sample(tuple(p[0] for p in pairs), reruns=max(p[1] for p in pairs))

    ctx.log(f"{key}: no-op run (1 warm-up + ×{ctx.reps}), status, incremental")
    with _attempt(ctx, key, results.Measure.NOOP, n, spec.tool):
        measure.timed(spec.run, copy, spec.env)
        grid[(n, results.Measure.NOOP, spec.tool)] = sampled(lambda _rep: None)
    if spec.status is not None:
        status = spec.status
        with _attempt(ctx, key, results.Measure.STATUS, n, spec.tool):
            grid[(n, results.Measure.STATUS, spec.tool)] = results.Sample(
                tuple(
                    _repeat(ctx, lambda _rep: None, lambda: measure.timed(status, copy, spec.env))
                )
            )
    with _attempt(ctx, key, results.Measure.LEAF, n, spec.tool):
        grid[(n, results.Measure.LEAF, spec.tool)] = sampled(
            lambda rep: generate.change_leaf_input(copy, rep + 1)
        )
    if spec.form is generate.Form.PIVOT_PYTHON:
        with _attempt(ctx, key, results.Measure.HELPER, n, spec.tool):
            grid[(n, results.Measure.HELPER, spec.tool)] = sampled(
                lambda rep: generate.edit_helper(copy, rep + 1)
            )


def overheads(out: results.Results) -> None:
    """Per-stage overhead of each tool over the lower bound, from the cold runs."""
    for n in out.sizes:
        floor = out.get(n, results.Measure.COLD, results.Tool.LOWER_BOUND)
        for tool in out.tools:
            cold = out.get(n, results.Measure.COLD, tool)
            if tool is results.Tool.LOWER_BOUND or cold is None or floor is None:
                continue
            out.grid[(n, results.Measure.OVERHEAD, tool)] = results.Sample(
                tuple((v - floor.median) / n for v in cold.values)
            )


def calibrate_burn(cpu_seconds: float) -> int:
    """Iterations of the generated `work.burn` that take about `cpu_seconds` here."""
    namespace: dict[str, object] = {}
    exec(generate.WORK_PY.format(burn=0), namespace)  # the exact code the stages run
    burn = namespace["burn"]
    assert callable(burn)
    probe = 200_000
    start = time.perf_counter()
    burn(probe)
    elapsed = time.perf_counter() - start
    return max(1, int(probe * cpu_seconds / elapsed))


def measure_parallel(ctx: Context, cores: int, cpu_seconds: float) -> None:
    """Speedup of `pivot run -j <cores>` over `-j 1` on 4 × cores independent CPU-bound stages."""
    extras = ctx.out.extras
    project = shape.fan_out(4 * cores)
    burn = calibrate_burn(cpu_seconds)
    spec = tools.pivot(generate.Form.PIVOT_PYTHON)
    floor_spec = tools.lower_bound()
    template = ctx.template(spec.form, project, tag="fanout", burn=burn)
    floor_template = ctx.template(floor_spec.form, project, tag="fanout", burn=burn)
    ctx.log(f"parallel: {project.size} stages of ~{cpu_seconds} s CPU, -j 1 vs -j {cores}")

    def cold(command: tuple[str, ...], tpl: pathlib.Path, s: tools.ToolSpec) -> float:
        copy = ctx.fresh(tpl, s)
        try:
            return measure.timed(command, copy, s.env)
        finally:
            shutil.rmtree(copy)

    try:
        serial = [cold((*spec.run, "-j", "1"), template, spec) for _ in range(ctx.reps)]
        wide = [cold((*spec.run, "-j", str(cores)), template, spec) for _ in range(ctx.reps)]
        bodies = [cold(floor_spec.run, floor_template, floor_spec) for _ in range(ctx.reps)]
    except measure.CommandFailedError as exc:
        extras[results.Extra.SPEEDUP] = ctx.fail("parallel speedup", exc)
        return
    extras[results.Extra.PARALLEL_SERIAL] = results.Sample(tuple(serial))
    extras[results.Extra.PARALLEL_CORES] = results.Sample(tuple(wide))
    extras[results.Extra.PARALLEL_BODIES] = results.Sample(tuple(bodies))
    extras[results.Extra.SPEEDUP] = results.Sample(
        tuple(s / w for s, w in zip(serial, wide, strict=True)), results.Unit.RATIO
    )


HEAVY_FOR_IMPORT = ("networkx", "loky", "lmdb", "ruamel", "dependency_injector")
HEAVY_FOR_HELP = (*HEAVY_FOR_IMPORT, "pydantic", "rich.progress", "cloudpickle")

_IMPORT_PROBE = """\
import sys
import pivot
print("HEAVY:" + ",".join(m for m in {heavy!r} if m in sys.modules))
"""


def heavy_modules(probe: str, heavy: Sequence[str]) -> str:
    """Which of `heavy` a fresh interpreter has imported after running `probe`."""
    done = measure.run(
        [sys.executable, "-c", probe.format(heavy=tuple(heavy))],
        pathlib.Path.cwd(),
        tools.pivot(generate.Form.PIVOT_PYTHON).env,
    )
    for line in done.stdout.splitlines():
        if line.startswith("HEAVY:"):
            loaded = line.removeprefix("HEAVY:")
            return loaded.replace(",", ", ") if loaded else "none"
    return "probe printed nothing"


def measure_startup(ctx: Context, reps: int = 10) -> None:
    extras = ctx.out.extras
    env = tools.pivot(generate.Form.PIVOT_PYTHON).env
    cwd = ctx.work
    ctx.log(f"start-up: `pivot --help`, `import pivot` ×{reps}")
    probes = {
        results.Extra.PYTHON_STARTUP: (sys.executable, "-c", "pass"),
        results.Extra.IMPORT_PIVOT: (sys.executable, "-c", "import pivot"),
        results.Extra.HELP: (str(tools.pivot_executable()), "--help"),
    }
    for extra, command in probes.items():
        try:
            measure.timed(command, cwd, env)
            extras[extra] = results.Sample(
                tuple(measure.timed(command, cwd, env) for _ in range(reps))
            )
        except (measure.CommandFailedError, OSError) as exc:
            extras[extra] = (
                ctx.fail(str(extra), exc)
                if isinstance(exc, measure.CommandFailedError)
                else f"not runnable: {exc}"
            )
    try:
        extras[results.Extra.IMPORT_HEAVY] = heavy_modules(_IMPORT_PROBE, HEAVY_FOR_IMPORT)
    except measure.CommandFailedError as exc:
        extras[results.Extra.IMPORT_HEAVY] = ctx.fail("import pivot", exc)
    try:
        imported = import_times([str(tools.pivot_executable()), "--help"], cwd, env)
    except measure.CommandFailedError as exc:
        extras[results.Extra.HELP_HEAVY] = ctx.fail("pivot --help -X importtime", exc)
        return
    loaded = [m for m in HEAVY_FOR_HELP if m in imported]
    extras[results.Extra.HELP_HEAVY] = ", ".join(loaded) or "none"
    ctx.out.profiles.append(
        ("`pivot --help`: imports (python -X importtime)", top_imports(imported))
    )


def top_imports(imported: Mapping[str, int], limit: int = 20) -> str:
    """The slowest imports, by cumulative time (a package includes what it imports)."""
    top = sorted(imported.items(), key=lambda item: item[1], reverse=True)[:limit]
    lines = [f"{us / 1000:8.1f} ms  {name}" for name, us in top]
    return f"{len(imported)} modules imported; top {limit} by cumulative time:\n" + "\n".join(lines)


def parse_import_times(text: str) -> dict[str, int]:
    """Cumulative microseconds per imported module from `python -X importtime` output."""
    times: dict[str, int] = {}
    for line in text.splitlines():
        if not line.startswith("import time:"):
            continue
        fields = line.removeprefix("import time:").split("|")
        if len(fields) != 3 or not fields[1].strip().isdigit():
            continue
        times[fields[2].strip()] = int(fields[1])
    return times


def import_times(
    command: Sequence[str], cwd: pathlib.Path, env: Mapping[str, str]
) -> dict[str, int]:
    """Every module a Python console script imports, with cumulative import time (µs)."""
    done = measure.run([sys.executable, "-X", "importtime", *command], cwd, env)
    return parse_import_times(done.stderr)


def noop_scaling(out: results.Results) -> None:
    small = out.get(176, results.Measure.NOOP, results.Tool.PIVOT_PYTHON)
    large = out.get(1000, results.Measure.NOOP, results.Tool.PIVOT_PYTHON)
    if small is None or large is None:
        out.extras[results.Extra.NOOP_SCALING] = "needs N=176 and N=1000 (--full)"
        return
    out.extras[results.Extra.NOOP_SCALING] = results.Sample(
        (large.median / small.median,), results.Unit.RATIO
    )


def git_describe(repo: pathlib.Path) -> str:
    done = subprocess.run(
        ["git", "log", "-1", "--format=%h %s"],
        cwd=repo,
        capture_output=True,
        text=True,
        check=False,
    )
    return done.stdout.strip() or "unknown"
