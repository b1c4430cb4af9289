import dataclasses
import pathlib
import shutil
import statistics
import sys
import time
from collections.abc import Callable, Mapping, Sequence

from benchmarks import dvc_env, generate, measure, shape, tools

SETTLE_SECONDS = 2.2
"""Wait after writing outputs: a snapshot (and the fingerprint cache) trusts only older stamps."""

RSS_PROBE = (
    "import resource, subprocess, sys\n"
    "subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)\n"
    "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n"
)

DIR_FILES = 5000
DIR_SCRIPT = """\
import pathlib
import sys

src, dst = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])
dst.mkdir(parents=True, exist_ok=True)
for path in sorted(src.iterdir()):
    (dst / path.name).write_text(str(len(path.read_text())))
"""
SUMMARY_SCRIPT = """\
import pathlib
import sys

src, dst = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])
dst.write_text(str(sum(int(p.read_text()) for p in src.iterdir())))
"""
DIR_YAML = """\
stages:
  featurize:
    cmd: python featurize.py data/raw data/features
    deps: [featurize.py, data/raw]
    outs: [data/features]
  summarize:
    cmd: python summarize.py data/features summary.txt
    deps: [summarize.py, data/features]
    outs: [summary.txt]
"""


@dataclasses.dataclass
class Row:
    label: str
    before: list[float]
    after: list[float]

    def cells(self) -> str:
        b, a = statistics.median(self.before), statistics.median(self.after)
        return f"| {self.label} | {_s(b)} | {_s(a)} | {b / a:.1f}× |"


@dataclasses.dataclass
class NoopResults:
    rows: list[Row] = dataclasses.field(default_factory=list[Row])
    fast: dict[tuple[str, int, str], float] = dataclasses.field(default_factory=dict)
    full: dict[tuple[str, int, str], float] = dataclasses.field(default_factory=dict)
    extras: list[str] = dataclasses.field(default_factory=list[str])


def _s(seconds: float) -> str:
    return f"{seconds * 1000:.0f} ms" if seconds < 10 else f"{seconds:.1f} s"


def _median(
    command: Sequence[str], cwd: pathlib.Path, env: Mapping[str, str], reps: int
) -> list[float]:
    return [measure.timed(command, cwd, env) for _ in range(reps)]


def _peak_rss_kib(command: Sequence[str], cwd: pathlib.Path, env: Mapping[str, str]) -> int:
    done = measure.run([sys.executable, "-c", RSS_PROBE, *command], cwd, env)
    return int(done.stdout.strip())


def _before_after(
    out: NoopResults,
    *,
    label: str,
    key: tuple[str, int, str],
    command: tuple[str, ...],
    copy: pathlib.Path,
    env: Mapping[str, str],
    reps: int,
) -> None:
    """Full check (`--no-fast`) then the snapshot, alternating so load drifts hit both."""
    measure.run((*command, "--no-fast"), copy, env)  # warm-up: page cache, bytecode
    measure.run(command, copy, env)  # records the snapshot
    measure.run((command[0], "-v", *command[1:]), copy, env)
    checked = measure.run((command[0], "-v", *command[1:]), copy, env)
    if "nothing changed (" not in checked.stderr:
        out.extras.append(f"{label}: NOT answered from the snapshot: {checked.stderr.strip()}")
    before: list[float] = []
    after: list[float] = []
    for _ in range(reps):
        before.append(measure.timed((*command, "--no-fast"), copy, env))
        after.append(measure.timed(command, copy, env))
    out.rows.append(Row(label, before, after))
    out.full[key] = statistics.median(before)
    out.fast[key] = statistics.median(after)


