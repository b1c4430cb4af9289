import dataclasses

from pivot.domain import events as events_mod


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
