import dataclasses
import json
import pathlib
import shutil
import statistics
import sys
import time
from collections.abc import Callable, Mapping, Sequence

from benchmarks import dvc_env, generate, hashing, measure, preconditions, shape, tools, transfer

# Runs a command and writes what it cost: wall time, CPU of the measuring process itself
# ("inprocess": the command is a Python script run in this interpreter, so its own CPU is
# separate from its workers'), CPU of waited-for children, and peak resident memory.
DRIVER = """\
import json, resource, runpy, subprocess, sys, time

out, mode, *cmd = sys.argv[1:]
start = time.perf_counter()
code = 0
if mode == "inprocess":
    sys.argv = cmd
    try:
        runpy.run_path(cmd[0], run_name="__main__")
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
else:
    code = subprocess.run(cmd).returncode
wall = time.perf_counter() - start
me = resource.getrusage(resource.RUSAGE_SELF)
kids = resource.getrusage(resource.RUSAGE_CHILDREN)
with open(out, "w") as f:
    json.dump(
        {
            "wall": wall,
            "self_cpu": me.ru_utime + me.ru_stime,
            "children_cpu": kids.ru_utime + kids.ru_stime,
            "peak_kib": me.ru_maxrss if mode == "inprocess" else kids.ru_maxrss,
        },
        f,
    )
sys.exit(code)
"""

# The writer of the DirectoryOut measure: a `cmd` stage (the same for both tools) that writes
# `count` files of 1 KiB into 100 subdirectories and records its own time beside the output.
WRITER_PY = """\
import os, sys, time

count, out = int(sys.argv[1]), sys.argv[2]
start = time.perf_counter()
for d in range(min(count, 100)):
    os.makedirs(os.path.join(out, f"d{d:02d}"), exist_ok=True)
for i in range(count):
    with open(os.path.join(out, f"d{i % 100:02d}", f"f{i:05d}.txt"), "w") as f:
        f.write(f"{i:08d}" * 128)
with open("writer-seconds.txt", "w") as f:
    f.write(str(time.perf_counter() - start))
"""


@dataclasses.dataclass(frozen=True, slots=True)
class Cost:
    """What one command cost."""

    wall: float
    self_cpu: float
    children_cpu: float
    peak_kib: int


@dataclasses.dataclass(frozen=True, slots=True)
class Row:
    """One line of the data-path table."""

    what: str
    pivot: str
    dvc: str
    note: str = ""


@dataclasses.dataclass(frozen=True, slots=True)
class Target:
    """One 'Done when' line of issue 18 and what this run measured for it."""

    goal: str
    measured: str
    met: bool | None
    """None: not measured."""


@dataclasses.dataclass
class Report:
    rows: list[Row] = dataclasses.field(default_factory=list[Row])
    targets: list[Target] = dataclasses.field(default_factory=list[Target])
    notes: list[str] = dataclasses.field(default_factory=list[str])
    settled: str = ""
    """What the tracked steps waited for before the first of them (their conditions)."""


@dataclasses.dataclass(frozen=True, slots=True)
class Driver:
    """How one tool is driven through the same steps."""

    project: Callable[[str], pathlib.Path]
    run: Callable[[Sequence[str], pathlib.Path], Cost]
    stages_file: str
    header: str
    repro: tuple[str, ...]
    add: tuple[str, ...]
    checkout: tuple[str, ...]
    verify: tuple[str, ...] | None = None


@dataclasses.dataclass(frozen=True, slots=True)
class Settings:
    sizes: tuple[int, int] = (1000, 3000)
    """Cold-run stage counts; the linearity target divides the second by the first."""
    dvc_stages: int = 100
    """DVC's cold run at N=1,000 takes many minutes: its per-stage cost is taken here."""
    files: int = 20_000
    big_mib: int = 2048
    reps: int = 3
    cold_only: bool = False
    """Only the cold runs (`--data-cold-only`)."""
    tracked_reps: int = 5
    """Re-tracks and checkouts per tool (the tools take turns)."""
    tracked_only: bool = False
    """Only track, re-track and checkout (`--data-tracked-only`)."""
    dir_only: bool = False
    """Only the stage writing a directory output (`--data-dir-only`)."""
    settle_seconds: float = preconditions.SETTLE_SECONDS
    """Age of the bench's last deletion before the first timed track (`--data-settle`), on a
    filesystem that needs it (ext4 without a journal)."""
    ballast_mib: int = 256
    """Memory freed just before each tracked step (`measure.settle`): more than a checkout of
    20,000 small files writes."""


