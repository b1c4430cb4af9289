import functools
import importlib.metadata
import re
from collections.abc import Mapping

from pivot.adapters.fingerprint import modules, sources
from pivot.ports import state_store

_NAMESPACE = "fp-pkg"


def normalize_name(name: str) -> str:
    """PEP 503 form of a distribution name (`PyYAML` → `pyyaml`)."""
    return re.sub(r"[-_.]+", "-", name).lower()


@functools.cache
def _all_providers() -> Mapping[str, list[str]]:
    # Scans every installed distribution (slow); only needed when an import name differs from
    # its distribution's name (sklearn → scikit-learn), and then once per process.
    return importlib.metadata.packages_distributions()


class Packages:
    """Which installed distributions provide a top-level module, and at which version."""

    def __init__(self, state: state_store.StateStore) -> None:
        self._state = state
        self._memo: dict[str, tuple[tuple[str, str], ...]] = {}

    def clear(self) -> None:
        self._memo.clear()

    def versions(self, module: modules.ModuleRef) -> tuple[tuple[str, str], ...]:
        """Sorted (normalised distribution name, version) pairs providing `module`'s package.

        Which distributions provide it is remembered in the state store under the stamp of the
        installed file; versions are always read fresh.
        """
        top = module.top
        found = self._memo.get(top)
        if found is None:
            stamp = sources.stamp_of(module.file) if module.file else None
            stamp_key = (
                f"{module.file}|{stamp.inode}:{stamp.size}:{stamp.mtime_ns}" if stamp else ""
            )
            names = self._names(top, stamp_key)
            found = self._memo[top] = tuple(
                sorted({(normalize_name(n), _version(n)) for n in names})
            )
        return found

    def _names(self, top: str, stamp_key: str) -> list[str]:
        cache_key = f"{top}|{stamp_key}" if stamp_key else ""
        if cache_key:
            cached = self._state.get(_NAMESPACE, cache_key)
            if cached is not None:
                return [n for n in cached.decode().split("\n") if n]
        try:
            names = [importlib.metadata.distribution(top).metadata["Name"] or top]
        except importlib.metadata.PackageNotFoundError:
            names = sorted(set(_all_providers().get(top, [])))
        if cache_key:
            self._state.put_many(_NAMESPACE, [(cache_key, "\n".join(names).encode())])
        return names


def _version(name: str) -> str:
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return "unknown"
