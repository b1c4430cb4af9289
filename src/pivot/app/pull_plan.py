import dataclasses
import enum
import pathlib
from collections.abc import Mapping

from pivot.app import artifacts, observe, run, run_cache, targets, transfer
from pivot.domain import change, dag, lock, paths, pipeline, stage
from pivot.ports import content_cache, lock_store, state_store, workspace_store
from pivot.ports import progress as progress_port


class Verdict(enum.StrEnum):
    RECORDED = "recorded"
    """The lock record is up to date: the outputs are the recorded ones."""
    RUN_CACHE = "run_cache"
    """A run with these exact inputs was recorded (here or pushed by a teammate)."""
    RUN = "run"
    """Neither: the stage must run, so its inputs must be in the workspace."""


@dataclasses.dataclass(frozen=True, slots=True)
class Judged:
    verdict: Verdict
    outputs: Mapping[pathlib.Path, tuple[str, str]] = dataclasses.field(default_factory=dict)
    """Output path → (artifact identity, digest) the stage will have without running."""
    assumed: Mapping[pathlib.Path, str] = dataclasses.field(default_factory=dict)
    """Deps absent from the workspace, taken from their producer's verdict."""
    entry: tuple[str, bytes] | None = None
    """A remote run-cache entry (signature, bytes) to keep locally."""
    refresh: frozenset[str] = frozenset()
    """Upstream stages whose outputs in the workspace differ from what they will be: they are
    put right (restored) before this stage is looked at, as a plain `pivot run` would."""


@dataclasses.dataclass(frozen=True, slots=True)
class PullPlan:
    scope: run.Scope
    """The stages the run covers: the targets and what stages that must run read."""
    fetch: Mapping[str, str]
    """Digest → label of every object to download."""
    entries: Mapping[str, bytes]
    tracked: tuple[artifacts.Tracked, ...]
    """Tracked inputs of stages that run, absent from the workspace: placed before the run."""
    verdicts: Mapping[str, Verdict]
    """Each stage the run covers, in order."""


