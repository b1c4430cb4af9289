import functools
import pathlib
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
    from importlib import metadata

    return metadata.packages_distributions()


class Packages:
    """Which installed distributions provide a top-level module, and at which version."""

    def __init__(self, state: state_store.StateStore) -> None:
        self._state = state
        self._memo: dict[str, tuple[tuple[str, str], ...]] = {}
        self._metadata: dict[str, tuple[tuple[str, state_store.FileStamp], ...] | None] = {}

    def clear(self) -> None:
        self._memo.clear()
        self._metadata.clear()

    def metadata_files(self, top: str) -> tuple[tuple[str, state_store.FileStamp], ...] | None:
        """Metadata files of `top`'s versions, stamped before they were read (after `versions`).

        An upgrade replaces or rewrites these files, so their stamps tell when the versions may
        have changed; None when a version was not read from a file.
        """
        return self._metadata.get(top)

    def metadata_stamps(self) -> dict[str, state_store.FileStamp]:
        """Every metadata file read so far, with its stamp."""
        return {path: stamp for files in self._metadata.values() for path, stamp in files or ()}

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
            installed = {n: _installed(n) for n in names}
            found = self._memo[top] = tuple(
                sorted({(normalize_name(n), version) for n, (version, _) in installed.items()})
            )
            files = [file for _, file in installed.values()]
            self._metadata[top] = (
                None if None in files else tuple(sorted({f for f in files if f is not None}))
            )
        return found

    def _names(self, top: str, stamp_key: str) -> list[str]:
        cache_key = f"{top}|{stamp_key}" if stamp_key else ""
        if cache_key:
            cached = self._state.get(_NAMESPACE, cache_key)
            if cached is not None:
                return [n for n in cached.decode().split("\n") if n]
        # Imported here: a no-op run with every manifest cached never looks at distributions.
        from importlib import metadata

        try:
            names = [metadata.distribution(top).metadata["Name"] or top]
        except metadata.PackageNotFoundError:
            names = sorted(set(_all_providers().get(top, [])))
        if cache_key:
            self._state.put_many(_NAMESPACE, [(cache_key, "\n".join(names).encode())])
        return names


def _installed(name: str) -> tuple[str, tuple[str, state_store.FileStamp] | None]:
    """The distribution's version, and the metadata file it was read from with its stamp."""
    from importlib import metadata

    try:
        dist = metadata.distribution(name)
    except metadata.PackageNotFoundError:
        return "unknown", None
    # No public accessor for where a distribution's metadata lives; a PathDistribution keeps
    # its `.dist-info`/`.egg-info` location here (zipped or custom distributions do not).
    location = getattr(dist, "_path", None)
    file: tuple[str, state_store.FileStamp] | None = None
    if isinstance(location, pathlib.Path):
        for candidate in (location / "METADATA", location / "PKG-INFO", location):
            # Stamped before the version is read: a later upgrade cannot hide behind it.
            stamp = sources.stamp_of(str(candidate))
            if stamp is not None and candidate.is_file():
                file = (str(candidate), stamp)
                break
    return dist.version, file
