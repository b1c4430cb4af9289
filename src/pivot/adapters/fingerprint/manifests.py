import dataclasses
import hashlib
import json
from collections.abc import Callable, Iterable
from typing import Any

from pivot.adapters.fingerprint import definitions, modules, sources
from pivot.domain import manifest
from pivot.ports import state_store

NAMESPACE = "fp-manifest"
_FORMAT = 2
"""Bump when the layout of a cached manifest changes."""
_KINDS = {str(kind): kind for kind in manifest.EntryKind}


@dataclasses.dataclass(frozen=True, slots=True)
class Inputs:
    """What a walk relied on: every file it read, and where it found each module it named."""

    files: tuple[tuple[str, state_store.FileStamp | None], ...]
    located: tuple[modules.ModuleRef, ...]


class ManifestCache:
    """Whole manifests in the state store, valid while every input of their walk is unchanged.

    Keyed by what starts the walk (the stage and its seeds); an entry holds the manifest and
    the walk's inputs, which are re-checked on every lookup: a stat per file and a (memoised)
    module lookup per module name.
    """

    def __init__(
        self,
        state: state_store.StateStore,
        stamp: Callable[[str], state_store.FileStamp | None],
        locate: Callable[[str], modules.ModuleRef],
        stats: definitions.Stats,
    ) -> None:
        self._state = state
        self._stamp = stamp
        self._locate = locate
        self._stats = stats
        self._checked: dict[bytes, bool] = {}
        """Encoded inputs → whether they are unchanged: stages share most of their inputs."""

    def clear(self) -> None:
        """Forget which inputs were found unchanged (call when a file may have changed)."""
        self._checked.clear()

    @staticmethod
    def key(identity: str) -> str:
        schema = definitions.FINGERPRINT_SCHEMA_VERSION
        text = f"{schema}|{_FORMAT}|{definitions.PYTHON}|{identity}"
        return hashlib.sha256(text.encode()).hexdigest()

    def get(self, key: str) -> manifest.CodeManifest | None:
        """The cached manifest under `key` if nothing its walk read has changed since."""
        raw = self._state.get(NAMESPACE, key)
        if raw is None:
            return None
        encoded_inputs, _, encoded_code = raw.partition(b"\n")
        try:
            unchanged = self._checked.get(encoded_inputs)
            if unchanged is None:
                unchanged = self._checked[encoded_inputs] = self._unchanged(encoded_inputs)
            if not unchanged:
                return None
            data = json.loads(encoded_code)
            code = manifest.CodeManifest(
                entries=dict(data["entries"]),
                sites={
                    key: manifest.Site(_KINDS[kind], qualname, file, line, tuple(path))
                    for key, kind, qualname, file, line, path in data["sites"]
                },
                warnings=tuple(data["warnings"]),
            )
        except (ValueError, TypeError, KeyError):
            # A damaged or foreign entry is only a miss: the walk recomputes and replaces it.
            return None
        self._stats.manifest_hits += 1
        return code

    def _unchanged(self, encoded_inputs: bytes) -> bool:
        # Stamps were settled when stored, so an equal stamp still identifies the content.
        files, located = json.loads(encoded_inputs)
        for path, *stamp in files:
            now = self._stamp(path)
            if (tuple(now) if now is not None else ()) != tuple(stamp):
                return False
        for name, origin, file, package, error in located:
            now = self._locate(name)
            if (now.origin, now.file, now.package, now.error) != (origin, file, package, error):
                return False
        return True

    def put(self, key: str, code: manifest.CodeManifest, inputs: Inputs) -> None:
        """Remember `code` unless a file it came from is too fresh for its stamp to be trusted."""
        if any(s is not None and not sources.is_settled(s) for _, s in inputs.files):
            return
        code_data: dict[str, Any] = {
            "entries": list(code.entries.items()),
            "sites": [
                [key, str(s.kind), s.qualname, s.file, s.line, list(s.path)]
                for key, s in code.sites.items()
            ],
            "warnings": list(code.warnings),
        }
        inputs_data = [
            [[path, *(stamp or ())] for path, stamp in inputs.files],
            [[m.name, str(m.origin), m.file, m.package, m.error] for m in inputs.located],
        ]
        # Compact JSON has no raw newline: the inputs line can be checked without the rest.
        value = b"\n".join(_json(d) for d in (inputs_data, code_data))
        self._state.put_many(NAMESPACE, [(key, value)])


def _json(data: object) -> bytes:
    return json.dumps(data, separators=(",", ":")).encode()


def inputs(
    files: Iterable[tuple[str, state_store.FileStamp | None]],
    located: Iterable[modules.ModuleRef],
) -> Inputs:
    """Inputs in a canonical order, so equal walks store equal entries."""
    return Inputs(
        files=tuple(sorted(dict(files).items())),
        located=tuple(sorted(set(located), key=lambda m: (m.name, repr(m)))),
    )
