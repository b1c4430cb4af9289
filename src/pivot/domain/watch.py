import dataclasses
import pathlib

from pivot.domain import layout

_NEVER = (layout.STATE_DIR, ".git", "__pycache__", ".venv", "node_modules")
"""Directories whose changes never start a run (Pivot's own state, VCS, caches)."""


@dataclasses.dataclass(frozen=True, slots=True)
class WatchSet:
    """The files whose edits can make a stage stale, and the outputs that never count.

    Built from the loaded pipeline: dependency paths, the source files each stage's code
    manifest reaches, params and definition files. Paths are absolute.
    """

    root: pathlib.Path
    files: frozenset[pathlib.Path]
    dirs: tuple[pathlib.Path, ...]
    """Dependency directories: any file below them counts."""
    outputs: tuple[pathlib.Path, ...]
    """Stage outputs (files or directories): written by runs, never a reason to run."""

    def matters(self, path: pathlib.Path) -> bool:
        if _skipped(path, self.root) or self.is_output(path):
            return False
        return path in self.files or _below(path, self.dirs)

    def is_output(self, path: pathlib.Path) -> bool:
        return _below(path, self.outputs)

    @property
    def size(self) -> int:
        return len(self.files) + len(self.dirs)


@dataclasses.dataclass(frozen=True, slots=True)
class Everything:
    """What to watch while the pipeline cannot load: any project file but the known outputs,
    so the edit that fixes the definition starts the next run."""

    root: pathlib.Path
    outputs: tuple[pathlib.Path, ...] = ()

    def matters(self, path: pathlib.Path) -> bool:
        return not _skipped(path, self.root) and not _below(path, self.outputs)

    @property
    def size(self) -> int:
        return 0


def _below(path: pathlib.Path, roots: tuple[pathlib.Path, ...]) -> bool:
    return any(path == r or path.is_relative_to(r) for r in roots)


def _skipped(path: pathlib.Path, root: pathlib.Path) -> bool:
    if not path.is_relative_to(root):
        return True
    parts = path.relative_to(root).parts
    return any(p in _NEVER for p in parts[:-1]) or path.name.endswith((".pyc", "~", ".swp"))
