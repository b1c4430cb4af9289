import dataclasses
import pathlib
from collections.abc import Iterable, Mapping

from pivot.app import observe, run_cache, stage_job
from pivot.domain import change, errors, events, history, paths, specs, stage
from pivot.ports import content_cache, hasher, lock_store, workspace_store

Status = events.StageStatus


@dataclasses.dataclass(frozen=True, slots=True)
class Finished:
    """How one stage ended in a run: what the scheduler reports and the run history keeps."""

    name: str
    status: Status
    reasons: tuple[change.Reason, ...] = ()
    message: str = ""
    duration: float = 0.0
    log: str = ""
    params: Mapping[str, object] = dataclasses.field(default_factory=dict[str, object])
    metrics: Mapping[str, dict[str, history.Scalar]] = dataclasses.field(
        default_factory=dict[str, dict[str, history.Scalar]]
    )


@dataclasses.dataclass(frozen=True, slots=True)
class Launch:
    """A stage that must run: its job, and what was observed before it (for the lock record)."""

    evaluation: observe.Evaluation
    job: stage_job.StageJob

    @property
    def stage(self) -> stage.Stage:
        return self.evaluation.stage

    @property
    def reasons(self) -> tuple[change.Reason, ...]:
        return self.evaluation.decision.reasons


@dataclasses.dataclass(frozen=True, slots=True)
class Policy:
    """The run options that change how one stage is handled."""

    force: bool = False
    dry_run: bool = False
    no_commit: bool = False


