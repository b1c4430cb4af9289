import io
import pathlib
import pstats
import sys
import sysconfig
from collections.abc import Mapping, Sequence

from benchmarks import measure, tools


def top_functions(stats_file: pathlib.Path, limit: int, strip: Sequence[str] = ()) -> str:
    """The `limit` functions with the most cumulative and most own time, as pstats prints them."""
    buf = io.StringIO()
    stats = pstats.Stats(str(stats_file), stream=buf)
    buf.write("-- by cumulative time --\n")
    stats.sort_stats(pstats.SortKey.CUMULATIVE).print_stats(limit)
    buf.write("-- by own time --\n")
    stats.sort_stats(pstats.SortKey.TIME).print_stats(limit)
    text = buf.getvalue()
    for prefix in strip:
        text = text.replace(prefix, "")
    lines = [line for line in text.splitlines() if line.strip() and "Ordered by" not in line]
    return "\n".join(lines)


def profile_pivot(
    args: Sequence[str],
    cwd: pathlib.Path,
    env: Mapping[str, str],
    limit: int = 20,
) -> str:
    """cProfile one `pivot` command in the CLI process (workers are not profiled)."""
    stats_file = cwd / ".bench-profile.out"
    measure.run(
        [sys.executable, "-m", "cProfile", "-o", str(stats_file), str(tools.pivot_executable()),
         *args],
        cwd,
        env,
    )  # fmt: skip
    try:
        site = [p for p in sys.path if p.endswith("site-packages")]
        repo = pathlib.Path(__file__).resolve().parents[1]
        strip = [f"{p}/" for p in site] + [f"{repo}/", f"{sysconfig.get_paths()['stdlib']}/"]
        return top_functions(stats_file, limit, strip)
    finally:
        stats_file.unlink(missing_ok=True)
