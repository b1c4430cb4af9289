import functools
import pathlib

from pivot.adapters import fs

FILE_NAME = ".gitignore"
_GLOB_SPECIALS = "\\*?["


def entry_for(name: str) -> str:
    """The anchored line that ignores exactly `name` in its own directory (`/name`)."""
    escaped = "".join(f"\\{c}" if c in _GLOB_SPECIALS else c for c in name)
    if escaped.endswith(" "):
        escaped = escaped[:-1] + "\\ "  # git strips unescaped trailing spaces
    return "/" + escaped


def with_entry(text: str, entry: str) -> str | None:
    """`text` with `entry` appended as one line; None when it is already there."""
    if entry in text.splitlines():
        return None
    separator = "" if not text or text.endswith("\n") else "\n"
    return f"{text}{separator}{entry}\n"


def ignore(path: pathlib.Path) -> bool:
    """Add `path` to the `.gitignore` beside it (created if missing) when it is in a git work tree.

    Returns True when the file changed. As DVC does: one anchored line per path, written
    atomically, never duplicated; other lines are kept as they are.
    """
    if not in_git_work_tree(path.parent):
        return False
    ignore_file = path.parent / FILE_NAME
    try:
        text = ignore_file.read_text(encoding="utf-8")
    except FileNotFoundError:
        text = ""
    updated = with_entry(text, entry_for(path.name))
    if updated is None:
        return False
    fs.atomic_write_bytes(ignore_file, updated.encode("utf-8"))
    return True


@functools.cache
def in_git_work_tree(directory: pathlib.Path) -> bool:
    """True when `directory` or a parent holds `.git` (a directory, or a file for worktrees)."""
    return any((d / ".git").exists() for d in (directory, *directory.parents))
