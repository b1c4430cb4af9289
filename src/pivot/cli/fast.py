import os
import sys
import time
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, TextIO, cast

from pivot.domain import layout

if TYPE_CHECKING:
    from pivot import container as container_mod
    from pivot.app import snapshot as snapshot_mod

# Only these spellings are answered from a snapshot; anything else (--force, --dry-run,
# remotes, executors) always takes the full path.
_GLOBAL_FLAGS = frozenset({"-q", "--quiet", "-v", "--verbose", "--debug"})
_FLAGS = {
    "run": frozenset(
        {"--explain", "-k", "--keep-going", "-s", "--single-stage", "--all", "--json"}
    ),
    "status": frozenset({"--explain", "--json", "--all"}),
}
_VALUED = {"run": frozenset({"-j", "--jobs"}), "status": frozenset[str]()}
_VERBOSE = frozenset({"-v", "--verbose"})
_OFF = frozenset({"0", "false", "no", "off"})
_DISPLAY_ENV = ("NO_COLOR", "FORCE_COLOR", "TERM", "COLUMNS", "LINES", "PYTHONIOENCODING")
_READ_ONLY = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_APPEND
_SYSTEM = ("/proc/", "/sys/", "/dev/", "/run/")
_LOCAL = (
    layout.STATE_DB,
    layout.CACHE,
    layout.LOGS,
    layout.PROJECT_LOCK,
    layout.PROJECT_LOCK_HOLDER,
)
"""What in the project's `.pivot/` changes on every invocation without changing an answer."""

_RECORDERS: list["Recorder"] = []
"""The recorder of this invocation, when it is eligible for a snapshot."""


def eligible(argv: Sequence[str]) -> str | None:
    """The command (`run`/`status`) when `argv` is a spelling a snapshot can answer."""
    command: str | None = None
    tokens = iter(argv)
    for token in tokens:
        if token in _GLOBAL_FLAGS:
            continue
        if command is None:
            if token not in _FLAGS:
                return None
            command = token
        elif token in _FLAGS[command]:
            continue
        elif token in _VALUED[command]:
            if next(tokens, None) is None:
                return None
        elif token.partition("=")[0] in _VALUED[command]:  # --jobs=2, as `run --watch` spells it
            continue
        elif token.startswith("-"):
            return None
    return command


def disabled() -> bool:
    return os.environ.get("PIVOT_FAST", "").strip().lower() in _OFF


def answer(argv: Sequence[str]) -> int | None:
    """Print a no-op answer from the snapshot and return its exit status; None when the
    snapshot cannot vouch for it (absent, or a path changed) and the full check must run."""
    started = time.perf_counter()
    if eligible(argv) is None or disabled():
        return None
    cwd = os.getcwd()
    root = _project_root(cwd)
    if root is None or not os.path.isdir(os.path.join(root, layout.STATE_DIR, layout.STATE_DB)):
        return None
    if os.path.lexists(os.path.join(root, layout.STATE_DIR, layout.PROJECT_LOCK_HOLDER)):
        # A writer is running, or was killed and left temp files: the full path answers (a
        # run sweeps them first).
        return None
    found = _load(root, _key(argv, cwd))
    verbose = any(t in _VERBOSE for t in argv)
    if found is None:
        if verbose:
            print("pivot: no snapshot for this command yet; checking in full", file=sys.stderr)
        return None
    changed = found.changed()
    if changed is not None:
        if verbose:
            print(f"pivot: {changed} changed; checking in full", file=sys.stderr)
        return None
    sys.stdout.write(found.replay_stdout(time.perf_counter() - started))
    sys.stderr.write(found.stderr)
    if verbose:
        print(
            f"pivot: nothing changed ({found.size()} paths compared by stamp; "
            + "--no-fast checks in full)",
            file=sys.stderr,
        )
    return found.exit_code


def start(argv: Sequence[str]) -> "Recorder | None":
    """Start recording what the full check reads, when its answer may become a snapshot."""
    if eligible(argv) is None or disabled():
        return None
    cwd = os.getcwd()
    root = _project_root(cwd)
    if root is None:
        return None
    recorder = Recorder(root, cwd, _key(argv, cwd), verbose=any(t in _VERBOSE for t in argv))
    _RECORDERS[:] = [recorder]
    return recorder


