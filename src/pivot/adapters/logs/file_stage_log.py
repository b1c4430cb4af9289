import os
import pathlib
import re

from pivot.domain import layout

_UNSAFE = re.compile(r"[^\w@.+=-]")


class FileStageLog:
    """`.pivot/logs/<stage>.log`: the last run's output; a running stage writes a hidden sibling."""

    def __init__(self, project_root: pathlib.Path) -> None:
        self._root = project_root
        self._dir = layout.logs_dir(project_root)
        self._shown = self._dir.relative_to(project_root).as_posix()
        self._offsets: dict[str, int] = {}
        self._ready = False

    def _names(self, stage: str) -> tuple[pathlib.Path, pathlib.Path]:
        safe = _UNSAFE.sub("_", stage)
        return self._dir / f".{safe}.log.running", self._dir / f"{safe}.log"

    def start(self, stage: str) -> pathlib.Path | None:
        """Begin an empty log for a run of `stage`: the file its job appends to.

        The job creates the file: the scheduler creates nothing per stage. Only a killed run
        leaves `.running` files behind, so the first call of a run removes them all."""
        if not self._ready:
            self._prepare()
        running, _ = self._names(stage)
        self._offsets[stage] = 0
        return running

    def _prepare(self) -> None:
        if not self._dir.is_dir():
            self._dir.mkdir(parents=True, exist_ok=True)
            # Logs are local, like the cache: keep them out of git even in older projects.
            (self._dir / ".gitignore").write_text("*\n")
        with os.scandir(self._dir) as entries:
            for entry in entries:
                if entry.name.startswith(".") and entry.name.endswith(".log.running"):
                    os.unlink(entry.path)
        self._ready = True

    def read_new(self, stage: str, *, final: bool = False) -> list[str]:
        """Lines written since the last call, without newlines; `final` adds a partial last line."""
        running, _ = self._names(stage)
        offset = self._offsets.get(stage, 0)
        try:
            if os.stat(running).st_size == offset:
                return []  # most stages print nothing: no open, read and decode
            with open(running, "rb") as f:
                f.seek(offset)
                data = f.read()
        except FileNotFoundError:
            return []
        if not final:
            data = data[: data.rfind(b"\n") + 1]
        self._offsets[stage] = offset + len(data)
        return data.decode("utf-8", errors="replace").splitlines()

    def publish(self, stage: str, trailer: str = "") -> str | None:
        """Append `trailer`, then replace `<stage>.log` with this run's log in one rename."""
        running, final = self._names(stage)
        self._offsets.pop(stage, None)
        try:
            if trailer:
                self._append(running, trailer)
            try:
                os.replace(running, final)
            except FileNotFoundError:
                # The job never created it (it was not started): an empty log, as a trailer's
                # open would have made.
                self._append(running, "")
                os.replace(running, final)
        except OSError:
            # A full disk must not hide the stage's own outcome (reported without the log).
            return None
        return f"{self._shown}/{final.name}"

    def _append(self, running: pathlib.Path, trailer: str) -> None:
        self._dir.mkdir(parents=True, exist_ok=True)
        with open(running, "a+b") as f:
            if trailer:
                # The stage may have stopped mid-line: the trailer starts on a line of its own.
                end = f.seek(0, os.SEEK_END)
                partial = end > 0 and f.seek(end - 1) >= 0 and f.read(1) != b"\n"
                text = trailer.rstrip("\n") + "\n"
                f.write((("\n" + text) if partial else text).encode())
