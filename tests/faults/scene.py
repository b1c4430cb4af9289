"""A damaged copy of a finished project, a directory outside it, and `pivot` run on it."""

import dataclasses
import hashlib
import os
import pathlib
import shutil
import subprocess
import sys
from collections.abc import Callable

from tests.e2e import conftest as e2e

# The e2e demo pipeline, plus a tracked data directory.
TRACKED = {"inputs/a.csv": "x,y\n1,2\n", "inputs/b.csv": "x,y\n3,4\n"}


def build_base(root: pathlib.Path) -> None:
    """A project that ran once and tracks `inputs/`: the state every case damages."""
    proj = e2e.Project(root)
    root.mkdir(parents=True)
    proj.write("stages.py", e2e.STAGES)
    proj.write("pipeline.py", e2e.PIPELINE)
    proj.write("raw.txt", "hello\n")
    for name, text in TRACKED.items():
        proj.write(name, text)
    for args in (("init",), ("run",), ("track", "inputs")):
        done = proj.pivot(*args)
        assert done.returncode == 0, done.stderr


def _digest(path: pathlib.Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def tree_state(root: pathlib.Path, skip: tuple[str, ...] = ()) -> dict[str, str]:
    """Relative path → content digest (`link:` target for symlinks, `dir`, or the file kind)."""
    found: dict[str, str] = {}
    for parent, dirs, files in os.walk(root):
        for name in dirs + files:
            path = pathlib.Path(parent, name)
            rel = path.relative_to(root).as_posix()
            if any(rel == s or rel.startswith(s + "/") for s in skip):
                continue
            if path.is_symlink():
                found[rel] = "link:" + os.readlink(path)
            elif path.is_dir():
                found[rel] = "dir"
            elif path.is_file():
                try:
                    found[rel] = _digest(path)
                except PermissionError:
                    found[rel] = "unreadable"
            else:
                found[rel] = "special"
    return found


# Pivot's own bookkeeping may change on any command (logs, state memo, lock, run history).
BOOKKEEPING = (".pivot/state.lmdb", ".pivot/logs", ".pivot/lock", ".pivot/lock.holder")


@dataclasses.dataclass
class Scene:
    """`root` is the project; `outside` (beside it) must never be read into or written."""

    root: pathlib.Path
    outside: pathlib.Path
    prefix: tuple[str, ...] = ()
    """Wraps the `pivot` command (drop root's file-permission override, limit file size)."""
    preexec: Callable[[], None] | None = None

    @classmethod
    def copy_of(cls, base: pathlib.Path, tmp_path: pathlib.Path) -> "Scene":
        root = tmp_path / "proj"
        shutil.copytree(base, root, symlinks=True)
        outside = tmp_path / "outside"
        outside.mkdir()
        (outside / "victim.txt").write_text("outside the project\n")
        return cls(root, outside)

    def path(self, rel: str) -> pathlib.Path:
        return self.root / rel

    def write(self, rel: str, data: str | bytes) -> pathlib.Path:
        path = self.root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(data, str):
            path.write_text(data)
        else:
            path.write_bytes(data)
        return path

    def cache_object(self, output: str) -> pathlib.Path:
        """The cache file holding the recorded content of workspace file `output`."""
        import json

        for lock in (self.root / ".pivot" / "stages").glob("*.lock"):
            for out in json.loads(lock.read_text())["outs"].values():
                if out["path"] == output:
                    digest = out["hash"]
                    return self.root / ".pivot" / "cache" / "files" / digest[:2] / digest[2:]
        raise AssertionError(f"no lock record names {output}")

    def pivot(self, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
        env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1", "PIVOT_EXECUTOR": "inline"}
        return subprocess.run(
            [*self.prefix, sys.executable, "-m", "pivot", *args],
            cwd=self.root,
            capture_output=True,
            text=True,
            env=env,
            timeout=timeout,
            check=False,
            preexec_fn=self.preexec,
        )
