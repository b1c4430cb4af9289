from typing import Protocol

from pivot.domain import manifest, stage


class CodeFingerprinter(Protocol):
    """Digests of the code a stage reaches."""

    def fingerprint(self, st: stage.Stage) -> manifest.CodeManifest:
        """The stage's code manifest (of the Python scripts it runs, when it has `scripts`);
        equal in every process for the same source."""
        ...