def measure_noop(
    work: pathlib.Path,
    sizes: Sequence[int],
    reps: int,
    *,
    dvc: dvc_env.DvcEnv | None,
    log: Callable[[str], None],
) -> NoopResults:
    out = NoopResults()
    runs = work / "noop"
    shutil.rmtree(runs, ignore_errors=True)
    env = tools.pivot(generate.Form.PIVOT_PYTHON).env
    exe = str(tools.pivot_executable())
    import_pivot = _median([sys.executable, "-c", "import pivot"], work, env, max(reps, 5))
    out.fast[("import", 0, "")] = statistics.median(import_pivot)
    for n in sizes:
        for form in (generate.Form.PIVOT_PYTHON, generate.Form.PIVOT_CMD):
            copy = runs / f"{form}-{n}"
            generate.write_project(shape.layered(n), form, copy)
            measure.run((exe, "init"), copy, env)
            log(f"noop: {form} N={n}: cold run")
            cold = measure.timed((exe, "run"), copy, env)
            out.extras.append(
                f"cold run, {form}, N={n}: {_s(cold)} ({cold / n * 1000:.1f} ms/stage)"
            )
            time.sleep(SETTLE_SECONDS)
            for command in ("run", "status"):
                log(f"noop: {form} N={n}: no-op {command}, full vs snapshot ×{reps}")
                _before_after(
                    out,
                    label=f"no-op `pivot {command}`, {form}, N={n}",
                    key=(form, n, command),
                    command=(exe, command),
                    copy=copy,
                    env=env,
                    reps=reps,
                )
            if n == max(sizes):
                full = _peak_rss_kib((exe, "run", "--no-fast"), copy, env)
                fast = _peak_rss_kib((exe, "run"), copy, env)
                out.extras.append(
                    f"peak RSS of a no-op `pivot run`, {form}, N={n}: "
                    + f"full check {full / 1024:.0f} MiB, snapshot {fast / 1024:.0f} MiB"
                )
            if dvc is not None and form is generate.Form.PIVOT_CMD and n == 176:
                _dvc_noop(out, n=n, dvc=dvc, runs=runs, reps=reps, log=log)
            shutil.rmtree(copy)
    _single_stage(out, runs=runs, env=env, exe=exe, reps=reps, log=log)
    _directories(out, runs=runs, env=env, exe=exe, reps=reps, dvc=dvc, log=log)
    return out


def _dvc_noop(
    out: NoopResults,
    *,
    n: int,
    dvc: dvc_env.DvcEnv,
    runs: pathlib.Path,
    reps: int,
    log: Callable[[str], None],
) -> None:
    spec = tools.dvc(dvc, runs / "dvc-site-cache")
    copy = runs / f"dvc-{n}"
    generate.write_project(shape.layered(n), generate.Form.DVC, copy)
    for command in spec.setup:
        measure.run(command, copy, spec.env)
    log(f"noop: dvc N={n}: cold repro, then no-op ×{reps}")
    measure.run(spec.run, copy, spec.env)
    out.full[("dvc", n, "run")] = statistics.median(_median(spec.run, copy, spec.env, reps))
    shutil.rmtree(copy)


def _single_stage(
    out: NoopResults,
    *,
    runs: pathlib.Path,
    env: Mapping[str, str],
    exe: str,
    reps: int,
    log: Callable[[str], None],
) -> None:
    log(f"noop: one trivial stage, cold end-to-end ×{reps}")
    template = runs / "single-template"
    (template / "out").mkdir(parents=True)
    (template / "pipeline.py").write_text(
        "from typing import Annotated\n\nfrom pivot import loaders, outputs\n"
        + "from pivot.pipeline import Pipeline\n\n\n"
        + "def one() -> Annotated[str, outputs.Out('out/one.txt', loaders.Text())]:\n"
        + "    return 'one'\n\n\npipeline = Pipeline('single')\npipeline.register(one)\n"
    )
    cold: list[float] = []
    copy = runs / "single"
    for rep in range(reps):
        copy = runs / f"single-{rep}"
        shutil.copytree(template, copy)
        measure.run((exe, "init"), copy, env)
        cold.append(measure.timed((exe, "run"), copy, env))
    time.sleep(SETTLE_SECONDS)
    _before_after(
        out,
        label="no-op `pivot run`, one stage",
        key=("single", 1, "run"),
        command=(exe, "run"),
        copy=copy,
        env=env,
        reps=reps,
    )
    out.full[("single", 1, "cold")] = statistics.median(cold)


def _directories(
    out: NoopResults,
    *,
    runs: pathlib.Path,
    env: Mapping[str, str],
    exe: str,
    reps: int,
    dvc: dvc_env.DvcEnv | None,
    log: Callable[[str], None],
) -> None:
    """Two cmd stages over a directory of DIR_FILES files (featurize → summarize)."""
    template = runs / "dirs-template"
    raw = template / "data" / "raw"
    raw.mkdir(parents=True)
    for i in range(DIR_FILES):
        (raw / f"f{i:05d}.txt").write_text("x" * (i % 97))
    (template / "featurize.py").write_text(DIR_SCRIPT)
    (template / "summarize.py").write_text(SUMMARY_SCRIPT)
    copy = runs / "dirs-pivot"
    shutil.copytree(template, copy)
    (copy / "pivot.yaml").write_text(DIR_YAML)
    measure.run((exe, "init"), copy, env)
    log(f"noop: directory project ({DIR_FILES} files), pivot")
    measure.run((exe, "run"), copy, env)
    time.sleep(SETTLE_SECONDS)
    _before_after(
        out,
        label=f"no-op `pivot run`, cmd stages over {DIR_FILES} files",
        key=("dirs", DIR_FILES, "run"),
        command=(exe, "run"),
        copy=copy,
        env=env,
        reps=reps,
    )
    if dvc is not None:
        spec = tools.dvc(dvc, runs / "dvc-site-cache")
        copy = runs / "dirs-dvc"
        shutil.copytree(template, copy)
        (copy / "dvc.yaml").write_text(DIR_YAML)
        for command in spec.setup:
            measure.run(command, copy, spec.env)
        log(f"noop: directory project ({DIR_FILES} files), dvc")
        measure.run(spec.run, copy, spec.env)
        out.full[("dvc-dirs", DIR_FILES, "run")] = statistics.median(
            _median(spec.run, copy, spec.env, reps)
        )


