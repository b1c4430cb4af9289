import dataclasses
import os
import pathlib
import shutil
import statistics
import subprocess
import time
from collections.abc import Callable, Mapping, Sequence

from benchmarks import dvc_env, hashing, tools
from benchmarks import measure as measure_mod


@dataclasses.dataclass(frozen=True, slots=True)
class Dataset:
    name: str
    """`small` (a directory of many small files) or `large` (one big file)."""
    path: str
    """Workspace path of the data inside a project."""
    settle_mib: int = 512
    """Memory freed before each timed step (`measure.settle`): at least what the step writes."""


SMALL = Dataset("small", "small")
LARGE = Dataset("large", "large.bin")


@dataclasses.dataclass
class Timings:
    """Seconds per (dataset, tool, step); step is `push` or `pull`."""

    values: dict[tuple[str, str, str], float] = dataclasses.field(
        default_factory=dict[tuple[str, str, str], float]
    )
    notes: list[str] = dataclasses.field(default_factory=list[str])
    spread: dict[tuple[str, str, str], tuple[float, float]] = dataclasses.field(
        default_factory=dict[tuple[str, str, str], tuple[float, float]]
    )
    """Fastest and slowest run of each step (several rounds)."""


def make_small(root: pathlib.Path, count: int) -> None:
    """`count` files of 1–4 KiB random bytes in 100 subdirectories (kept between runs)."""
    marker = root / f".complete-{count}"
    if marker.exists():
        return
    shutil.rmtree(root, ignore_errors=True)
    for i in range(count):
        path = root / f"d{i % 100:02d}" / f"f{i:05d}.bin"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(os.urandom(1024 + (i * 37) % 3072))
    marker.write_text("")


def _run(args: Sequence[str], cwd: pathlib.Path, env: Mapping[str, str]) -> float:
    start = time.perf_counter()
    done = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        tail = (done.stderr or done.stdout).strip().splitlines()[-3:]
        raise RuntimeError(f"`{' '.join(args)}` failed ({done.returncode}): {' | '.join(tail)}")
    return elapsed


def _settle(work: pathlib.Path, data: Dataset) -> None:
    """Before every tool's timed step alike (`measure.settle`): enough memory just freed for
    the step's writes (a pull writes the cache and the workspace)."""
    measure_mod.settle(work, data.settle_mib)


def _project(work: pathlib.Path, tool: str, data: Dataset, source: pathlib.Path) -> pathlib.Path:
    project = work / f"{tool}-{data.name}"
    shutil.rmtree(project, ignore_errors=True)
    project.mkdir(parents=True)
    target = project / data.path
    if source.is_dir():
        shutil.copytree(source, target, ignore=shutil.ignore_patterns(".complete-*"))
    else:
        shutil.copyfile(source, target)
    return project


def _remove_data(project: pathlib.Path, data: Dataset, cache: pathlib.Path) -> None:
    """A teammate's clone: no workspace copy, empty local cache."""
    for path in (project / data.path, cache):
        if path.is_dir():
            for dirpath, dirnames, _ in os.walk(path):
                for d in dirnames:
                    os.chmod(os.path.join(dirpath, d), 0o755)
            shutil.rmtree(path)
        else:
            path.unlink(missing_ok=True)


def pivot_steps(
    work: pathlib.Path, data: Dataset, source: pathlib.Path, log: Callable[[str], None]
) -> dict[str, float]:
    exe = str(tools.pivot_executable())
    env = tools._env(tools.python_bin_dir())  # pyright: ignore[reportPrivateUsage]
    project = _project(work, "pivot", data, source)
    remote = work / "pivot-remote" / data.name
    shutil.rmtree(remote, ignore_errors=True)
    _run([exe, "init"], project, env)
    _run([exe, "track", data.path], project, env)
    _run([exe, "remote", "add", "bench", str(remote)], project, env)
    _settle(work, data)
    log(f"pivot push ({data.name})")
    pushed = _run([exe, "push"], project, env)
    _remove_data(project, data, project / ".pivot" / "cache")
    _settle(work, data)
    log(f"pivot pull ({data.name})")
    pulled = _run([exe, "pull"], project, env)
    return {"push": pushed, "pull": pulled}


def dvc_steps(
    work: pathlib.Path,
    data: Dataset,
    source: pathlib.Path,
    installed: dvc_env.DvcEnv,
    log: Callable[[str], None],
) -> dict[str, float]:
    exe = str(installed.dvc)
    env = tools._env(installed.bin_dir, DVC_NO_ANALYTICS="1")  # pyright: ignore[reportPrivateUsage]
    project = _project(work, "dvc", data, source)
    remote = work / "dvc-remote" / data.name
    shutil.rmtree(remote, ignore_errors=True)
    for step in (
        ["git", "init", "-q"],
        [exe, "init", "-q"],
        [exe, "config", "core.analytics", "false"],
        [exe, "config", "core.check_update", "false"],
        [exe, "add", "-q", data.path],
        [exe, "remote", "add", "-d", "bench", str(remote)],
    ):
        _run(step, project, env)
    _settle(work, data)
    log(f"dvc push ({data.name})")
    pushed = _run([exe, "push", "-q"], project, env)
    _remove_data(project, data, project / ".dvc" / "cache")
    _settle(work, data)
    log(f"dvc pull ({data.name})")
    pulled = _run([exe, "pull", "-q"], project, env)
    return {"push": pushed, "pull": pulled}


