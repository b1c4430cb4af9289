import contextlib
import json
import pathlib
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping

from benchmarks import generate, measure, results, shape, suite, tools

SMALL, LARGE = 10, 50
"""Trivial fan-outs whose difference gives the marginal cost of one stage on the cluster."""

CPU_STAGES, CPU_SECONDS, WORKERS = 8, 1.0, 2

_CLUSTER_SCRIPT = """
import sys, time
from distributed import LocalCluster
if __name__ == "__main__":
    cluster = LocalCluster(n_workers=int(sys.argv[1]), threads_per_worker=1, processes=True,
                           dashboard_address=None, host="127.0.0.1")
    print(cluster.scheduler_address, flush=True)
    sys.stdin.read()  # until the benchmark closes our stdin
    cluster.close()
"""


def measure_dask(ctx: suite.Context) -> None:
    """`pivot run --executor dask`, on a running 2-worker cluster and on one Pivot starts itself.

    The cluster's targets are measured the way a team uses one: the cluster is already running
    (started here, untimed, with one untimed warm-up run so its workers have imported Pivot).
    Per-stage overhead is the marginal cost (cold(LARGE) − cold(SMALL)) / (LARGE − SMALL) of a
    trivial stage; the CPU fan-out's wall time runs from the first stage's start to the end of the
    command. The whole command's time, and the time with a LocalCluster Pivot starts and stops
    itself, are reported beside them, as is Pivot's own process pool on the same fan-out.
    """
    extras = ctx.out.extras
    spec = tools.pivot(generate.Form.PIVOT_PYTHON)
    burn = suite.calibrate_burn(CPU_SECONDS)

    def cold(project: shape.ProjectShape, tag: str, *flags: str, burn: int = 0) -> _Timing:
        copy = ctx.fresh(ctx.template(spec.form, project, tag=tag, burn=burn), spec)
        try:
            return _timed_events((*spec.run, *flags, "-j", str(WORKERS), "--json"), copy, spec.env)
        finally:
            shutil.rmtree(copy)

    trivial_small, trivial_large = shape.fan_out(SMALL), shape.fan_out(LARGE)
    cpu = shape.fan_out(CPU_STAGES)
    ctx.log(f"dask: starting a {WORKERS}-worker LocalCluster (untimed)")
    try:
        with _running_cluster(WORKERS, spec.env) as address:
            on_cluster = ("--executor", "dask", "--scheduler", address)
            cold(trivial_small, "dask-trivial", *on_cluster)  # warm-up: workers import Pivot
            ctx.log(f"dask: trivial fan-outs of {SMALL} and {LARGE} stages, ×{ctx.reps}")
            small = [cold(trivial_small, "dask-trivial", *on_cluster) for _ in range(ctx.reps)]
            large = [cold(trivial_large, "dask-trivial", *on_cluster) for _ in range(ctx.reps)]
            extras[results.Extra.DASK_OVERHEAD] = results.Sample(
                tuple(
                    (b.wall - a.wall) / (LARGE - SMALL) for a, b in zip(small, large, strict=True)
                )
            )
            ctx.log(f"dask: {CPU_STAGES} stages of ~{CPU_SECONDS} s CPU on {WORKERS} workers")
            runs = [cold(cpu, "dask-cpu", *on_cluster, burn=burn) for _ in range(ctx.reps)]
            extras[results.Extra.DASK_CPU_STAGES] = results.Sample(tuple(r.stages for r in runs))
            extras[results.Extra.DASK_CPU_COMMAND] = results.Sample(tuple(r.wall for r in runs))
        ctx.log("dask: the same runs with a LocalCluster Pivot starts itself, and with loky")
        local = [cold(trivial_small, "dask-trivial", "--executor", "dask") for _ in range(ctx.reps)]
        extras[results.Extra.DASK_COLD_SMALL] = results.Sample(tuple(r.wall for r in local))
        local_cpu = [
            cold(cpu, "dask-cpu", "--executor", "dask", burn=burn) for _ in range(ctx.reps)
        ]
        extras[results.Extra.DASK_CPU_LOCAL] = results.Sample(tuple(r.wall for r in local_cpu))
        loky_cpu = [cold(cpu, "dask-cpu", burn=burn) for _ in range(ctx.reps)]
        extras[results.Extra.DASK_CPU_LOKY] = results.Sample(tuple(r.wall for r in loky_cpu))
    except measure.CommandFailedError as exc:
        extras[results.Extra.DASK_CPU_STAGES] = ctx.fail("dask", exc)
    except _ClusterError as exc:
        extras[results.Extra.DASK_CPU_STAGES] = f"failed: {exc}"
        ctx.out.notes.append(f"dask: {exc}")


class _ClusterError(Exception):
    pass


@contextlib.contextmanager
def _running_cluster(workers: int, env: Mapping[str, str]) -> Iterator[str]:
    """A LocalCluster in its own process for the duration; yields the scheduler's address."""
    with subprocess.Popen(
        (sys.executable, "-c", _CLUSTER_SCRIPT, str(workers)),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        env=dict(env),
        text=True,
    ) as proc:
        assert proc.stdin is not None
        assert proc.stdout is not None
        address = proc.stdout.readline().strip()
        try:
            if not address.startswith("tcp://"):
                raise _ClusterError(f"the LocalCluster did not start (exit {proc.poll()})")
            yield address
        finally:
            proc.stdin.close()
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()


class _Timing:
    __slots__ = ("stages", "wall")

    def __init__(self, wall: float, stages: float) -> None:
        self.wall = wall
        self.stages = stages


def _timed_events(command: tuple[str, ...], cwd: pathlib.Path, env: Mapping[str, str]) -> _Timing:
    """Wall seconds of `command`, and seconds from its first `stage_started` event to its end."""
    started = time.perf_counter()
    first_stage: float | None = None
    with subprocess.Popen(
        command, cwd=cwd, env=dict(env), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    ) as proc:
        assert proc.stdout is not None
        assert proc.stderr is not None
        for line in proc.stdout:
            if first_stage is None and _is_stage_start(line):
                first_stage = time.perf_counter()
        errors = proc.stderr.read()
    ended = time.perf_counter()
    if proc.returncode != 0:
        raise measure.CommandFailedError(command, proc.returncode, errors)
    return _Timing(ended - started, ended - (first_stage if first_stage is not None else started))


def _is_stage_start(line: str) -> bool:
    try:
        event = json.loads(line)
    except ValueError:
        return False
    return isinstance(event, dict) and event.get("event") == "stage_started"