def cost(
    command: Sequence[str],
    cwd: pathlib.Path,
    env: Mapping[str, str],
    *,
    inprocess: bool = False,
) -> Cost:
    """Run `command` under the driver; `inprocess` for Python scripts (their own CPU)."""
    out = cwd / ".bench-cost.json"
    mode = "inprocess" if inprocess else "subprocess"
    try:
        measure.run([sys.executable, "-c", DRIVER, str(out), mode, *command], cwd, env)
        values = json.loads(out.read_text())
    finally:
        out.unlink(missing_ok=True)
    return Cost(values["wall"], values["self_cpu"], values["children_cpu"], values["peak_kib"])


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


def _s(seconds: float) -> str:
    return f"{seconds:.2f} s" if seconds >= 1 else _ms(seconds)


def _med(values: Sequence[float]) -> float:
    return statistics.median(values)


def _spread(values: Sequence[float]) -> str:
    if len(values) == 1:
        return _s(values[0])
    return f"{_s(_med(values))} ({_s(min(values))}–{_s(max(values))})"


class Bench:
    def __init__(
        self,
        work: pathlib.Path,
        settings: Settings,
        dvc: dvc_env.DvcEnv | None,
        log: Callable[[str], None],
        *,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
        skips_recent_inodes: bool | None = None,
    ) -> None:
        self.work = work / "data-path"
        self.settings = settings
        self.dvc = dvc
        self.log = log
        self.report = Report()
        # Outside `self.work`, which goes at the end of a run: the next run knows of it too.
        self.deletions = preconditions.Deletions(
            work / "data-path-deleted-at", clock=clock, sleep=sleep
        )
        self.aside = preconditions.Aside(self.work / "set-aside")
        self.skips_recent_inodes = (
            preconditions.skips_recent_inodes(work)
            if skips_recent_inodes is None
            else skips_recent_inodes
        )
        self.pivot_exe = str(tools.pivot_executable())
        self.pivot_env = tools._env(tools.python_bin_dir())  # pyright: ignore[reportPrivateUsage]
        self.dvc_env = (
            None
            if dvc is None
            else tools._env(  # pyright: ignore[reportPrivateUsage]
                dvc.bin_dir, DVC_NO_ANALYTICS="1", DVC_SITE_CACHE_DIR=str(self.work / "dvc-site")
            )
        )

    # -- projects -------------------------------------------------------------------------

    def _fresh(self, name: str) -> pathlib.Path:
        path = self.work / name
        self.deletions.remove(path)
        path.mkdir(parents=True)
        return path

    def _pivot_project(self, name: str) -> pathlib.Path:
        project = self._fresh(f"pivot-{name}")
        measure.run(["git", "init", "-q"], project, self.pivot_env)
        measure.run([self.pivot_exe, "init"], project, self.pivot_env)
        return project

    def _dvc_project(self, name: str) -> pathlib.Path:
        if self.dvc is None or self.dvc_env is None:
            raise RuntimeError("DVC is not installed")
        project = self._fresh(f"dvc-{name}")
        exe = str(self.dvc.dvc)
        for step in (
            ["git", "init", "-q"],
            [exe, "init", "-q"],
            [exe, "config", "core.analytics", "false"],
            [exe, "config", "core.check_update", "false"],
            [exe, "config", "cache.type", "copy"],
        ):
            measure.run(step, project, self.dvc_env)
        return project

    def _pivot(self, args: Sequence[str], cwd: pathlib.Path) -> Cost:
        return cost([self.pivot_exe, *args], cwd, self.pivot_env, inprocess=True)

    def _dvc(self, args: Sequence[str], cwd: pathlib.Path) -> Cost:
        if self.dvc is None or self.dvc_env is None:
            raise RuntimeError("DVC is not installed")
        return cost([str(self.dvc.dvc), *args], cwd, self.dvc_env)

    # -- cold runs ------------------------------------------------------------------------

    def cold_runs(self) -> None:
        """Per-stage overhead and the scheduler process's own CPU, Pivot at two sizes."""
        per_size: dict[int, tuple[Cost, float]] = {}
        for n in self.settings.sizes:
            project = shape.layered(n)
            lower_wall = self._lower_bound(project)
            self.log(f"data path: Pivot cold run, N={n}")
            copy = self._fresh(f"pivot-cold-{n}")
            runs: list[Cost] = []
            for _ in range(self.settings.reps):
                generate.write_project(project, generate.Form.PIVOT_PYTHON, copy)
                measure.run([self.pivot_exe, "init"], copy, self.pivot_env)
                runs.append(self._pivot(["run", "-q"], copy))
                copy = self._fresh(f"pivot-cold-{n}")
            measured = sorted(runs, key=lambda c: c.wall)[len(runs) // 2]
            per_size[n] = (measured, lower_wall)
            self.deletions.remove(copy)
            overhead = (measured.wall - lower_wall) / n
            self.report.rows.append(
                Row(
                    f"cold run, N={n:,}: wall · per-stage overhead · scheduler CPU",
                    f"{_s(measured.wall)} · {_ms(overhead)} · "
                    + f"{_s(measured.self_cpu)} ({measured.self_cpu / measured.wall:.0%})",
                    "—",
                    f"lower bound {_s(lower_wall)}; median of {len(runs)} by wall "
                    + f"({', '.join(_s(c.wall) for c in runs)})",
                )
            )
        small, large = self.settings.sizes
        (cold_small, lower_small), (cold_large, _) = per_size[small], per_size[large]
        overhead = (cold_small.wall - lower_small) / small
        share = cold_small.self_cpu / cold_small.wall
        cpu_ratio = cold_large.self_cpu / cold_small.self_cpu
        wall_ratio = cold_large.wall / cold_small.wall
        ideal = large / small
        self.report.targets += [
            Target(
                f"cold run per-stage overhead, N={small:,} ≤ 3 ms", _ms(overhead), overhead <= 3e-3
            ),
            Target(
                f"scheduler process CPU < 30 % of the cold run, N={small:,}",
                f"{share:.0%} ({_s(cold_small.self_cpu)} of {_s(cold_small.wall)})",
                share < 0.30,
            ),
            Target(
                f"scheduler cost linear: CPU N={large:,} ÷ N={small:,} ≤ {ideal * 1.1:.1f}",
                f"{cpu_ratio:.2f} (wall {wall_ratio:.2f})",
                cpu_ratio <= ideal * 1.1,
            ),
        ]
        if self.dvc is not None:
            self._dvc_cold(overhead)

    def _lower_bound(self, project: shape.ProjectShape) -> float:
        """Wall time of the stage bodies in one plain Python process."""
        lower = self._fresh(f"lower-{project.size}")
        generate.write_project(project, generate.Form.LOWER_BOUND, lower)
        wall = cost([sys.executable, "lower_bound.py"], lower, self.pivot_env).wall
        self.deletions.remove(lower)
        return wall

    def _dvc_cold(self, pivot_overhead: float) -> None:
        n = self.settings.dvc_stages
        project = shape.layered(n)
        lower_wall = self._lower_bound(project)
        self.log(f"data path: DVC cold run, N={n}")
        copy = self._dvc_project(f"cold-{n}")
        generate.write_project(project, generate.Form.DVC, copy)
        measured = self._dvc(["repro", "-q"], copy)
        overhead = (measured.wall - lower_wall) / n
        self.report.rows.append(
            Row(
                f"cold run, N={n}: wall · per-stage overhead",
                "—",
                f"{_s(measured.wall)} · {_ms(overhead)}",
                f"DVC ÷ Pivot (N={self.settings.sizes[0]:,}) per stage: "
                + f"{overhead / pivot_overhead:.0f}×",
            )
        )
        self.deletions.remove(copy)

    # -- a stage writing a 20,000-file directory --------------------------------------------

    def drivers(self) -> dict[str, Driver]:
        found = {
            "Pivot": Driver(
                self._pivot_project,
                self._pivot,
                "pivot.yaml",
                "pipeline: bench\n",
                ("run", "-q"),
                ("track", "data"),
                ("checkout", "--mode", "copy", "data"),
                ("checkout", "--mode", "copy", "--verify", "data"),
            )
        }
        if self.dvc is not None:
            found["DVC"] = Driver(
                self._dvc_project,
                self._dvc,
                "dvc.yaml",
                "",
                ("repro", "-q"),
                ("add", "-q", "data"),
                ("checkout", "-q", "data.dvc"),
            )
        return found

    def directory_output(self) -> None:
        """Time each tool spends hashing and caching a directory a `cmd` stage wrote: `reps`
        times, the tools taking turns (AB, BA, …); each rep's caching is its run − the run of
        a 1-file stage − the writer's own time (both runs vary by tenths of a second)."""
        files, reps = self.settings.files, self.settings.reps
        drivers = list(self.drivers().items())
        measured: dict[str, list[tuple[float, float]]] = {tool: [] for tool, _ in drivers}
        for rep in range(reps):
            for tool, driver in drivers if rep % 2 == 0 else drivers[::-1]:
                self.log(f"data path: {tool} stage writing {files:,} files ({rep + 1}/{reps})")
                trivial, _ = self._directory_stage(driver, 1)
                wall, writer = self._directory_stage(driver, files)
                measured[tool].append((wall - trivial - writer, writer))

        def cell(tool: str) -> str:
            if tool not in measured:
                return "—"
            runs = measured[tool]
            return f"{_spread([c for c, _ in runs])} ({_s(_med([w for _, w in runs]))})"

        self.report.rows.append(
            Row(
                f"stage writing {files:,} files: caching time (writer's own time)",
                cell("Pivot"),
                cell("DVC"),
                "caching = run − run of a 1-file stage − writer"
                + ("" if reps == 1 else f"; median of {reps}, writer's median in brackets"),
            )
        )
        ratios = [c / w for c, w in measured["Pivot"]]
        ratio = _med(ratios)
        spread = "" if reps == 1 else f"; per rep {min(ratios):.2f}–{max(ratios):.2f}×"
        caching, writer = (_med([run[i] for run in measured["Pivot"]]) for i in (0, 1))
        self.report.targets.append(
            Target(
                f"{files:,}-file directory output cached in ≤ 2× the writer's own time",
                f"{ratio:.2f}× ({_s(caching)} vs {_s(writer)}){spread}",
                ratio <= 2,
            )
        )

    def _directory_stage(self, driver: Driver, count: int) -> tuple[float, float]:
        project = driver.project(f"dir-{count}")
        (project / "write_dir.py").write_text(WRITER_PY)
        (project / driver.stages_file).write_text(
            driver.header
            + "stages:\n  write:\n"
            + f"    cmd: python write_dir.py {count} out/files\n"
            + "    deps: [write_dir.py]\n    outs: [out/files]\n"
        )
        wall = driver.run(driver.repro, project).wall
        writer = float((project / "writer-seconds.txt").read_text())
        # Deleted with the rest at the end: freeing 40,000 inodes here would slow the file
        # creation of the tracked steps that follow (see `preconditions.SETTLE_SECONDS`).
        self.aside.put(project)
        return wall, writer

    # -- tracked data: re-track and checkout of 20,000 files -------------------------------

    def tracked_directory(self) -> None:
        files, reps = self.settings.files, self.settings.tracked_reps
        source = self.work / "source-files"
        transfer.make_small(source, files)
        drivers = self.drivers()
        self.log(f"data path: {', '.join(drivers)} track, re-track, checkout of {files:,} files")
        rows, targets = summarize(self.tracked_all(drivers, source, reps), files)
        self.report.rows += rows
        self.report.targets += targets

    def tracked_all(
        self, drivers: Mapping[str, Driver], source: pathlib.Path, reps: int
    ) -> dict[str, dict[str, list[float]]]:
        """Every tool through track, re-track and checkout, rep by rep, alternating which goes
        first (AB, BA, …), from the same preconditions (`render` states them).

        On ext4 without a journal (this VM's disk) a file created within minutes of many
        deletions costs far more (`preconditions.SETTLE_SECONDS`), so nothing is deleted from
        the first timed step to the last: a checkout's previous workspace is renamed aside, and
        everything goes once the steps are done. The first step waits until the bench's last
        deletion is old enough."""
        order = list(drivers.items())
        projects: dict[str, pathlib.Path] = {}
        for tool, driver in order:
            projects[tool] = driver.project("tracked")
            shutil.copytree(
                source, projects[tool] / "data", ignore=shutil.ignore_patterns(".complete-*")
            )
        steps: dict[str, dict[str, list[float]]] = {
            tool: {"track": [], "retrack": [], "checkout": []} for tool in drivers
        }

        def timed(tool: str, args: Sequence[str]) -> float:
            preconditions.warm(projects[tool])
            measure.settle(self.work, self.settings.ballast_mib)
            return drivers[tool].run(args, projects[tool]).wall

        def turns(rep: int) -> list[tuple[str, Driver]]:
            return order if rep % 2 == 0 else order[::-1]

        waits: list[str] = []

        def settle(before: str) -> None:
            if not self.skips_recent_inodes:
                return
            waited = self.deletions.settle(self.settings.settle_seconds)
            self.log(f"  waited {waited:.0f} s for the last deletion to age")
            waits.append(f"{waited:.0f} s before {before}")

        settle("the first track")
        for tool, driver in order:
            steps[tool]["track"].append(timed(tool, driver.add))
        if self.skips_recent_inodes:
            self.deletions.note()  # a first track deletes too (DVC: a temp file per object)
        for rep in range(reps):
            for tool, driver in turns(rep):
                steps[tool]["retrack"].append(timed(tool, driver.add))
        settle("the first checkout")
        self.report.settled = (
            f"ext4 without a journal: waited {' and '.join(waits)}"
            if self.skips_recent_inodes
            else "a filesystem with a journal (or not ext4): no wait needed"
        )
        for rep in range(reps):
            for tool, driver in turns(rep):
                self.aside.put(projects[tool] / "data")
                steps[tool]["checkout"].append(timed(tool, driver.checkout))
        for tool, driver in order:
            if driver.verify is not None:
                self.aside.put(projects[tool] / "data")
                steps[tool]["verify"] = [timed(tool, driver.verify)]
        self.deletions.remove(self.aside.root)
        for project in projects.values():
            self.deletions.remove(project)
        return steps

    # -- one big file: peak memory -----------------------------------------------------------

    def big_file(self) -> None:
        mib = self.settings.big_mib
        source = self.work / f"big-{mib}MiB.bin"
        self.log(f"data path: tracking one {mib} MiB file")
        hashing.make_file(source, mib << 20)
        peaks: dict[str, Cost] = {}
        project = self._pivot_project("big")
        shutil.copyfile(source, project / "big.bin")
        peaks["Pivot"] = self._pivot(["track", "big.bin"], project)
        self.deletions.remove(project)
        if self.dvc is not None:
            project = self._dvc_project("big")
            shutil.copyfile(source, project / "big.bin")
            peaks["DVC"] = self._dvc(["add", "-q", "big.bin"], project)
            self.deletions.remove(project)
        shown = {t: f"{c.peak_kib / 1024:.0f} MiB ({_s(c.wall)})" for t, c in peaks.items()}
        self.report.rows.append(
            Row(
                f"track one {mib:,} MiB file: peak RSS (wall)",
                shown["Pivot"],
                shown.get("DVC", "—"),
            )
        )
        peak = peaks["Pivot"].peak_kib / 1024
        self.report.targets.append(
            Target(
                f"peak RSS tracking a {mib:,} MiB file ≤ 150 MiB", f"{peak:.0f} MiB", peak <= 150
            )
        )


def summarize(
    steps: Mapping[str, Mapping[str, Sequence[float]]], files: int
) -> tuple[list[Row], list[Target]]:
    """Rows and targets of the tracked steps: medians, their ratio, and the ratio of each rep's
    pair (the two tools ran back to back in every rep)."""
    labels = {
        "track": f"track {files:,} files (first time)",
        "retrack": f"no-op re-track of {files:,} files",
        "checkout": f"checkout of {files:,} files, copy mode (into an empty workspace)",
        "verify": f"checkout of {files:,} files, copy mode, `--verify` (re-hash)",
    }
    rows: list[Row] = []
    for step, label in labels.items():
        pivot = steps["Pivot"].get(step)
        dvc = steps.get("DVC", {}).get(step)
        note = f"DVC ÷ Pivot {_ratio(dvc, pivot)}" if pivot and dvc else ""
        rows.append(
            Row(label, _spread(pivot) if pivot else "—", _spread(dvc) if dvc else "—", note)
        )
    targets: list[Target] = []
    for step, factor in (("checkout", 3), ("retrack", 5)):
        pivot, dvc = steps["Pivot"].get(step), steps.get("DVC", {}).get(step)
        goal = f"{labels[step]}: DVC ÷ Pivot ≥ {factor}"
        if not pivot or not dvc:
            targets.append(Target(goal, "DVC not measured", None))
            continue
        ratio = _med(dvc) / _med(pivot)
        measured = f"{ratio:.1f}× ({_s(_med(dvc))} vs {_s(_med(pivot))})"
        if len(pivot) == len(dvc) > 1:
            measured += f"; per rep {_pairs(dvc, pivot)}"
        targets.append(Target(goal, measured, ratio >= factor))
    return rows, targets


def _ratio(dvc: Sequence[float], pivot: Sequence[float]) -> str:
    text = f"{_med(dvc) / _med(pivot):.1f}×"
    return f"{text} (per rep {_pairs(dvc, pivot)})" if len(pivot) == len(dvc) > 1 else text


def _pairs(dvc: Sequence[float], pivot: Sequence[float]) -> str:
    ratios = [d / p for d, p in zip(dvc, pivot, strict=True)]
    return f"{min(ratios):.1f}–{max(ratios):.1f}×"


def run(
    work: pathlib.Path,
    settings: Settings,
    dvc: dvc_env.DvcEnv | None,
    log: Callable[[str], None],
) -> Report:
    """Every data-path measure of issue 18, Pivot beside DVC, in one run."""
    bench = Bench(work, settings, dvc, log)
    bench.work.mkdir(parents=True, exist_ok=True)
    steps = (bench.cold_runs, bench.directory_output, bench.tracked_directory, bench.big_file)
    if settings.cold_only:
        steps = (bench.cold_runs,)
    elif settings.tracked_only:
        steps = (bench.tracked_directory,)
    elif settings.dir_only:
        steps = (bench.directory_output,)
    for step in steps:
        try:
            step()
        except measure.CommandFailedError as exc:
            bench.report.notes.append(f"{step.__name__}: {exc.short}")
            log(f"  ! {step.__name__}: {exc.short}")
    bench.deletions.remove(bench.work)
    return bench.report


def render(report: Report, settings: Settings) -> str:
    met = sum(1 for t in report.targets if t.met)
    missed = sum(1 for t in report.targets if t.met is False)
    lines = [
        f"## Targets (issue 18): {met} met, {missed} missed",
        "",
        "| target | measured | verdict |",
        "|---|---|---|",
        *(
            f"| {t.goal} | {t.measured} | "
            + ("met" if t.met else "not measured" if t.met is None else "**missed**")
            + " |"
            for t in report.targets
        ),
        "",
        "## Measures",
        "",
        "Wall-clock time of the whole command; `scheduler CPU` is the CPU time of the `pivot` "
        + "process itself (workers excluded). Data: "
        + f"{settings.files:,} files of 1–4 KiB in 100 directories; DVC with `cache.type copy`."
        + (
            ""
            if settings.tracked_only
            else f" Repeated measures: median (min–max) of {settings.reps}"
            + ("." if settings.dir_only else ", the tracked steps below excepted.")
        ),
        "",
        *([] if settings.cold_only or settings.dir_only else [*_conditions(report, settings), ""]),
        "| measure | Pivot | DVC | note |",
        "|---|---|---|---|",
        *(f"| {r.what} | {r.pivot} | {r.dvc} | {r.note} |" for r in report.rows),
    ]
    if report.notes:
        lines += ["", "## Notes", "", *(f"- {n}" for n in report.notes)]
    return "\n".join(lines)


def _conditions(report: Report, settings: Settings) -> list[str]:
    """How track, re-track and checkout are made comparable between the tools."""
    return [
        "Conditions of track, re-track and checkout (the same for each tool):",
        "",
        "- The tools take turns rep by rep (AB, BA, …); median (min–max) of "
        + f"{settings.tracked_reps} re-tracks and checkouts each, and the DVC ÷ Pivot ratio of "
        + "each rep's pair (run back to back) as its spread.",
        "- Nothing is deleted from the first timed step to the last: before each checkout the "
        + "previous workspace is renamed aside (its inodes stay in use), and all of them are "
        + "deleted after the last step"
        + (
            "."
            if settings.tracked_only
            else "; the directory-output step's projects wait there too."
        ),
        "- On ext4 without a journal (this VM's own disk, `--scratch work`) the inode allocator "
        + "skips every free inode deleted less than 60 s ago, or 360 s while its inode-table "
        + "block is dirty, so files created minutes after a mass deletion cost several times "
        + "more, most for whichever tool creates files first (earlier reports, each checkout "
        + "right after deleting the 20,000 files, swung 2.1–7.7× on checkout). There the bench "
        + "syncs and waits, before the first track and again before the first checkout (a "
        + "first track deletes files too: DVC unlinks a temp file per object), until the last "
        + f"deletion is {settings.settle_seconds:.0f} s old. This run: "
        + f"{report.settled or 'not measured'}.",
        "- Before each timed command, that tool's project (workspace, cache, state) is read "
        + "through, so its pages and inodes are in memory; then dirty pages are flushed and "
        + f"{settings.ballast_mib} MiB of memory freed just before (`measure.settle`, as the "
        + "transfer bench does): every command starts with the same page-cache state, no "
        + "writeback of the previous one pending, and no cost of memory the VM gave back to "
        + "its host. Caches are not dropped (that would time the virtual disk).",
        "- Not controlled: other processes on the host (load at start and end in the header).",
    ]
