import argparse
import datetime
import os
import pathlib
import platform
import shutil
import socket
import sys

from benchmarks import (
    ab,
    cluster,
    cold_ab,
    data_diff,
    data_path,
    dvc_env,
    generate,
    hashing,
    measure,
    noop,
    preconditions,
    profiling,
    report,
    results,
    scratch,
    shape,
    suite,
    tools,
    transfer,
)

HERE = pathlib.Path(__file__).resolve().parent
PROFILE_SIZE = 176


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="just bench",
        description="Pivot side by side with DVC and the no-tool lower bound.",
    )
    parser.add_argument("--sizes", default="10,176", help="stage counts, comma-separated")
    parser.add_argument("--full", action="store_true", help="also N=1000 (slow with --dvc)")
    parser.add_argument("--dvc", action="store_true", help="also measure DVC (own venv)")
    parser.add_argument("--reps", type=int, default=3, help="repetitions per measure")
    parser.add_argument("--dvc-cold-reps", type=int, default=1, help="timed cold DVC runs")
    parser.add_argument(
        "--dvc-max-n", type=int, default=176, help="largest N DVC runs at (N=1000 takes minutes)"
    )
    parser.add_argument("--no-yaml", action="store_true", help="skip the pivot.yaml cmd form")
    parser.add_argument("--no-parallel", action="store_true", help="skip the speedup measure")
    parser.add_argument("--cpu-seconds", type=float, default=0.5, help="CPU per fan-out stage")
    parser.add_argument("--no-hash", action="store_true", help="skip the hashing measure")
    parser.add_argument("--hash-mib", type=int, default=1024, help="hashing file size")
    parser.add_argument(
        "--transfer", action="store_true", help="also push/pull to a local-directory remote"
    )
    parser.add_argument("--transfer-only", action="store_true", help="only the transfer benchmark")
    parser.add_argument("--transfer-files", type=int, default=20_000, help="small files")
    parser.add_argument("--transfer-mib", type=int, default=1024, help="large file size")
    parser.add_argument(
        "--data-path",
        action="store_true",
        help="only the data-path measures of issue 18 (cold runs at 1,000 and 3,000 stages, "
        + "a 20,000-file output, track/re-track/checkout, a 2 GiB file), own report",
    )
    parser.add_argument(
        "--data-cold-only",
        action="store_true",
        help="with --data-path: only the cold runs (per-stage overhead, scheduler CPU, linearity)",
    )
    parser.add_argument(
        "--data-tracked-only",
        action="store_true",
        help="with --data-path: only track, re-track and checkout of --data-files files "
        + "(report <date>-<host>-data-path-tracked.md)",
    )
    parser.add_argument(
        "--data-dir-only",
        action="store_true",
        help="with --data-path: only the stage writing a --data-files-file directory output, "
        + "--reps times per tool (report <date>-<host>-data-path-dir.md)",
    )
    parser.add_argument(
        "--data-tracked-reps", type=int, default=5, help="re-tracks and checkouts per tool"
    )
    parser.add_argument(
        "--data-settle",
        type=float,
        default=preconditions.SETTLE_SECONDS,
        help="seconds the bench's last deletion must be old before the first timed track "
        + "(ext4 without a journal slows file creation for minutes after mass deletions)",
    )
    parser.add_argument("--data-files", type=int, default=20_000, help="files (data path)")
    parser.add_argument("--data-big-mib", type=int, default=2048, help="big file (data path)")
    parser.add_argument(
        "--data-sizes", default="1000,3000", help="two cold-run stage counts (data path)"
    )
    parser.add_argument(
        "--noop", action="store_true", help="only the no-op benchmark: full check vs snapshot"
    )
    parser.add_argument("--noop-sizes", default="176,1000,10000", help="stage counts for --noop")
    parser.add_argument(
        "--ab",
        metavar="REV",
        help="only A/B: no-op run/status of commit REV (a worktree) vs this checkout, alternating",
    )
    parser.add_argument(
        "--cold-ab",
        metavar="REV",
        help="only A/B of cold runs (N=--ab-size, default 1000 here) and a one-stage cold run "
        + "vs its no-op: commit REV vs this checkout, alternating",
    )
    parser.add_argument("--ab-reps", type=int, default=10, help="timings per side for --ab")
    parser.add_argument("--ab-size", type=int, default=PROFILE_SIZE, help="stages for --ab")
    parser.add_argument("--no-diff", action="store_true", help="skip the data diff measure")
    parser.add_argument("--diff-mib", type=int, default=1024, help="data diff CSV size")
    parser.add_argument("--profile", action="store_true", help="cProfile Pivot at N=176")
    parser.add_argument(
        "--dask", action="store_true", help="also Pivot on a Dask LocalCluster (pivot[dask])"
    )
    parser.add_argument("--quick", action="store_true", help="smoke run: N=10, 1 rep, small")
    parser.add_argument("--work", type=pathlib.Path, default=HERE / ".work")
    parser.add_argument(
        "--scratch",
        choices=("image", "work"),
        default="image",
        help="where --transfer-only and --data-path write: a fresh journaled ext4 image, "
        + "loop-mounted under --work (default; needs root, else falls back and says so), or "
        + "--work's own filesystem (see benchmarks/scratch.py)",
    )
    parser.add_argument("--results", type=pathlib.Path, default=HERE / "results")
    args = parser.parse_args(argv)
    if args.quick:
        args.sizes, args.reps, args.hash_mib, args.cpu_seconds = "10", 1, 64, 0.2
        args.transfer_files, args.transfer_mib = 500, 64
        args.data_files, args.data_big_mib, args.data_sizes = 500, 64, "20,60"
        args.data_tracked_reps, args.data_settle = 2, 0.0
    return args