class StageHandler:
    """Everything a run does for one stage except scheduling it: decide, restore from the cache
    or the run cache, build its job, and record a finished job (lock record, run cache, memo).

    The scheduler calls `start` when the stage's upstream has finished, runs a `Launch`'s job
    wherever it likes, and hands the outcome to `complete`.
    """

    def __init__(
        self,
        *,
        project_root: pathlib.Path,
        observer: observe.Observer,
        locks: lock_store.LockStore,
        cache: content_cache.ContentCache,
        hasher_: hasher.Hasher,
        workspace: workspace_store.WorkspaceStore,
        runs: run_cache.RunCache,
        policy: Policy = Policy(),
        link_modes: tuple[content_cache.LinkMode, ...] = content_cache.DEFAULT_LINK_MODES,
        assumed: Mapping[pathlib.Path, str] | None = None,
    ) -> None:
        self._root = project_root
        self._observer = observer
        self._locks = locks
        self._cache = cache
        self._hasher = hasher_
        self._workspace = workspace
        self._runs = runs
        self._policy = policy
        self._link_modes = link_modes
        self._assumed = dict(assumed or {})
        """Deps known without looking: from `--pull`, and what a dry run would have restored."""

    def start(
        self, st: stage.Stage, *, upstream_would_run: Iterable[str] = ()
    ) -> Finished | Launch:
        """Decide `st`; finish it here (skip, restore, dry run, failure) or return its job.

        `upstream_would_run`: upstream stages a dry run reported as would-run (they make `st`
        stale too, since their outputs were not produced).
        """
        evaluation = self._observer.evaluate(st, force=self._policy.force, assumed=self._assumed)
        params = evaluation.observation.params
        decision = change.with_upstream(evaluation.decision, upstream_would_run)
        match decision.action:
            case change.Action.SKIP:
                return Finished(st.name, Status.SKIPPED, params=params)
            case change.Action.RESTORE:
                corrupt = self._corrupt_objects(evaluation)
                if not corrupt and self._policy.dry_run:
                    self._assumed.update(observe.restored_paths(evaluation))
                    return Finished(
                        st.name, Status.SKIPPED, message="would restore from cache", params=params
                    )
                if not corrupt:
                    return self._restore(st, evaluation)
                decision = change.Decision(change.Action.RUN, corrupt)
            case change.Action.RUN:
                pass
        if self._policy.dry_run:
            return Finished(st.name, Status.WOULD_RUN, decision.reasons, params=params)
        missing = [p for p, d in evaluation.observation.deps.items() if d is None]
        if missing:
            return Finished(
                st.name,
                Status.FAILED,
                decision.reasons,
                "missing dependencies: "
                + ", ".join(missing)
                + " (no stage produces them; create them or track them with `pivot track`)",
                params=params,
            )
        if self._run_cache_enabled(st) and not self._policy.force:
            hit = self._from_run_cache(st, evaluation)
            if hit is not None:
                return hit
        job = stage_job.job_for(
            st,
            self._cache,
            self._hasher,
            self._workspace,
            store_outputs=not self._policy.no_commit,
            store_uncached=self._run_cache_enabled(st),
            previous=_previous_versions(st, evaluation),
        )
        return Launch(dataclasses.replace(evaluation, decision=decision), job)

    def complete(
        self, launch: Launch, outcome: stage_job.StageOutcome, *, log: str = ""
    ) -> Finished:
        """Record a finished job: memoise its outputs' digests, write its lock record and
        run-cache entry (unless `no_commit`)."""
        st, evaluation = launch.stage, launch.evaluation
        params = evaluation.observation.params
        if not outcome.ok:
            return Finished(
                st.name,
                Status.FAILED,
                launch.reasons,
                outcome.error,
                outcome.duration,
                log,
                params=params,
            )
        for result in outcome.outputs:
            for key, stamp, digest in result.stamps:
                self._observer.digests.remember(key, stamp, digest)
        if not self._policy.no_commit:
            record = observe.lock_record(st, evaluation.observation, outcome)
            self._locks.write(st, record)
            if self._run_cache_enabled(st):
                self._runs.record(st, evaluation.observation, record)
        return Finished(
            st.name,
            Status.RAN,
            launch.reasons,
            duration=outcome.duration,
            log=log,
            params=params,
            metrics=outcome.metrics or {},
        )

    def not_started(self, st: stage.Stage, *, upstream_clean: bool) -> Finished:
        """A stage the run stopped before: skipped if it is up to date, else blocked.

        `upstream_clean`: every selected upstream stage was skipped (nothing upstream changed).
        """
        if upstream_clean and not self._policy.force:
            evaluation = self._observer.evaluate(st, assumed=self._assumed)
            if evaluation.decision.action is change.Action.SKIP:
                return Finished(st.name, Status.SKIPPED)
        return Finished(
            st.name,
            Status.BLOCKED,
            message="not started: an earlier stage failed "
            + "(use --keep-going to run independent stages)",
        )

    def _corrupt_objects(self, evaluation: observe.Evaluation) -> tuple[change.Reason, ...]:
        """Reasons to run instead: outputs whose cache objects fail re-hashing."""
        assert evaluation.record is not None
        reasons: list[change.Reason] = []
        for ident in evaluation.decision.restore:
            if self._intact(evaluation.record["outs"][ident]["hash"]):
                continue
            reasons.append(
                change.Reason(
                    change.ReasonKind.OUTPUT_MISSING,
                    ident,
                    detail="missing, and its cache object is corrupt (quarantined)",
                )
            )
        return tuple(reasons)

    def _intact(self, digest: str) -> bool:
        """Whether the cache holds `digest` intact; quarantines it if corrupt. Objects were
        verified when they entered the cache: re-hashed again only when restores may share
        bytes with the cache (hardlink, symlink), else the cheap check (ADR 0021)."""
        rehash = not content_cache.SHARING_LINK_MODES.isdisjoint(self._link_modes)
        try:
            if self._cache.verify(digest, rehash=rehash):
                return True
        except errors.CacheMissError:
            return False
        if not self._policy.dry_run:
            self._cache.quarantine(digest)
        return False

    def _restore(self, st: stage.Stage, evaluation: observe.Evaluation) -> Finished:
        assert evaluation.record is not None
        restored: list[str] = []
        for ident in evaluation.decision.restore:
            out = evaluation.record["outs"][ident]
            path = st.output_path(ident)
            if path is None:
                raise errors.LockFileError(f"stage '{st.name}': '{ident}' is not an output")
            self._workspace.restore(path, out["hash"], self._link_modes)
            restored.append(f"{ident} → {paths.relative(path, self._root)}")
        return Finished(
            st.name,
            Status.SKIPPED,
            message="restored from cache: " + ", ".join(restored),
            params=evaluation.observation.params,
        )

    def _run_cache_enabled(self, st: stage.Stage) -> bool:
        return not self._policy.no_commit and run_cache.applies(st)

    def _from_run_cache(self, st: stage.Stage, evaluation: observe.Evaluation) -> Finished | None:
        """Restore the outputs of an earlier run with the same inputs; None on a miss."""
        outs = self._runs.lookup(st, evaluation.observation)
        if outs is None:
            return None
        if not all(self._intact(out["hash"]) for out in outs.values()):
            return None
        if any(st.output_path(ident) is None for ident in outs):
            return None
        for ident, out in outs.items():
            path = st.output_path(ident)
            assert path is not None
            modes = self._link_modes if out["cached"] else (content_cache.LinkMode.COPY,)
            self._workspace.restore(path, out["hash"], modes)
            self._remember(path, out["hash"])
        produced = {ident: out["hash"] for ident, out in outs.items()}
        self._locks.write(st, observe.lock_from_digests(st, evaluation.observation, produced))
        return Finished(
            st.name,
            Status.RESTORED,
            evaluation.decision.reasons,
            "restored (run cache)",
            params=evaluation.observation.params,
        )

    def _remember(self, path: pathlib.Path, digest: str) -> None:
        """Memoise restored files' digests so the next run does not re-read them."""
        manifest = self._cache.read_tree(digest) if self._workspace.is_dir(path) else None
        self._observer.digests.remember_restored(path, digest, manifest)


def _previous_versions(st: stage.Stage, evaluation: observe.Evaluation) -> Mapping[str, str]:
    """Last recorded digest of each IncrementalOut, restored writable before the run."""
    if evaluation.record is None:
        return {}
    recorded = evaluation.record["outs"]
    return {
        ident: recorded[ident]["hash"]
        for o in st.outs
        if o.kind is specs.OutKind.INCREMENTAL and (ident := st.record_key(o)) in recorded
    }
