import pathlib
import shutil
import subprocess
import time
from collections.abc import Mapping

from benchmarks import generate, measure, results, shape, suite, tools

SMALL, LARGE = 10, 50
"""Trivial fan-outs whose difference gives the marginal cost of one stage on the cluster."""

CPU_STAGES, CPU_SECONDS, WORKERS = 8, 1.0, 2


def measure_dask(ctx: suite.Context) -> None:
    """`pivot run --executor dask` on a LocalCluster of two workers it starts itself.

    Per-stage overhead is the marginal cost (cold(LARGE) − cold(SMALL)) / (LARGE − SMALL) of a
    trivial stage, so the cluster's start-up, paid once per run, is reported on its own.
    """
    extras = ctx.out.extras
    spec = tools.pivot(generate.Form.PIVOT_PYTHON)
    command = (*spec.run, "--executor", "dask", "-j", str(WORKERS), "--json")

    def cold(project: shape.ProjectShape, tag: str, burn: int = 0) -> tuple[float, float]:
        """Wall time of a cold run, and the time from the first stage start to the end."""
        copy = ctx.fresh(ctx.template(spec.form, project, tag=tag, burn=burn), spec)
        try:
            return _timed_events(command, copy, spec.env)
        finally:
            shutil.rmtree(copy)

    ctx.log(f"dask: trivial fan-outs of {SMALL} and {LARGE} stages, ×{ctx.reps}")
    try:
        small = [cold(shape.fan_out(SMALL), "dask-trivial")[0] for _ in range(ctx.reps)]
        large = [cold(shape.fan_out(LARGE), "dask-trivial")[0] for _ in range(ctx.reps)]
    except measure.CommandFailedError as exc:
        extras[results.Extra.DASK_OVERHEAD] = ctx.fail("dask overhead", exc)
        return
    extras[results.Extra.DASK_COLD_SMALL] = results.Sample(tuple(small))
    extras[results.Extra.DASK_OVERHEAD] = results.Sample(
        tuple((b - a) / (LARGE - SMALL) for a, b in zip(small, large, strict=True))
    )
    burn = suite.calibrate_burn(CPU_SECONDS)
    ctx.log(f"dask: {CPU_STAGES} stages of ~{CPU_SECONDS} s CPU on {WORKERS} workers")
    try:
        runs = [cold(shape.fan_out(CPU_STAGES), "dask-cpu", burn) for _ in range(ctx.reps)]
    except measure.CommandFailedError as exc:
        extras[results.Extra.DASK_CPU_WALL] = ctx.fail("dask cpu fan-out", exc)
        return
    extras[results.Extra.DASK_CPU_WALL] = results.Sample(tuple(w for w, _ in runs))
    extras[results.Extra.DASK_CPU_STAGES] = results.Sample(tuple(s for _, s in runs))


def _timed_events(
    command: tuple[str, ...], cwd: pathlib.Path, env: Mapping[str, str]
) -> tuple[float, float]:
    """Wall seconds of `command`, and seconds from its first `stage_started` event to its end."""
    started = time.perf_counter()
    first_stage: float | None = None
    with subprocess.Popen(
        command, cwd=cwd, env=dict(env), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    ) as proc:
        assert proc.stdout is not None
        assert proc.stderr is not None
        for line in proc.stdout:
            if first_stage is None and '"stage_started"' in line:
                first_stage = time.perf_counter()
        errors = proc.stderr.read()
    ended = time.perf_counter()
    if proc.returncode != 0:
        raise measure.CommandFailedError(command, proc.returncode, errors)
    return ended - started, ended - (first_stage if first_stage is not None else started)
