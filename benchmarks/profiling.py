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
    noise = ("Ordered by", "List reduced", stats_file.name)
    lines = [
        line for line in text.splitlines() if line.strip() and not any(n in line for n in noise)
    ]
    return "\n".join(lines)


# `pivot` ends with sys.exit; the profile is written whatever the exit status.
DRIVER = """\
import cProfile, runpy, sys

stats_file, script, *args = sys.argv[1:]
sys.argv = [script, *args]
profiler = cProfile.Profile()
profiler.enable()
try:
    runpy.run_path(script, run_name="__main__")
except SystemExit:
    pass
finally:
    profiler.disable()
    profiler.dump_stats(stats_file)
"""


def profile_pivot(
    args: Sequence[str],
    cwd: pathlib.Path,
    env: Mapping[str, str],
    limit: int = 20,
) -> str:
    """cProfile one `pivot` command in the CLI process, imports included (not the workers)."""
    stats_file = cwd / ".bench-profile.out"
    script = str(tools.pivot_executable())  # the console script users run, fast paths included
    measure.run([sys.executable, "-c", DRIVER, str(stats_file), script, *args], cwd, env)
    try:
        site = [p for p in sys.path if p.endswith("site-packages")]
        repo = pathlib.Path(__file__).resolve().parents[1]
        strip = [f"{p}/" for p in site] + [f"{repo}/", f"{sysconfig.get_paths()['stdlib']}/"]
        return top_functions(stats_file, limit, strip)
    finally:
        stats_file.unlink(missing_ok=True)
