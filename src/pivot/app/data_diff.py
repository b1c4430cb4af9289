import dataclasses
import json
import pathlib
from collections.abc import Callable, Sequence

from pivot.app import artifacts, digests
from pivot.domain import data_diff, errors, paths, pipeline, specs, stage
from pivot.ports import content_cache, table_differ, vcs, workspace_store

LockPathOf = Callable[[stage.Stage], pathlib.Path]
"""Where a stage's lock file lives (the lock store's layout)."""


@dataclasses.dataclass(frozen=True, slots=True)
class Target:
    """A data file compared between a revision and the workspace."""

    name: str
    """How displays name it: `train:table`, or the tracked path."""
    path: pathlib.Path
    fmt: data_diff.TableFormat
    record: Callable[[str], str | None]
    """The file's digest as recorded at a commit sha (None: not recorded there)."""


@dataclasses.dataclass(frozen=True, slots=True)
class FileDiff:
    target: str
    path: str
    """Relative to the project root."""
    state: str
    """`changed`, `unchanged`, `added` (not at the revision) or `missing` (not in the workspace)."""
    diff: data_diff.TableDiff | None = None


@dataclasses.dataclass(frozen=True, slots=True)
class DataDiffReport:
    rev: str
    sha: str
    files: tuple[FileDiff, ...]


class DataDiffService:
    """Data diff of stage outputs and tracked files: workspace vs a revision's cached version."""

    def __init__(
        self,
        *,
        project_root: pathlib.Path,
        cwd: pathlib.Path,
        repo: vcs.Vcs,
        cache: content_cache.ContentCache,
        digest_service: digests.DigestService,
        differ: table_differ.TableDiffer,
        lock_path_of: LockPathOf,
        workspace: workspace_store.WorkspaceStore,
    ) -> None:
        self._workspace = workspace
        self._root = project_root
        self._cwd = cwd
        self._repo = repo
        self._cache = cache
        self._digests = digest_service
        self._differ = differ
        self._lock_path_of = lock_path_of

    def diff(
        self,
        pipe: pipeline.Pipeline,
        names: Sequence[str],
        *,
        rev: str = "HEAD",
        key: tuple[str, ...] = (),
        samples: int = 10,
    ) -> DataDiffReport:
        chosen = self.targets(pipe, names)
        sha = self._repo.resolve(rev)
        files = [self._one(t, rev, sha, key, samples) for t in chosen]
        return DataDiffReport(rev, sha, tuple(files))

    def targets(self, pipe: pipeline.Pipeline, names: Sequence[str]) -> list[Target]:
        """Data files named by identity or path; every CSV/TSV/JSON/JSONL/Parquet one if none."""
        by_path = [self._identity_of_path(pipe, n) for n in names]
        selection = artifacts.resolve(
            pipe,
            by_path,
            cwd=self._cwd,
            project_root=self._root,
            tracked=artifacts.find_tracked(self._root, self._workspace),
        )
        found: list[Target] = []
        for out in selection.outputs:
            fmt = data_diff.format_of(out.path)
            if fmt is None or out.out.kind is specs.OutKind.DIRECTORY:
                if names:
                    raise errors.TargetError(_not_data(out.display(self._root)))
                continue
            found.append(Target(out.identity, out.path, fmt, self._lock_digest(out)))
        for tracked in selection.tracked:
            fmt = data_diff.format_of(tracked.path)
            if fmt is None or tracked.nfiles is not None:
                if names:
                    raise errors.TargetError(_not_data(tracked.display(self._root)))
                continue
            shown = tracked.display(self._root)
            found.append(Target(shown, tracked.path, fmt, self._pvt_digest(tracked)))
        return found

    def _identity_of_path(self, pipe: pipeline.Pipeline, name: str) -> str:
        """`data/table.csv` → `prepare:table` when a stage writes exactly that file."""
        found = artifacts.output_at(pipe, paths.normalize(name, self._cwd))
        if found is not None and found.path == paths.normalize(name, self._cwd):
            return found.identity
        return name

    def _lock_digest(self, out: artifacts.StageOutput) -> Callable[[str], str | None]:
        rel = paths.relative(self._lock_path_of(out.stage), self._root)

        def at(sha: str) -> str | None:
            data = self._repo.read(sha, rel)
            if data is None:
                return None
            try:
                record = json.loads(data)
                return record["outs"][out.record_key]["hash"]
            except (ValueError, KeyError, TypeError):
                return None

        return at

    def _pvt_digest(self, tracked: artifacts.Tracked) -> Callable[[str], str | None]:
        rel = paths.relative(tracked.manifest_path, self._root)

        def at(sha: str) -> str | None:
            data = self._repo.read(sha, rel)
            if data is None:
                return None
            try:
                return json.loads(data)["hash"]
            except (ValueError, KeyError, TypeError):
                return None

        return at

    def _one(
        self, target: Target, rev: str, sha: str, key: tuple[str, ...], samples: int
    ) -> FileDiff:
        rel = paths.relative(target.path, self._root)
        old = target.record(sha)
        now = self._digests.digest(target.path)
        if now is None:
            return FileDiff(target.name, rel, "missing")
        if old is None:
            return FileDiff(target.name, rel, "added")
        if old == now:
            return FileDiff(target.name, rel, "unchanged")
        if not self._cache.has(old):
            raise errors.CacheMissError(
                f"'{target.name}' at {rev}: its cache object {old} is not in the local cache; "
                + "fetch it from a remote (`pivot pull`) or re-run the pipeline at that revision"
            )
        with self._workspace.temporary_directory() as tmp:
            copy = tmp / target.path.name
            self._cache.materialize(
                old, copy, (content_cache.LinkMode.SYMLINK, content_cache.LinkMode.COPY)
            )
            diff = self._differ.diff(copy, target.path, target.fmt, key, samples)
        return FileDiff(target.name, rel, "changed", diff)


def _not_data(shown: str) -> str:
    return (
        f"'{shown}' is not a data file `pivot diff` can compare; it compares "
        + f"{data_diff.SUPPORTED} files (by suffix)"
    )