def cp_steps(work: pathlib.Path, data: Dataset, source: pathlib.Path) -> dict[str, float]:
    """The floor: `cp -r` to a directory and back, no hashing, no bookkeeping."""
    remote = work / "cp-remote" / data.name
    back = work / "cp-back" / data.name
    for path in (remote, back):
        shutil.rmtree(path, ignore_errors=True)
        path.parent.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ)
    _settle(work, data)
    pushed = _run(["cp", "-r", str(source), str(remote)], work, env)
    _settle(work, data)
    pulled = _run(["cp", "-r", str(remote), str(back)], work, env)
    shutil.rmtree(back, ignore_errors=True)
    return {"push": pushed, "pull": pulled}


def measure(
    work: pathlib.Path,
    *,
    files: int,
    mib: int,
    dvc: dvc_env.DvcEnv | None,
    log: Callable[[str], None],
    reps: int = 1,
) -> Timings:
    """Push then pull into an empty cache, Pivot, DVC and cp, on a local-directory remote;
    `reps` rounds (the tools take turns within each), the median of each step reported."""
    timings = Timings()
    data_dir = work / "transfer-data"
    log(f"transfer: generating {files:,} small files and a {mib} MiB file")
    make_small(data_dir / "small", files)
    hashing.make_file(data_dir / "large.bin", mib << 20)
    runs = work / "transfer-runs"
    large = dataclasses.replace(LARGE, settle_mib=2 * mib + 256)
    for data, source in ((SMALL, data_dir / "small"), (large, data_dir / "large.bin")):
        steps: dict[str, Callable[[], dict[str, float]]] = {
            "Pivot": lambda d=data, s=source: pivot_steps(runs, d, s, log),
            "cp": lambda d=data, s=source: cp_steps(runs, d, s),
        }
        if dvc is not None:
            steps["DVC"] = lambda d=data, s=source: dvc_steps(runs, d, s, dvc, log)
        samples: dict[tuple[str, str, str], list[float]] = {}
        for rep in range(max(1, reps)):
            log(f"transfer: {data.name}, round {rep + 1} of {max(1, reps)}")
            for tool, step in steps.items():
                try:
                    for name, seconds in step().items():
                        samples.setdefault((data.name, tool, name), []).append(seconds)
                except RuntimeError as exc:
                    timings.notes.append(f"{tool} on {data.name}: {exc}")
        for key, seconds in samples.items():
            timings.values[key] = statistics.median(seconds)
            timings.spread[key] = (min(seconds), max(seconds))
    shutil.rmtree(runs, ignore_errors=True)
    return timings


def render(timings: Timings, *, files: int, mib: int, reps: int = 1) -> str:
    """The transfer section of the report: one table, ratios against DVC and cp."""
    rows = [
        "| data | step | Pivot | DVC | cp | DVC ÷ Pivot | Pivot ÷ cp |",
        "|---|---|---|---|---|---|---|",
    ]
    labels = {"small": f"{files:,} small files", "large": f"one {mib} MiB file"}
    for data in ("small", "large"):
        for step in ("push", "pull"):
            cells = [timings.values.get((data, t, step)) for t in ("Pivot", "DVC", "cp")]
            shown = [f"{c:.2f} s" if c is not None else "—" for c in cells]
            pivot, dvc, cp = cells
            vs_dvc = f"{dvc / pivot:.1f}×" if pivot and dvc else "—"
            vs_cp = f"{pivot / cp:.2f}×" if pivot and cp else "—"
            rows.append(f"| {labels[data]} | {step} | {' | '.join(shown)} | {vs_dvc} | {vs_cp} |")
    text = [
        "Local-directory remote on the same disk; `push` from a populated cache into an empty "
        + "remote, `pull` into an empty cache and an empty workspace (a fresh clone). "
        + (
            "One run each. "
            if reps <= 1
            else f"Median of {reps} rounds (the tools take turns " + "in each round). "
        )
        + "Before every timed step, of every tool, dirty pages are flushed and a file as large as "
        + "the step's writes is written and deleted (untimed), so no tool's step pays, or is "
        + "spared, this VM's cost of memory it has not touched lately (`measure.settle`). "
        + "Each tool with its defaults: `cp` writes the bytes once; Pivot's pull hard-links "
        + "objects of 8 MiB and up from a directory remote on the same filesystem into its "
        + "cache after re-hashing them (ADR 0011, `remotes.NAME.hardlink`), then writes the "
        + "workspace's own copy; smaller objects are written to the cache and the workspace. "
        + "Goals (issue 12): DVC ÷ Pivot ≥ 5 on the small files; Pivot ÷ cp ≤ 1.5 on the "
        + "large file.",
        "",
        *rows,
    ]
    if reps > 1 and timings.spread:
        text += ["", "Fastest – slowest run of each step:", ""]
        for (data, tool, step), (low, high) in sorted(timings.spread.items()):
            text.append(f"- {labels[data]}, {step}, {tool}: {low:.2f} – {high:.2f} s")
    if timings.notes:
        text += ["", *(f"- {n}" for n in timings.notes)]
    return "\n".join(text)