class PullPlanner:
    """`pivot run --pull`: decide per stage, from lock records and run caches (local and
    remote), whether it would be skipped; fetch only what the targets and the stages that must
    run need — nothing upstream of a stage whose outputs come from the remote."""

    def __init__(
        self,
        *,
        project_root: pathlib.Path,
        observer: observe.Observer,
        locks: lock_store.LockStore,
        cache: content_cache.ContentCache,
        state: state_store.StateStore,
        workspace: workspace_store.WorkspaceStore,
        transfer_service: transfer.TransferService,
        link_modes: tuple[content_cache.LinkMode, ...] = content_cache.DEFAULT_LINK_MODES,
    ) -> None:
        self._root = project_root
        self._observer = observer
        self._locks = locks
        self._cache = cache
        self._run_cache = run_cache.RunCache(state)
        self._workspace = workspace
        self._transfer = transfer_service
        self._link_modes = link_modes

    @property
    def remote_name(self) -> str:
        return self._transfer.remote_name

    def plan(self, pipe: pipeline.Pipeline, options: run.RunOptions) -> PullPlan:
        graph = dag.build(pipe.stages, self._root)
        named = set(targets.resolve_stage_names(graph, options.stages))
        judged = self.judge(pipe, options)
        return self._demand(graph, named or set(judged), judged)

    def judge(self, pipe: pipeline.Pipeline, options: run.RunOptions) -> dict[str, Judged]:
        """Each stage the options select, judged in order without moving anything."""
        graph = dag.build(pipe.stages, self._root)
        considered = targets.select(graph, options.stages, single_stage=options.single_stage)
        tracked = {t.path: t for t in artifacts.find_tracked(self._root, self._workspace)}
        judged: dict[str, Judged] = {}
        try:
            for name in graph.ordered(considered):
                judged[name] = self._judge(graph, graph.stages[name], judged, tracked, options)
        finally:
            self._observer.digests.flush()
        return judged

    def on_remote(self, digests: set[str]) -> set[str]:
        """Which of `digests` the remote holds."""
        return self._transfer.on_remote(digests)

    def apply(
        self,
        plan: PullPlan,
        *,
        jobs: int,
        progress: progress_port.Progress = progress_port.NULL,
        dry_run: bool = False,
    ) -> transfer.TransferReport:
        """Download the plan's objects; on success keep its run-cache entries and place the
        tracked inputs. Nothing is placed when an object failed. `dry_run`: only count what
        would come down (a directory's files included), moving and placing nothing."""
        report = self._transfer.fetch_objects(
            plan.fetch, jobs=jobs, progress=progress, dry_run=dry_run
        )
        if report.failures or dry_run:
            return report
        for sig, entry in plan.entries.items():
            self._run_cache.adopt(sig, entry)
        for item in plan.tracked:
            self._workspace.restore(item.path, item.digest, self._link_modes)
        return report

    def _judge(
        self,
        graph: dag.Dag,
        st: stage.Stage,
        judged: Mapping[str, Judged],
        tracked: Mapping[pathlib.Path, artifacts.Tracked],
        options: run.RunOptions,
    ) -> Judged:
        assumed: dict[pathlib.Path, str] = {}
        refresh: set[str] = set()
        for dep in st.dep_paths():
            producer = graph.producer_of(dep)
            if producer is None:
                # Tracked data left on the remote counts as its .pvt says.
                item = tracked.get(dep)
                if (
                    item is not None
                    and self._observer.digests.digest(dep) is None
                    and (self._cache.has(item.digest) or self.on_remote({item.digest}))
                ):
                    assumed[dep] = item.digest
                continue
            if producer.stage not in judged:
                continue
            upstream = judged[producer.stage]
            # A dep inside a directory output has no digest of its own in the lock record.
            if upstream.verdict is Verdict.RUN or dep not in upstream.outputs:
                return Judged(Verdict.RUN)
            assumed[dep] = upstream.outputs[dep][1]
            if self._observer.digests.digest(dep) not in (None, assumed[dep]):
                refresh.add(producer.stage)
        if options.force:
            return Judged(Verdict.RUN)
        record = self._locks.read(st)
        now = self._observer.observe(st, record, assumed)
        if record is not None:
            inputs = change.decide(record, dataclasses.replace(now, outputs={}))
            outputs = _outputs(st, record["outs"])
            if inputs.action is change.Action.SKIP and self._obtainable(record["outs"], outputs):
                return Judged(Verdict.RECORDED, outputs, assumed, refresh=frozenset(refresh))
        if options.no_commit or not run_cache.applies(st):
            return Judged(Verdict.RUN)
        found = self._run_cache.lookup(st, now)
        entry = None
        if found is None:
            sig = run_cache.signature(st, now)
            raw = self._transfer.run_entry(sig)
            found = None if raw is None else run_cache.parse(st, raw)
            entry = None if found is None or raw is None else (sig, raw)
        if found is None:
            return Judged(Verdict.RUN)
        outputs = _outputs(st, found)
        digests = {digest for _, digest in outputs.values()}
        missing = {d for d in digests if not self._cache.has(d)}
        if missing - self._transfer.on_remote(missing):
            return Judged(Verdict.RUN)
        return Judged(Verdict.RUN_CACHE, outputs, assumed, entry, frozenset(refresh))

    def _obtainable(
        self,
        recorded: Mapping[str, lock.OutRecord],
        outputs: Mapping[pathlib.Path, tuple[str, str]],
    ) -> bool:
        """Whether every recorded output is in the workspace, the cache or on the remote.

        An output kept out of the cache (`cache=False`, metrics) only counts in the workspace:
        a plain `pivot run` re-runs its stage otherwise.
        """
        remote: set[str] = set()
        for path, (ident, digest) in outputs.items():
            if self._observer.digests.digest(path) == digest:
                continue
            if not recorded[ident]["cached"]:
                return False
            if not self._cache.has(digest):
                remote.add(digest)
        return not remote - self._transfer.on_remote(remote)

    def _demand(self, graph: dag.Dag, named: set[str], judged: Mapping[str, Judged]) -> PullPlan:
        """Walk down from the targets: a stage that can be skipped needs its outputs; one that
        must run needs its inputs (its producers, in turn; tracked data)."""
        needed: set[str] = set()
        fetch: dict[str, str] = {}
        entries: dict[str, bytes] = {}
        tracked: dict[pathlib.Path, artifacts.Tracked] = {}
        known: list[artifacts.Tracked] | None = None
        todo = list(named)
        while todo:
            name = todo.pop()
            if name in needed:
                continue
            needed.add(name)
            verdict = judged[name]
            if verdict.verdict is not Verdict.RUN:
                for path, (ident, digest) in verdict.outputs.items():
                    if self._cache.has(digest):
                        continue
                    in_place = self._observer.digests.digest(path) == digest
                    if verdict.verdict is Verdict.RUN_CACHE or not in_place:
                        fetch[digest] = f"{ident} → {paths.relative(path, self._root)}"
                if verdict.entry is not None:
                    entries[verdict.entry[0]] = verdict.entry[1]
                todo.extend(verdict.refresh)
                continue
            for dep in graph.stages[name].dep_paths():
                producer = graph.producer_of(dep)
                if producer is not None and producer.stage in judged:
                    todo.append(producer.stage)
                    continue
                if self._workspace.exists(dep):
                    continue
                if known is None:
                    known = artifacts.find_tracked(self._root, self._workspace)
                owner = next(
                    (t for t in known if t.path == dep or artifacts.path_inside(dep, t.path)), None
                )
                if owner is not None:
                    tracked[owner.path] = owner
                    if not self._cache.has(owner.digest):
                        fetch[owner.digest] = owner.display(self._root)
        assumed = {
            path: digest
            for name in needed
            for path, digest in judged[name].assumed.items()
            if (producer := graph.producer_of(path)) is None or producer.stage not in needed
        }
        return PullPlan(
            run.Scope(frozenset(needed), assumed),
            fetch,
            entries,
            tuple(tracked.values()),
            {name: judged[name].verdict for name in graph.ordered(needed)},
        )


def _outputs(
    st: stage.Stage, recorded: Mapping[str, lock.OutRecord]
) -> dict[pathlib.Path, tuple[str, str]]:
    found: dict[pathlib.Path, tuple[str, str]] = {}
    for ident, out in recorded.items():
        path = st.output_path(ident)
        if path is not None:
            found[path] = (ident, out["hash"])
    return found
