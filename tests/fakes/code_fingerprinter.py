from pivot.domain import manifest, stage
from pivot.ports import state_store


class FakeFingerprinter:
    """Manifest per stage name; tests change `versions` to simulate code edits."""

    def __init__(self) -> None:
        self.versions: dict[str, str] = {}

    def fingerprint(self, st: stage.Stage) -> manifest.CodeManifest:
        key = f"stage:{st.func.__module__}.{st.func.__qualname__}"
        return manifest.CodeManifest({key: self.versions.get(st.lock_name, "v1")})

    def inputs(self) -> dict[str, state_store.FileStamp | None]:
        return {}
