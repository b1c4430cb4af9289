import dataclasses
import pathlib
import stat
from collections.abc import Callable

from pivot.app import stage_job, transfer
from pivot.domain import errors
from pivot.domain import stage as stage_mod
from pivot.ports import content_cache, state_store, workspace_store
from pivot.ports import hasher as hasher_port
from pivot.ports import remote as remote_port


@dataclasses.dataclass(frozen=True, slots=True)
class DetachedJob:
    """A stage for a worker that shares no disk with the project: data moves through a remote.

    The worker fetches `inputs` from the remote into a scratch directory laid out like the
    project, runs the stage there, and uploads its outputs; only digests come back.
    """

    job: stage_job.StageJob
    project_root: pathlib.Path
    inputs: tuple[tuple[pathlib.Path, str], ...]
    """(workspace path, digest) of every dependency."""
    open_remote: Callable[[], remote_port.Remote]
    """Connects to the remote from the worker (an adapter factory, sent by pickle)."""
    make_cache: Callable[[pathlib.Path], content_cache.ContentCache]
    """Builds the worker's scratch cache at a path (an adapter class, sent by pickle)."""


@dataclasses.dataclass(frozen=True, slots=True)
class Detacher:
    """Client side of detached runs: uploads a stage's inputs, places its outputs on return."""

    project_root: pathlib.Path
    cache: content_cache.ContentCache
    hasher: hasher_port.Hasher
    remote: remote_port.Remote
    open_remote: Callable[[], remote_port.Remote]
    make_cache: Callable[[pathlib.Path], content_cache.ContentCache]
    workspace: workspace_store.WorkspaceStore
    modes: tuple[content_cache.LinkMode, ...] = (content_cache.LinkMode.COPY,)

    def prepare(self, job: stage_job.StageJob) -> DetachedJob:
        """Cache and upload the job's dependencies (and previous incremental versions)."""
        inputs = tuple(
            (path, self._store(job.stage, path)) for dep in job.deps for path in dep.paths
        )
        previous = [o.previous for o in job.outs if o.previous and self.cache.has(o.previous)]
        transfer.send_objects(self.cache, self.remote, [*(d for _, d in inputs), *previous])
        return DetachedJob(job, self.project_root, inputs, self.open_remote, self.make_cache)

    def finish(
        self, job: stage_job.StageJob, outcome: stage_job.StageOutcome
    ) -> stage_job.StageOutcome:
        """Download the outputs a worker uploaded, place them, and stamp the placed files."""
        if not outcome.ok:
            return outcome
        transfer.receive_objects(self.cache, self.remote, [o.digest for o in outcome.outputs])
        placed: list[stage_job.OutResult] = []
        by_identity = {o.identity: o for o in job.outs}
        for result in outcome.outputs:
            path = by_identity[result.identity].path
            self.workspace.restore(path, result.digest, self.modes)
            placed.append(dataclasses.replace(result, stamps=self._stamps(path, result.digest)))
        return dataclasses.replace(outcome, outputs=tuple(placed))

    def _store(self, stage: str, path: pathlib.Path) -> str:
        try:
            mode = self.workspace.stat(path).st_mode
        except (FileNotFoundError, NotADirectoryError):
            mode = 0
        if stat.S_ISDIR(mode):
            manifest = {rel: self._put(pathlib.Path(p)) for rel, p, _ in self.workspace.scan(path)}
            digest = self.hasher.tree_digest(sorted(manifest.items()))
            self.cache.put_tree(manifest, digest)
            return digest
        if not stat.S_ISREG(mode):
            raise errors.PivotError(
                f"stage '{stage}': dependency '{path}' is missing; it cannot be sent to a worker"
            )
        return self._put(path)

    def _put(self, path: pathlib.Path) -> str:
        digest = self.hasher.file_digest(path)
        self.cache.put_file(path, digest)
        return digest

    def _stamps(
        self, path: pathlib.Path, digest: str
    ) -> tuple[tuple[str, state_store.FileStamp, str], ...]:
        if not digest.endswith(hasher_port.DIR_SUFFIX):
            return ((str(path), state_store.FileStamp.of(self.workspace.stat(path)), digest),)
        manifest = self.cache.read_tree(digest)
        return tuple(
            (file, state_store.FileStamp.of(st), manifest[rel])
            for rel, file, st in self.workspace.scan(path)
            if rel in manifest
        )


def run(detached: DetachedJob) -> stage_job.StageOutcome:
    """Worker side: fetch inputs into a scratch copy of the project, run, upload outputs."""
    workspace = detached.job.workspace
    with workspace.temporary_directory() as scratch:
        cache = detached.make_cache(scratch / ".pivot-scratch-cache")
        shared = detached.open_remote()
        previous = [o.previous for o in detached.job.outs if o.previous]
        transfer.receive_objects(cache, shared, [*(d for _, d in detached.inputs), *previous])

        def moved(path: pathlib.Path) -> pathlib.Path:
            return scratch / path.relative_to(detached.project_root)

        for path, digest in detached.inputs:
            dest = moved(path)
            workspace.make_dirs(dest.parent)
            if not workspace.exists(dest):
                cache.materialize(digest, dest, (content_cache.LinkMode.COPY,))
        job = _relocated(detached.job, moved, cache)
        workspace.make_dirs(job.root)
        outcome = stage_job.run(job)
        if outcome.ok:
            transfer.send_objects(cache, shared, [o.digest for o in outcome.outputs])
        # Scratch paths mean nothing to the client: it stamps the files it places.
        return dataclasses.replace(
            outcome, outputs=tuple(dataclasses.replace(o, stamps=()) for o in outcome.outputs)
        )


def _relocated(
    job: stage_job.StageJob,
    moved: Callable[[pathlib.Path], pathlib.Path],
    cache: content_cache.ContentCache,
) -> stage_job.StageJob:
    return dataclasses.replace(
        job,
        root=moved(job.root),
        deps=tuple(
            stage_mod.DepBinding(d.name, tuple(moved(p) for p in d.paths), d.loader, d.multi)
            for d in job.deps
        ),
        # Every output travels back through the remote, cached or not.
        outs=tuple(dataclasses.replace(o, path=moved(o.path), store=True) for o in job.outs),
        cache=cache,
    )