def sizes(args: argparse.Namespace) -> list[int]:
    chosen = {int(s) for s in args.sizes.split(",") if s.strip()}
    if args.full:
        chosen.add(1000)
    return sorted(chosen)


def specs(
    args: argparse.Namespace, out: results.Results, work: pathlib.Path
) -> list[tools.ToolSpec]:
    chosen = [tools.pivot(generate.Form.PIVOT_PYTHON)]
    if not args.no_yaml:
        chosen.append(tools.pivot(generate.Form.PIVOT_CMD))
    installed = dvc_if_asked(args, out, work, "DVC columns")
    if installed is not None:
        chosen.append(tools.dvc(installed, work / "dvc-site-cache"))
    chosen.append(tools.lower_bound())
    return chosen


def dvc_if_asked(
    args: argparse.Namespace, out: results.Results, work: pathlib.Path, skipped: str
) -> dvc_env.DvcEnv | None:
    """DVC when `--dvc` asks for it and it installs; else None, with the reason in the report.

    `skipped` names what the report leaves out without DVC ("DVC columns").
    """
    if not args.dvc:
        out.meta["dvc"] = "not measured (add --dvc)"
        return None
    installed = dvc_env.ensure(log=work / "dvc-install.log")
    if isinstance(installed, str):
        print(f"note: {installed}; {skipped} skipped", flush=True)
        out.notes.append(f"{installed}; {skipped} skipped")
        out.meta["dvc"] = "not installed"
        return None
    out.meta["dvc"] = installed.version
    return installed


def profile(ctx: suite.Context, n: int) -> None:
    spec = tools.pivot(generate.Form.PIVOT_PYTHON)
    template = ctx.template(spec.form, shape.layered(n))
    ctx.log(f"profiling Pivot at N={n}")
    copy = ctx.fresh(template, spec)
    runs = [
        (f"`pivot run` cold, N={n} (CLI process only)", ("run",)),
        (f"`pivot run` no-op, N={n}", ("run",)),
        (f"`pivot status`, N={n}", ("status",)),
        ("`pivot --help`", ("--help",)),
    ]
    try:
        for title, args in runs:
            ctx.out.profiles.append((title, profiling.profile_pivot(args, copy, spec.env)))
        imported = suite.import_times([str(tools.pivot_executable()), "run"], copy, spec.env)
        ctx.out.profiles.append(
            (
                f"`pivot run` no-op, N={n}: imports (python -X importtime)",
                suite.top_imports(imported),
            )
        )
    except measure.CommandFailedError as exc:
        ctx.fail("profile", exc)
    shutil.rmtree(copy)


