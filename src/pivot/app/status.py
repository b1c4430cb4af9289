import dataclasses
import pathlib
from collections.abc import Sequence

from pivot.app import observe, targets
from pivot.domain import change, dag, pipeline


@dataclasses.dataclass(frozen=True, slots=True)
class StageReport:
    name: str
    decision: change.Decision
    warnings: tuple[str, ...] = ()

    @property
    def state(self) -> str:
        match self.decision.action:
            case change.Action.RUN:
                return "stale"
            case change.Action.RESTORE:
                return "outputs_missing"
            case change.Action.SKIP:
                return "up_to_date"


class StatusService:
    """Which stages would run, and why — without running or changing anything."""

    def __init__(self, *, project_root: pathlib.Path, observer: observe.Observer) -> None:
        self._root = project_root
        self._observer = observer

    def status(self, pipe: pipeline.Pipeline, stages: Sequence[str] = ()) -> list[StageReport]:
        graph = dag.build(pipe.stages, self._root)
        selected = targets.select(graph, stages)
        reports: dict[str, StageReport] = {}
        assumed: dict[pathlib.Path, str] = {}
        """What an upstream RESTORE would bring back (status restores nothing)."""
        try:
            for name in graph.ordered(selected):
                evaluation = self._observer.evaluate(graph.stages[name], assumed=assumed)
                decision = change.with_upstream(
                    evaluation.decision,
                    (up for up in graph.upstream[name] if reports[up].decision.stale),
                )
                if decision.action is change.Action.RESTORE:
                    assumed.update(observe.restored_paths(evaluation))
                reports[name] = StageReport(name, decision, evaluation.observation.code.warnings)
        finally:
            self._observer.digests.flush()
        return list(reports.values())
