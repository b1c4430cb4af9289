import dataclasses

from pivot.domain import events as events_mod
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


@dataclasses.dataclass
class RecordingSink:
    events: list[events_mod.Event] = dataclasses.field(default_factory=list[events_mod.Event])

    def emit(self, event: events_mod.Event) -> None:
        self.events.append(event)

    def close(self) -> None:
        pass

    def statuses(self) -> dict[str, str]:
        return {
            e.stage: str(e.status) for e in self.events if isinstance(e, events_mod.StageFinished)
        }
