import os
import pathlib
from collections.abc import Iterator
from typing import Any

from pivot.domain import errors, layout
from pivot.ports import workspace_store

BUILT_IN = (".*/", "__pycache__/", "node_modules/", "venv/")
"""Never searched for pipelines or `.pvt` files: hidden directories (`.pivot/`, `.git/`,
`.venv/`), bytecode, JavaScript and virtual environments. `.pivotignore` may re-include
(`!name/`) or add more."""

_BUILT_IN_NAMES = frozenset(p.rstrip("/") for p in BUILT_IN if not p.startswith("."))


def _built_in_skips(rel: str) -> bool:
    """`BUILT_IN` without pathspec: a directory at or under a hidden or listed one."""
    return any(part.startswith(".") or part in _BUILT_IN_NAMES for part in rel.split("/"))


class Ignore:
    """The one skip list of directory walks: built-in rules plus `.pivotignore` (gitignore)."""

    def __init__(
        self,
        root: pathlib.Path,
        workspace: workspace_store.WorkspaceStore,
        patterns: tuple[str, ...] = (),
    ) -> None:
        self._root = root
        self._workspace = workspace
        self._spec: Any = None
        if patterns:
            # Imported only for a project with a .pivotignore (start-up cost).
            import pathspec

            self._spec = pathspec.GitIgnoreSpec.from_lines([*BUILT_IN, *patterns])

    def skips(self, directory: pathlib.Path) -> bool:
        """Whether a directory under the root is left out of every walk."""
        rel = pathlib.PurePath(os.path.relpath(directory, self._root)).as_posix()
        if rel == ".":
            return False
        if self._spec is None:
            return _built_in_skips(rel)
        return bool(self._spec.match_file(rel + "/"))

    def walk(
        self, top: pathlib.Path | None = None
    ) -> Iterator[tuple[pathlib.Path, list[str], list[str]]]:
        """The workspace's walk of `top` (default: the root), sorted, without ignored directories.

        Callers may prune the yielded directory names further, as with `os.walk`.
        """
        for current, dirnames, filenames in self._workspace.walk(top or self._root):
            here = pathlib.Path(current)
            dirnames[:] = sorted(d for d in dirnames if not self.skips(here / d))
            yield here, dirnames, filenames


def load(root: pathlib.Path, workspace: workspace_store.WorkspaceStore) -> Ignore:
    """The project's rules: built-in plus `<root>/.pivotignore` when it exists."""
    path = layout.ignore_file(root)
    try:
        text = workspace.read_bytes(path).decode()
    except FileNotFoundError:
        return Ignore(root, workspace)
    except (OSError, UnicodeDecodeError) as exc:
        raise errors.PivotError(f"{path}: cannot read ignore rules: {exc}") from None
    return Ignore(root, workspace, tuple(text.splitlines()))