def add_transfer(args: argparse.Namespace, out: results.Results, work: pathlib.Path) -> None:
    installed = dvc_if_asked(args, out, work, "DVC transfer column")
    with scratch.filesystem(work / "fs", image=args.scratch == "image") as (where, disk):
        out.meta["disk"] = disk
        timings = transfer.measure(
            where,
            files=args.transfer_files,
            mib=args.transfer_mib,
            dvc=installed,
            reps=args.reps,
            log=lambda text: print(f"· {text}", flush=True),
        )
    out.sections.append(
        (
            "Transfers: push, then pull into an empty cache",
            transfer.render(
                timings, files=args.transfer_files, mib=args.transfer_mib, reps=args.reps
            ),
        )
    )


def transfer_only(
    args: argparse.Namespace,
    out: results.Results,
    work: pathlib.Path,
) -> int:
    """`just bench --transfer-only [--dvc]`: the transfer section alone, in its own report."""
    load_at_start = load_average()
    add_transfer(args, out, work)
    out.meta["load"] = f"{load_at_start} at start, {load_average()} at end"
    title, section = out.sections[0]
    return write_report(args, out, "transfer", f"## {title}\n\n{section}")


def write_report(args: argparse.Namespace, out: results.Results, kind: str, body: str) -> int:
    """A one-section report `<date>-<host>-<kind>.md`: title, run details, `body`."""
    meta = " · ".join(f"{k}: {v}" for k, v in out.meta.items() if k not in ("date", "host"))
    today, host = out.meta["date"], out.meta["host"]
    text = f"# Pivot {kind} benchmark — {today} on {host}\n\n{meta}\n\n{body}\n"
    args.results.mkdir(parents=True, exist_ok=True)
    path = args.results / f"{today}-{host}-{kind}.md"
    path.write_text(text)
    print()
    print(text)
    print(f"report written to {path}")
    return 0


def data_path_only(args: argparse.Namespace, out: results.Results, work: pathlib.Path) -> int:
    """`just bench --data-path [--dvc]`: issue 18's measures, Pivot beside DVC, own report."""
    load_at_start = load_average()
    installed = dvc_if_asked(args, out, work, "DVC column")
    small, large = (int(s) for s in args.data_sizes.split(","))
    settings = data_path.Settings(
        sizes=(small, large),
        files=args.data_files,
        big_mib=args.data_big_mib,
        reps=args.reps,
        dvc_stages=min(100, small),
        cold_only=args.data_cold_only,
        tracked_reps=args.data_tracked_reps,
        tracked_only=args.data_tracked_only,
        dir_only=args.data_dir_only,
        settle_seconds=args.data_settle,
    )
    with scratch.filesystem(work / "fs", image=args.scratch == "image") as (where, disk):
        out.meta["disk"] = disk
        report = data_path.run(
            where, settings, installed, lambda text: print(f"· {text}", flush=True)
        )
    report.notes.extend(out.notes)
    out.meta["load"] = f"{load_at_start} at start, {load_average()} at end"
    kind = (
        "data-path-cold"
        if args.data_cold_only
        else "data-path-tracked"
        if args.data_tracked_only
        else "data-path-dir"
        if args.data_dir_only
        else "data-path"
    )
    return write_report(args, out, kind, data_path.render(report, settings))


def noop_only(args: argparse.Namespace, out: results.Results, work: pathlib.Path) -> int:
    """`just bench --noop [--dvc]`: no-op before (full check) → after (snapshot), own report."""
    load_at_start = load_average()
    installed = dvc_if_asked(args, out, work, "DVC rows")
    chosen = sorted({int(s) for s in args.noop_sizes.split(",") if s.strip()})
    if args.quick:
        chosen = [10, 20]
    measured = noop.measure_noop(
        work, chosen, args.reps, dvc=installed, log=lambda text: print(f"· {text}", flush=True)
    )
    out.meta["load"] = f"{load_at_start} at start, {load_average()} at end"
    notes = "".join(f"- note: {n}\n" for n in out.notes)
    return write_report(
        args, out, "noop", f"## No-op: full check → snapshot\n\n{noop.render(measured)}{notes}"
    )


def ab_only(args: argparse.Namespace, out: results.Results, work: pathlib.Path) -> int:
    """`just bench --ab REV`: REV against this checkout in one run, in its own report."""
    load_at_start = load_average()
    section = ab.measure_ab(
        HERE.parent,
        args.ab,
        work,
        n=args.ab_size,
        reps=args.ab_reps,
        log=lambda text: print(f"· {text}", flush=True),
    )
    out.meta["load"] = f"{load_at_start} at start, {load_average()} at end"
    out.meta.pop("reps", None)
    title = f"A/B: no-op `pivot run` and `pivot status`, N={args.ab_size}"
    return write_report(args, out, "ab", f"## {title}\n\n{section}")