def _goal(text: str, value: float, limit: float, *, at_least: bool) -> str:
    met = value >= limit if at_least else value <= limit
    bound = f"{'≥' if at_least else '≤'} {limit:g}"
    return f"| {text} | {value:.2f} | {bound} | {'met' if met else 'missed'} |"


def render(out: NoopResults) -> str:
    lines = [
        "Before = the full check (`--no-fast`: import the pipeline, fingerprint, read every lock "
        + "record); after = the answer from the snapshot of file stamps (the default). Medians, "
        + "before and after alternating in one run.",
        "",
        "| measure | before (full check) | after (snapshot) | speedup |",
        "|---|---|---|---|",
        *(row.cells() for row in out.rows),
        "",
        "| goal (issue 15) | value | target | verdict |",
        "|---|---|---|---|",
    ]
    imp = out.fast[("import", 0, "")]
    py = generate.Form.PIVOT_PYTHON
    dvc176 = out.full.get(("dvc", 176, "run"))
    fast176 = out.fast.get((generate.Form.PIVOT_CMD, 176, "run"))
    if dvc176 is not None and fast176 is not None:
        lines.append(
            _goal(
                "N=176 (`pivot.yaml`): `dvc repro` no-op ÷ Pivot no-op",
                dvc176 / fast176,
                30,
                at_least=True,
            )
        )
    for form in (py, generate.Form.PIVOT_CMD):
        f1000 = out.fast.get((form, 1000, "run"))
        if f1000 is not None:
            lines.append(
                _goal(
                    f"N=1000 ({form}): no-op ÷ `python -c 'import pivot'` ({_s(imp)})",
                    f1000 / imp,
                    3,
                    at_least=False,
                )
            )
        f10k = out.fast.get((form, 10000, "run"))
        if f1000 is not None and f10k is not None:
            lines.append(
                _goal(f"growth ({form}): no-op N=10,000 ÷ N=1,000", f10k / f1000, 5, at_least=False)
            )
            full_growth = out.full[(form, 10000, "run")] / out.full[(form, 1000, "run")]
            lines.append(
                f"| growth ({form}) of the full check, for comparison | {full_growth:.2f} | — | — |"
            )
    dirs_dvc = out.full.get(("dvc-dirs", DIR_FILES, "run"))
    dirs_fast = out.fast.get(("dirs", DIR_FILES, "run"))
    if dirs_dvc is not None and dirs_fast is not None:
        lines.append(
            _goal(
                f"directory project ({DIR_FILES} files): DVC no-op ÷ Pivot no-op",
                dirs_dvc / dirs_fast,
                10,
                at_least=True,
            )
        )
    single_cold = out.full.get(("single", 1, "cold"))
    single_full = out.full.get(("single", 1, "run"))
    single_fast = out.fast.get(("single", 1, "run"))
    if single_cold is not None and single_full is not None:
        # A cold run does all the full check does (import the pipeline, fingerprint, read the
        # lock records) and then runs: the goal holds it against that check. The snapshot
        # answers without importing the pipeline, which no run that executes a stage can skip.
        lines.append(
            _goal(
                "one trivial stage, cold end-to-end ÷ its full-check no-op (`--no-fast`)",
                single_cold / single_full,
                2,
                at_least=False,
            )
        )
    if single_cold is not None and single_fast is not None:
        lines.append(
            "| one trivial stage, cold end-to-end ÷ its snapshot no-op, for comparison | "
            + f"{single_cold / single_fast:.2f} | — | — |"
        )
    lines += ["", *(f"- {e}" for e in out.extras)]
    if dvc176 is not None:
        lines.append(f"- `dvc repro` no-op, N=176: {_s(dvc176)}")
    if dirs_dvc is not None:
        lines.append(f"- `dvc repro` no-op, directory project: {_s(dirs_dvc)}")
    lines.append(f"- `python -c 'import pivot'`: {_s(imp)}")
    return "\n".join(lines) + "\n"
