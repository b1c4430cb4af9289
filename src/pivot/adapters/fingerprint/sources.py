import ast
import collections
import os
import time

from pivot.ports import state_store

RACY_WINDOW_NS = 2_000_000_000
"""A file changed this recently may change again within its mtime's granularity without its
stamp changing, so nothing derived from it is remembered beyond the current call."""


def stamp_of(path: str) -> state_store.FileStamp | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return state_store.FileStamp.of(st)


def is_settled(stamp: state_store.FileStamp) -> bool:
    """Whether the file is old enough for its stamp to identify its content."""
    return time.time_ns() - stamp.mtime_ns > RACY_WINDOW_NS


class ParsedFiles:
    """Parsed source files, shared by every fingerprinter in the process."""

    def __init__(self, capacity: int = 512) -> None:
        self._capacity = capacity
        self._trees: collections.OrderedDict[tuple[str, state_store.FileStamp], ast.Module] = (
            collections.OrderedDict()
        )

    def parse(self, path: str, stamp: state_store.FileStamp) -> ast.Module:
        """The module's AST; raises SyntaxError or OSError when it cannot be read."""
        key = (path, stamp)
        tree = self._trees.get(key)
        if tree is not None:
            self._trees.move_to_end(key)
            return tree
        with open(path, "rb") as f:
            tree = ast.parse(f.read(), filename=path)
        if is_settled(stamp):
            self._trees[key] = tree
            if len(self._trees) > self._capacity:
                self._trees.popitem(last=False)
        return tree


PROCESS_FILES = ParsedFiles()