def cold_ab_only(args: argparse.Namespace, out: results.Results, work: pathlib.Path) -> int:
    """`just bench --cold-ab REV`: cold runs of REV and this checkout, alternating."""
    load_at_start = load_average()
    n = 1000 if args.ab_size == PROFILE_SIZE else args.ab_size
    section = cold_ab.measure_cold_ab(
        HERE.parent,
        args.cold_ab,
        work,
        n=n,
        reps=args.reps,
        log=lambda text: print(f"· {text}", flush=True),
    )
    out.meta["load"] = f"{load_at_start} at start, {load_average()} at end"
    return write_report(args, out, "cold-ab", f"## A/B: cold runs\n\n{section}")


def load_average() -> str:
    """1-minute load average: the machine is shared, so say how busy it was."""
    return f"{os.getloadavg()[0]:.1f}"


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    cores = os.cpu_count() or 1
    work: pathlib.Path = args.work
    for stale in ("runs", "templates", "dvc-site-cache"):
        shutil.rmtree(work / stale, ignore_errors=True)
    work.mkdir(parents=True, exist_ok=True)
    load_at_start = load_average()
    today = datetime.date.today().isoformat()
    host = socket.gethostname().split(".")[0]
    out = results.Results(
        meta={
            "date": today,
            "host": host,
            "command": " ".join(["just bench", *(sys.argv[1:] if argv is None else argv)]),
            "machine": f"{cores} cores {platform.machine()}",
            "python": platform.python_version(),
            "pivot": suite.git_describe(HERE.parent),
            "reps": str(args.reps),
        }
    )
    if args.transfer_only:
        return transfer_only(args, out, work)
    if args.noop:
        return noop_only(args, out, work)
    if args.data_path:
        return data_path_only(args, out, work)
    if args.ab:
        return ab_only(args, out, work)
    if args.cold_ab:
        return cold_ab_only(args, out, work)
    out.sizes = sizes(args)
    chosen = specs(args, out, work)
    out.tools = [s.tool for s in chosen]
    ctx = suite.Context(work=work, reps=args.reps, dvc_cold_reps=args.dvc_cold_reps, out=out)
    suite.warm_up(ctx, chosen)
    for n in out.sizes:
        project = shape.layered(n)
        for spec in chosen:
            if spec.tool is results.Tool.DVC and n > args.dvc_max_n:
                out.grid[(n, results.Measure.COLD, spec.tool)] = "skipped (--dvc-max-n)"
                continue
            suite.measure_tool(ctx, spec, project)
    suite.overheads(out)
    suite.noop_scaling(out)
    if not args.no_parallel:
        suite.measure_parallel(ctx, cores, args.cpu_seconds)
    if not args.no_hash:
        ctx.log(f"hashing: {args.hash_mib} MiB file, ×{args.reps}")
        label, measured = hashing.measure(
            work / f"hash-{args.hash_mib}MiB.bin", args.hash_mib << 20, args.reps
        )
        out.extras.update(measured)
        out.notes.append(f"hashing: {label}, {args.hash_mib} MiB file in the page cache")
    suite.measure_startup(ctx)
    if args.dask:
        cluster.measure_dask(ctx)
    if args.transfer:
        add_transfer(args, out, work)
    if not args.no_diff:
        mib = 16 if args.quick else args.diff_mib
        ctx.log(f"data diff: two {mib} MiB CSV files, keyed and positional")
        what, measured = data_diff.measure(work, mib)
        out.notes.append(f"data diff: {what}")
        out.notes.extend(
            f"data diff, {row['diff']}: {row['wall time']}, peak RSS {row['peak RSS']}, "
            + f"+{row['added']} -{row['removed']} ~{row['modified']}"
            for row in measured
        )
    if args.profile:
        profile(ctx, max([n for n in out.sizes if n <= PROFILE_SIZE] or [min(out.sizes)]))
    out.meta["load"] = f"{load_at_start} at start, {load_average()} at end"
    text = report.render(out, cores)
    args.results.mkdir(parents=True, exist_ok=True)
    path = args.results / f"{today}-{host}.md"
    path.write_text(text)
    print()
    print(text)
    print(f"report written to {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
