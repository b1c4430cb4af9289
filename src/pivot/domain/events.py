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
class RunStarted:
    stages: int
    """How many stages the run considers (the N of `[n/N]`)."""
    parallel: bool
    """More than one stage can run at once: output lines need the stage name."""


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
    log: str = ""
    """Where this run's output of the stage is kept (project-relative), when it ran."""


@dataclasses.dataclass(frozen=True, slots=True)
class StageOutput:
    """One line a running stage printed (stdout or stderr, in order)."""

    stage: str
    line: str


@dataclasses.dataclass(frozen=True, slots=True)
class RunSummary:
    counts: dict[str, int]
    duration: float

    @property
    def ok(self) -> bool:
        return not (
            self.counts.get(StageStatus.FAILED, 0) or self.counts.get(StageStatus.BLOCKED, 0)
        )


Event = RunStarted | StageStarted | StageOutput | StageFinished | RunSummary
