import argparse
import datetime
import json
import os
import pathlib
import random
import socket
import subprocess
import sys
import time

HERE = pathlib.Path(__file__).resolve().parent

# Runs in a child process so its peak RSS is the diff's alone.
_CHILD = """
import json, pathlib, resource, sys, time
from pivot.adapters.tables import streaming_differ
from pivot.domain import data_diff
old, new, key = sys.argv[1], sys.argv[2], tuple(k for k in sys.argv[3].split(",") if k)
start = time.perf_counter()
diff = streaming_differ.StreamingDiffer().diff(
    pathlib.Path(old), pathlib.Path(new), data_diff.TableFormat.CSV, key
)
print(json.dumps({
    "seconds": time.perf_counter() - start,
    "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    "rows": [diff.old_rows, diff.new_rows],
    "added": diff.added, "removed": diff.removed, "modified": diff.modified,
}))
"""


def make_pair(old: pathlib.Path, new: pathlib.Path, size: int) -> tuple[int, dict[str, int]]:
    """Two CSVs of about `size` bytes each: 1% of rows modified, 0.1% removed, 0.1% added."""
    expected = {"added": 0, "removed": 0, "modified": 0}
    rng = random.Random(13)
    rows = 0
    old.parent.mkdir(parents=True, exist_ok=True)
    with old.open("w") as a, new.open("w") as b:
        header = "id,user,country,amount,score,comment\n"
        a.write(header)
        b.write(header)
        written = len(header)
        while written < size:
            rows += 1
            line = (
                f"{rows},user{rng.randrange(10**6)},{rng.choice(('FR', 'DE', 'US', 'JP'))},"
                + f"{rng.random() * 1000:.2f},{rng.random():.6f},"
                + "lorem ipsum dolor sit amet consectetur adipiscing elit\n"
            )
            a.write(line)
            written += len(line)
            roll = rows % 1000
            if roll < 10:
                expected["modified"] += 1
                b.write(line.replace(",lorem", ",LOREM"))
            elif roll == 10:
                expected["removed"] += 1
            else:
                b.write(line)
        for extra in range(rows // 1000):
            expected["added"] += 1
            b.write(f"{rows + 1 + extra},new,FR,1.00,0.5,added row\n")
    return rows, expected


def measure(work: pathlib.Path, mib: int) -> tuple[str, list[dict[str, str]]]:
    """What was diffed, and per mode: wall time, peak RSS and the counts found."""
    old, new = work / "diff-old.csv", work / "diff-new.csv"
    started = time.perf_counter()
    rows, expected = make_pair(old, new, mib << 20)
    generated = time.perf_counter() - started
    size = (old.stat().st_size + new.stat().st_size) / 2 / (1 << 20)
    what = (
        f"CSV pair: {size:.0f} MiB each, {rows:,} rows; expected +{expected['added']:,} "
        + f"-{expected['removed']:,} ~{expected['modified']:,} (generated in {generated:.0f} s)"
    )
    measured: list[dict[str, str]] = []
    for label, key in (("keyed (--key id)", "id"), ("positional", "")):
        done = subprocess.run(
            [sys.executable, "-c", _CHILD, str(old), str(new), key],
            capture_output=True,
            text=True,
            check=True,
        )
        got = json.loads(done.stdout)
        found = {k: got[k] for k in expected}
        if key and found != expected:
            raise RuntimeError(f"keyed diff found {found}, planted {expected}")
        measured.append(
            {
                "diff": label,
                "wall time": f"{got['seconds']:.1f} s",
                "peak RSS": f"{got['peak_rss_mib']:.0f} MiB",
                "added": f"{got['added']:,}",
                "removed": f"{got['removed']:,}",
                "modified": f"{got['modified']:,}",
            }
        )
    old.unlink()
    new.unlink()
    return what, measured


def table(measured: list[dict[str, str]]) -> list[str]:
    heads = list(measured[0])
    return [
        "| " + " | ".join(heads) + " |",
        "|---|" + "---:|" * (len(heads) - 1),
        *("| " + " | ".join(row.values()) + " |" for row in measured),
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.data_diff",
        description="Peak memory of `pivot diff` on a large CSV pair (keyed and positional).",
    )
    parser.add_argument("--mib", type=int, default=1024, help="size of each CSV file")
    parser.add_argument("--work", type=pathlib.Path, default=HERE / ".work")
    parser.add_argument("--results", type=pathlib.Path, default=HERE / "results")
    args = parser.parse_args(argv)
    args.work.mkdir(parents=True, exist_ok=True)
    load = os.getloadavg()[0]
    what, measured = measure(args.work, args.mib)
    today = datetime.date.today().isoformat()
    host = socket.gethostname().split(".")[0]
    text = "\n".join(
        [
            f"# Data diff benchmark — {today} ({host})",
            "",
            f"`python -m benchmarks.data_diff --mib {args.mib}`; {os.cpu_count()} cores, "
            + f"load {load:.1f} at start, {os.getloadavg()[0]:.1f} at end (shared machine).",
            "",
            what,
            "",
            *table(measured),
            "",
        ]
    )
    args.results.mkdir(parents=True, exist_ok=True)
    path = args.results / f"{today}-{host}-data-diff.md"
    path.write_text(text)
    print(text)
    print(f"report written to {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
