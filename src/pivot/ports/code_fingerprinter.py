from typing import Protocol

from pivot.domain import manifest, stage


class CodeFingerprinter(Protocol):
    """Digests of the code a stage reaches."""

    def fingerprint(self, st: stage.Stage) -> manifest.CodeManifest:
        """The stage's code manifest; equal in every process for the same source."""
        ...
