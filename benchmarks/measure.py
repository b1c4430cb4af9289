import os
import pathlib
import re
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence

STRACE_WRITE = re.compile(r"\b(?:write|pwrite64)\(\d+<([^>]*)>, .*\)\s+= (\d+)\s*$")
STRACE_UNFINISHED = re.compile(r"\b(?:write|pwrite64)\(\d+<([^>]*)>, .*<unfinished \.\.\.>\s*$")
STRACE_RESUMED = re.compile(r"<\.\.\. (?:write|pwrite64) resumed>.*\)\s+= (\d+)\s*$")
TIMEOUT_SECONDS = 3600
_BALLAST_CHUNK = 64 << 20


def settle(where: pathlib.Path, mib: int) -> None:
    """Start the next timed step as every other starts: dirty pages written back, and `mib` of
    memory just freed, so the step's first touch of memory costs what it costs on a machine
    whose memory is its own.

    On this VM (a Firecracker guest with a virtio balloon, DAMON reclaim running) memory left
    unused for a few seconds goes back to the host, and touching it again costs ~2.5 s of kernel
    time per GiB: measured here, `cp` of one 1 GiB file took 2.4-3.1 s after a pause and
    0.34-0.37 s right after a 2 GiB file was deleted. Which tool got the fast case depended on
    what the bench had deleted just before its step, not on the tool. The ballast (a file
    written, flushed and deleted under `where`) is not timed."""
    os.sync()
    if mib <= 0:
        return
    ballast = where / ".settle-ballast"
    chunk = b"\x01" * min(_BALLAST_CHUNK, mib << 20)
    left = mib << 20
    with open(ballast, "wb") as f:
        while left > 0:
            left -= f.write(chunk[:left])
        f.flush()
        os.fsync(f.fileno())
    ballast.unlink()


class CommandFailedError(Exception):
    """A benchmarked command exited non-zero; the report shows `short`."""

    def __init__(self, command: tuple[str, ...], returncode: int, output: str) -> None:
        super().__init__(command, returncode)
        self.command = command
        self.returncode = returncode
        self.output = output

    @property
    def short(self) -> str:
        lines = [line for line in self.output.strip().splitlines() if line.strip()]
        last = lines[-1].strip() if lines else "no output"
        return f"`{' '.join(self.command[:3])}` failed (exit {self.returncode}): {last[:160]}"

    def __str__(self) -> str:
        return self.short


def run(
    command: Sequence[str], cwd: pathlib.Path, env: Mapping[str, str]
) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        list(command),
        cwd=cwd,
        env=dict(env),
        capture_output=True,
        text=True,
        timeout=TIMEOUT_SECONDS,
        check=False,
    )
    if done.returncode != 0:
        raise CommandFailedError(tuple(command), done.returncode, done.stdout + done.stderr)
    return done


def timed(command: Sequence[str], cwd: pathlib.Path, env: Mapping[str, str]) -> float:
    """Wall-clock seconds of one run of `command`; raises CommandFailedError on failure."""
    start = time.perf_counter()
    run(command, cwd, env)
    return time.perf_counter() - start


def output_mtimes(root: pathlib.Path) -> dict[str, int]:
    """mtime of every stage output, so a run's re-executed stages can be counted."""
    out = root / "out"
    if not out.is_dir():
        return {}
    return {p.name: p.stat().st_mtime_ns for p in out.iterdir() if p.suffix == ".txt"}


def count_changed(before: Mapping[str, int], after: Mapping[str, int]) -> int:
    return sum(1 for name, mtime in after.items() if before.get(name) != mtime)


def parse_strace_bytes(text: str, is_counted: Callable[[str], bool]) -> int:
    """Bytes written to files whose path `is_counted`, from `strace -f -y` output."""
    total = 0
    pending: dict[str, str] = {}
    for line in text.splitlines():
        pid = line.split(" ", 1)[0]
        if match := STRACE_WRITE.search(line):
            path, written = match.group(1), int(match.group(2))
        elif match := STRACE_UNFINISHED.search(line):
            # Another process's call interrupted this one; the result comes on a later line.
            pending[pid] = match.group(1)
            continue
        elif (match := STRACE_RESUMED.search(line)) and pid in pending:
            path, written = pending.pop(pid), int(match.group(1))
        else:
            continue
        if is_counted(path):
            total += written
    return total


def strace_available() -> bool:
    return shutil.which("strace") is not None


def bytes_written(
    command: Sequence[str],
    cwd: pathlib.Path,
    env: Mapping[str, str],
    is_counted: Callable[[str], bool],
) -> int:
    """Run `command` under strace (every process it starts) and sum the bytes it wrote."""
    fd, trace_name = tempfile.mkstemp(prefix="bench-strace-", suffix=".txt")
    os.close(fd)
    trace = pathlib.Path(trace_name)
    try:
        run(
            [
                "strace",
                "-f",
                "-qq",
                "-y",
                "-s",
                "0",
                "-e",
                "trace=write,pwrite64",
                "-e",
                "signal=none",
                "-o",
                str(trace),
                *command,
            ],
            cwd,
            env,
        )
        return parse_strace_bytes(trace.read_text(errors="replace"), is_counted)
    finally:
        trace.unlink(missing_ok=True)
