import functools
import pathlib
from collections.abc import Iterable

from pivot.adapters import fs

FILE_NAME = ".gitignore"
_GLOB_SPECIALS = "\\*?["


def entry_for(name: str) -> str:
    """The anchored line that ignores exactly `name` in its own directory (`/name`)."""
    escaped = "".join(f"\\{c}" if c in _GLOB_SPECIALS else c for c in name)
    if escaped.endswith(" "):
        escaped = escaped[:-1] + "\\ "  # git strips unescaped trailing spaces
    return "/" + escaped


def with_entries(text: str, entries: Iterable[str]) -> str | None:
    """`text` with each entry it lacks appended as one line; None when none is missing."""
    present = set(text.splitlines())
    new = [e for e in dict.fromkeys(entries) if e not in present]
    if not new:
        return None
    separator = "" if not text or text.endswith("\n") else "\n"
    return text + separator + "".join(f"{e}\n" for e in new)


def ignore(*paths: pathlib.Path) -> bool:
    """Add each path to the `.gitignore` beside it (created if missing) in a git work tree.

    Returns True when a file changed. As DVC does: one anchored line per path, never
    duplicated; other lines are kept as they are. Each `.gitignore` is rewritten once per call
    and all of them are made durable together, so callers batch paths.
    """
    wanted: dict[pathlib.Path, list[str]] = {}
    for path in paths:
        if in_git_work_tree(path.parent):
            wanted.setdefault(path.parent, []).append(entry_for(path.name))
    changed: dict[pathlib.Path, bytes] = {}
    for directory, entries in wanted.items():
        ignore_file = directory / FILE_NAME
        try:
            text = ignore_file.read_text(encoding="utf-8")
        except FileNotFoundError:
            text = ""
        updated = with_entries(text, entries)
        if updated is not None:
            changed[ignore_file] = updated.encode("utf-8")
    fs.atomic_write_many(changed)
    return bool(changed)


@functools.cache
def in_git_work_tree(directory: pathlib.Path) -> bool:
    """True when `directory` or a parent holds `.git` (a directory, or a file for worktrees)."""
    return any((d / ".git").exists() for d in (directory, *directory.parents))
