import dataclasses
import pathlib
from collections.abc import Sequence

from pivot.app import observe, run_cache, targets
from pivot.domain import change, dag, errors, paths, pipeline, stage
from pivot.ports import content_cache, lock_store, state_store, workspace_store
from pivot.ports import progress as progress_port


@dataclasses.dataclass(frozen=True, slots=True)
class CommitReport:
    name: str
    committed: bool
    """False when the lock record already matched the workspace."""


@dataclasses.dataclass(frozen=True, slots=True)
class _Plan:
    stage: stage.Stage
    observation: change.Observation
    produced: dict[str, str]


class CommitService:
    """Records the workspace as stages' lock records (and caches outputs) without running."""

    def __init__(
        self,
        *,
        project_root: pathlib.Path,
        observer: observe.Observer,
        locks: lock_store.LockStore,
        cache: content_cache.ContentCache,
        state: state_store.StateStore,
        workspace: workspace_store.WorkspaceStore,
    ) -> None:
        self._root = project_root
        self._observer = observer
        self._locks = locks
        self._cache = cache
        self._workspace = workspace
        self._run_cache = run_cache.RunCache(state)

    def commit(
        self,
        pipe: pipeline.Pipeline,
        stages: Sequence[str] = (),
        progress: progress_port.Progress = progress_port.NULL,
    ) -> list[CommitReport]:
        """Commit the named stages (every stage when none is named); all or nothing.

        `progress` counts the files and bytes hashed.
        """
        graph = dag.build(pipe.stages, self._root)
        names = targets.resolve_stage_names(graph, stages) or list(graph.order)
        reports: list[CommitReport] = []
        plans: list[_Plan] = []
        problems: list[str] = []
        try:
            with self._observer.digests.reporting(progress):
                for name in graph.ordered(names):
                    evaluation = self._observer.evaluate(graph.stages[name])
                    if evaluation.decision.action is change.Action.SKIP:
                        reports.append(CommitReport(name, committed=False))
                        continue
                    plan = self._plan(evaluation, problems)
                    if plan is not None:
                        plans.append(plan)
                        reports.append(CommitReport(name, committed=True))
                if problems:
                    raise errors.OutputError(
                        "nothing committed:\n" + "\n".join(f"  - {p}" for p in problems)
                    )
                for plan in plans:
                    self._write(plan)
        finally:
            self._observer.digests.flush()
        return reports

    def _plan(self, evaluation: observe.Evaluation, problems: list[str]) -> _Plan | None:
        st = evaluation.stage
        found = len(problems)
        missing = [p for p, d in evaluation.observation.deps.items() if d is None]
        if missing:
            problems.append(f"stage '{st.name}': missing dependencies: {', '.join(missing)}")
        produced: dict[str, str] = {}
        for out in st.outs:
            ident = st.record_key(out)
            digest = self._observer.digests.digest(out.path)
            if digest is None:
                problems.append(
                    f"stage '{st.name}': output '{ident}' "
                    + f"({paths.relative(out.path, self._root)}) does not exist; "
                    + f"run the stage (`pivot run {st.name}`) instead"
                )
                continue
            produced[ident] = digest
        if len(problems) > found:
            return None
        return _Plan(st, evaluation.observation, produced)

    def _write(self, plan: _Plan) -> None:
        st = plan.stage
        remember = run_cache.applies(st)
        for out in st.outs:
            if out.cached or (remember and run_cache.keeps_copy(out)):
                self._store(out.path, plan.produced[st.record_key(out)])
        record = observe.lock_from_digests(st, plan.observation, plan.produced)
        self._locks.write(st, record)
        if remember:
            self._run_cache.record(st, plan.observation, record)

    def _store(self, path: pathlib.Path, digest: str) -> None:
        if self._cache.has(digest):
            return
        if not self._workspace.is_dir(path):
            self._cache.put_file(path, digest)
            return
        tree_digest, manifest = self._observer.digests.tree(path)
        root = str(path)
        self._cache.put_files({f"{root}/{rel}": member for rel, member in manifest.items()})
        self._cache.put_tree(manifest, tree_digest)
