import dataclasses
import enum

from pivot.domain import change


class StageStatus(enum.StrEnum):
    RAN = "ran"
    SKIPPED = "skipped"
    RESTORED = "restored"
    FAILED = "failed"
    BLOCKED = "blocked"
    WOULD_RUN = "would_run"


@dataclasses.dataclass(frozen=True, slots=True)
class StageStarted:
    stage: str
    reasons: tuple[change.Reason, ...]


@dataclasses.dataclass(frozen=True, slots=True)
class StageFinished:
    stage: str
    status: StageStatus
    reasons: tuple[change.Reason, ...] = ()
    message: str = ""
    """For failed: the traceback; for blocked: which failure blocked it; for restored: what."""
    duration: float = 0.0


@dataclasses.dataclass(frozen=True, slots=True)
class RunSummary:
    counts: dict[str, int]
    duration: float

    @property
    def ok(self) -> bool:
        return not (
            self.counts.get(StageStatus.FAILED, 0) or self.counts.get(StageStatus.BLOCKED, 0)
        )


Event = StageStarted | StageFinished | RunSummary