def note_noop(
    container: "container_mod.Container", duration_text: str = "", duration_format: str = ""
) -> None:
    """The command found nothing to do: its answer may be replayed while nothing changes.

    `duration_text`: the elapsed time as printed (last occurrence in stdout), rewritten on
    replay as `duration_format.format(seconds)`."""
    if not _RECORDERS or not container.settings().run.fast:
        return
    observed = {**container.digests().observed(), **container.fingerprinter().inputs()}
    _RECORDERS[0].noted(
        {path: tuple(s) if s is not None else None for path, s in observed.items()},
        duration_text,
        duration_format,
    )


def recorded(stream: TextIO) -> TextIO:
    """`stream` as the command's stdout while it is recorded: `run --json` writes its events
    to a private copy of stdout (fd 1 itself is pointed at stderr for the stages)."""
    if not _RECORDERS:
        return stream
    return _RECORDERS[0].stdout_copy(stream)


class _Tee:
    """A text stream that keeps a copy of everything written through it."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.parts: list[str] = []

    def write(self, text: str) -> int:
        self.parts.append(text)
        return self.stream.write(text)

    def writelines(self, lines: Sequence[str]) -> None:
        for line in lines:
            self.write(line)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.stream, name)


class Recorder:
    """Watches a full check: the files it opens and the directories it lists (audit events),
    what it prints; at the end, if it found nothing to do, stores the snapshot."""

    def __init__(self, root: str, cwd: str, key: str, *, verbose: bool) -> None:
        self._root = root
        self._cwd = cwd
        self._key = key
        self._verbose = verbose
        self._started_ns = time.time_ns()
        self._pivot_dir = os.path.join(root, layout.STATE_DIR)
        self._skip = tuple(os.path.join(self._pivot_dir, name) for name in _LOCAL)
        self._paths: set[str] = set()
        self._observed: dict[str, snapshot_mod.Stamp] | None = None
        self._duration_text = ""
        self._duration_format = ""
        self._active = True
        self._out, self._err = _Tee(sys.stdout), _Tee(sys.stderr)
        sys.stdout, sys.stderr = self._out, self._err  # pyright: ignore[reportAttributeAccessIssue]
        sys.addaudithook(self._hook)

    def _hook(self, event: str, args: tuple[Any, ...]) -> None:
        if not self._active:
            return
        match event:
            case "open":
                path, mode, flags = args
                if isinstance(path, int):
                    return
                if mode is None and flags & _READ_ONLY:
                    return
                if isinstance(mode, str) and any(c in mode for c in "wax+"):
                    return
                self._paths.add(os.path.abspath(os.fsdecode(path)))
            case "os.listdir" | "os.scandir":
                path = args[0]
                if isinstance(path, int):
                    return
                self._paths.add(os.path.abspath(os.fsdecode(path if path is not None else ".")))
            case _:
                pass

    def noted(
        self,
        observed: Mapping[str, "snapshot_mod.Stamp"],
        duration_text: str,
        duration_format: str,
    ) -> None:
        self._observed = dict(observed)
        self._duration_text = duration_text
        self._duration_format = duration_format

    def stdout_copy(self, stream: TextIO) -> TextIO:
        tee = _Tee(stream)
        tee.parts = self._out.parts
        return cast("TextIO", tee)

    def finish(self, exit_code: object) -> None:
        """Stop watching; store the snapshot if the check found nothing to do."""
        self._active = False
        sys.stdout, sys.stderr = self._out.stream, self._err.stream
        if self._observed is None or exit_code not in (0, None):
            return
        from pivot.app import snapshot

        seen = {p for p in self._paths if self._relevant(p)}
        for module in list(sys.modules.values()):
            file = getattr(module, "__file__", None)
            if isinstance(file, str):
                seen.add(os.path.abspath(file))
        inside = self._root + os.sep
        # A file created beside one read here (params.yaml beside pipeline.py) may change the
        # answer: the directory's stamp changes with its entries.
        seen.update({os.path.dirname(p) for p in seen if p.startswith(inside)})
        seen.update(os.path.abspath(entry or self._cwd) for entry in sys.path)
        directory = self._cwd
        while True:  # a pipeline file created here or above would be discovered first
            seen.add(directory)
            if directory == self._root or os.path.dirname(directory) == directory:
                break
            directory = os.path.dirname(directory)
        seen.update(os.path.join(self._pivot_dir, n) for n in ("config.yaml", "config.local.yaml"))
        seen = {p for p in seen if self._relevant(p)}
        stamps, unsettled = snapshot.settle(
            self._observed, seen, self._started_ns, _settle_window_ns()
        )
        if unsettled is not None:
            if self._verbose:
                print(
                    f"pivot: no snapshot recorded: {unsettled} changed too recently",
                    file=sys.stderr,
                )
            return
        recorded = snapshot.Snapshot.of(
            stamps,
            "".join(self._out.parts),
            "".join(self._err.parts),
            0,
            duration_text=self._duration_text,
            duration_format=self._duration_format,
        )
        _store(self._root, self._key, recorded)

    def _relevant(self, path: str) -> bool:
        # Bytecode is rewritten whenever its source changes, and the source is stamped itself.
        if path.startswith(_SYSTEM) or path.endswith(".pyc") or "/__pycache__" in path:
            return False
        if sys.pycache_prefix and path.startswith(sys.pycache_prefix):
            return False
        return path != self._pivot_dir and not path.startswith(self._skip)


def _settle_window_ns() -> int | None:
    """PIVOT_FAST_SETTLE_MS: how long before the check a path must have been written for its
    stamp to be trusted (default 100 ms, 2 s for whole-second mtimes). The test suite's
    `--fast-path=eager` sets 0, so that no-ops milliseconds after a test's writes are answered
    from the snapshot too; a user has no reason to change it."""
    value = os.environ.get("PIVOT_FAST_SETTLE_MS", "").strip()
    if not value.isdigit():
        return None
    return int(value) * 1_000_000


def _key(argv: Sequence[str], cwd: str) -> str:
    from pivot.app import snapshot

    ttys = "".join("1" if _isatty(fd) else "0" for fd in (0, 1, 2))
    try:
        size = str(os.get_terminal_size()) if ttys[1] == "1" else ""
    except OSError:
        size = ""
    env = sorted(
        f"{k}={v}" for k, v in os.environ.items() if k.startswith("PIVOT_") or k in _DISPLAY_ENV
    )
    return snapshot.key(
        ["pivot", *argv, "\0cwd", cwd, sys.executable, sys.version, *sys.path, ttys, size, *env]
    )


def _isatty(fd: int) -> bool:
    try:
        return os.isatty(fd)
    except OSError:
        return False


def _project_root(cwd: str) -> str | None:
    """The top-most directory holding `.pivot/` at or above `cwd` (as `app.project`)."""
    found = None
    directory = cwd
    while True:
        if os.path.isdir(os.path.join(directory, layout.STATE_DIR)):
            found = directory
        parent = os.path.dirname(directory)
        if parent == directory:
            return found
        directory = parent


def _open_state(root: str) -> Any:
    # Named here, not through the container: importing the container (dependency-injector)
    # costs more than the whole answer. This is the one adapter the fast path uses.
    from pivot.adapters.state import lmdb_state_store

    return lmdb_state_store.LmdbStateStore(os.path.join(root, layout.STATE_DIR, layout.STATE_DB))


def _load(root: str, key: str) -> "snapshot_mod.Snapshot | None":
    from pivot.app import snapshot

    state = _open_state(root)
    try:
        return snapshot.SnapshotStore(state).get(key)
    finally:
        state.close()


def _store(root: str, key: str, recorded: "snapshot_mod.Snapshot") -> None:
    from pivot.app import snapshot

    state = _open_state(root)
    try:
        snapshot.SnapshotStore(state).put(key, recorded)
    finally:
        state.close()
