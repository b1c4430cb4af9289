import ast
import dataclasses
import json
import sys
from typing import Any

from pivot.adapters.fingerprint import analysis, module_table, modules, sources
from pivot.ports import state_store

FINGERPRINT_SCHEMA_VERSION = 2
"""Bump when the digest or the cached analysis format changes: old cache entries are ignored."""

NAMESPACE = "fp"
PYTHON = f"{sys.implementation.cache_tag}-{sys.hexversion:x}"
_TABLE = "<table>"


@dataclasses.dataclass(slots=True)
class Stats:
    """What a fingerprinter instance had to compute, for tests and diagnostics."""

    ast_parses: int = 0
    """Source files whose syntax tree this instance needed."""
    cache_hits: int = 0
    """Tables and definitions served by the state store."""
    cache_misses: int = 0
    walked: int = 0
    """Definitions visited by walks: zero when every manifest came from the manifest cache."""
    manifest_hits: int = 0
    """Manifests served whole by the state store, without a walk."""


class Definitions:
    """Binding tables and analysed definitions of source files.

    Memoised per instance and cached in the state store under (file, stamp, qualified name,
    Python version, schema version), so an unchanged file is never parsed again.
    """

    def __init__(
        self,
        state: state_store.StateStore,
        files: sources.ParsedFiles = sources.PROCESS_FILES,
    ) -> None:
        self._state = state
        self._files = files
        self.stats = Stats()
        self._stamps: dict[str, state_store.FileStamp | None] = {}
        self._trees: dict[str, ast.Module | None] = {}
        self._tables: dict[str, module_table.Table] = {}
        self._analyses: dict[tuple[str, str], analysis.Analysis] = {}
        self._pending: dict[str, bytes] = {}
        self.errors: dict[str, str] = {}
        """Source file → why it could not be read."""

    def refresh(self) -> bool:
        """Forget everything derived from files changed since they were read; True if any."""
        if all(sources.stamp_of(path) == stamp for path, stamp in self._stamps.items()):
            return False
        self._stamps.clear()
        self._trees.clear()
        self._tables.clear()
        self._analyses.clear()
        self.errors.clear()
        return True

    def stamps(self) -> dict[str, state_store.FileStamp | None]:
        """Every file stamped since the last refresh, with the stamp it was read at."""
        return dict(self._stamps)

    def stamp(self, path: str) -> state_store.FileStamp | None:
        if path not in self._stamps:
            self._stamps[path] = sources.stamp_of(path)
        return self._stamps[path]

    def table(self, module: modules.ModuleRef) -> module_table.Table:
        path = module.file
        if path is None:
            return module_table.Table({})
        found = self._tables.get(path)
        if found is not None:
            return found
        cached = self._cached(path, _TABLE)
        if cached is not None:
            found = module_table.Table.from_json(cached)
        else:
            tree = self._tree(path)
            found = module_table.build(tree) if tree is not None else module_table.Table({})
            self._store(path, _TABLE, found.to_json())
        self._tables[path] = found
        return found

    def analysis(self, module: modules.ModuleRef, qualname: str) -> analysis.Analysis:
        path = module.file
        if path is None:
            return analysis.NOT_FOUND
        found = self._analyses.get((path, qualname))
        if found is not None:
            return found
        cached = self._cached(path, qualname)
        if cached is not None:
            found = analysis.Analysis.from_json(cached)
        else:
            tree = self._tree(path)
            found = analysis.analyse(tree, qualname) if tree is not None else analysis.NOT_FOUND
            self._store(path, qualname, found.to_json())
        self._analyses[(path, qualname)] = found
        return found

    def flush(self) -> None:
        """Write what was computed since the last flush to the state store."""
        if self._pending:
            self._state.put_many(NAMESPACE, sorted(self._pending.items()))
            self._pending.clear()

    def _key(self, path: str, stamp: state_store.FileStamp, qualname: str) -> str:
        stamp_text = f"{stamp.inode}:{stamp.size}:{stamp.mtime_ns}"
        return f"{FINGERPRINT_SCHEMA_VERSION}|{PYTHON}|{path}|{stamp_text}|{qualname}"

    def _cached(self, path: str, qualname: str) -> Any:
        stamp = self.stamp(path)
        if stamp is None:
            return None
        raw = self._state.get(NAMESPACE, self._key(path, stamp, qualname))
        if raw is None:
            self.stats.cache_misses += 1
            return None
        self.stats.cache_hits += 1
        return json.loads(raw)

    def _store(self, path: str, qualname: str, data: object) -> None:
        stamp = self.stamp(path)
        if stamp is None or path in self.errors or not sources.is_settled(stamp):
            return
        encoded = json.dumps(data, sort_keys=True, separators=(",", ":")).encode()
        self._pending[self._key(path, stamp, qualname)] = encoded

    def _tree(self, path: str) -> ast.Module | None:
        if path in self._trees:
            return self._trees[path]
        self.stats.ast_parses += 1
        stamp = self.stamp(path)
        tree: ast.Module | None = None
        if stamp is None:
            self.errors[path] = "the file is missing"
        else:
            try:
                tree = self._files.parse(path, stamp)
            except (OSError, SyntaxError, ValueError) as exc:
                self.errors[path] = f"cannot parse it: {type(exc).__name__}: {exc}"
        self._trees[path] = tree
        return tree
