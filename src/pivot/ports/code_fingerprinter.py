from typing import Protocol

from pivot.domain import manifest, stage
from pivot.ports import state_store


class CodeFingerprinter(Protocol):
    """Digests of the code a stage reaches."""

    def fingerprint(self, st: stage.Stage) -> manifest.CodeManifest:
        """The stage's code manifest (of the Python scripts it runs, when it has `scripts`);
        equal in every process for the same source."""
        ...

    def inputs(self) -> dict[str, state_store.FileStamp | None]:
        """Every file the manifests so far depended on, with the stamp it was read at (None:
        absent); a manifest stays valid while each of them is unchanged."""
        ...
