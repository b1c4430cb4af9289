import dataclasses
import itertools
import json
import pathlib
from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING

from pivot.app import artifacts, ignore
from pivot.domain import errors, layout, pipeline
from pivot.ports import content_cache, lock_store, vcs, workspace_store
from pivot.ports import hasher as hasher_port
from pivot.ports import progress as progress_port

if TYPE_CHECKING:
    from pivot.app import transfer

_LOCKS_DIR = f"/{layout.STATE_DIR}/{layout.STAGE_LOCKS}/"
"""A lock record's path at a revision holds this (after a leading `/`)."""


@dataclasses.dataclass(frozen=True, slots=True)
class GcReport:
    removed: tuple[str, ...]
    bytes_freed: int
    kept: int
    dry_run: bool
    git_commits: int | None = None
    """Commits whose lock and .pvt files were also kept (--all-commits)."""
    declined: bool = False
    """The caller's `confirm` said no: nothing was removed."""


class GcService:
    """Deletes cache objects that no lock record or `.pvt` manifest refers to."""

    def __init__(
        self,
        *,
        project_root: pathlib.Path,
        locks: lock_store.LockStore,
        cache: content_cache.ContentCache,
        workspace: workspace_store.WorkspaceStore,
        repo: vcs.Vcs,
    ) -> None:
        self._repo = repo
        self._root = project_root
        self._locks = locks
        self._cache = cache
        self._workspace = workspace

    def referenced(self, pipe: pipeline.Pipeline) -> set[str]:
        """Digests named by the pipeline's lock records, every lock file and `.pvt` manifest."""
        found: set[str] = set()
        for st in pipe.stages.values():
            record = self._locks.read(st)
            if record is not None:
                found.update(out["hash"] for out in record["outs"].values())
        for data in _workspace_records(self._root, self._workspace):
            found.update(digests_in(data))
        return found

    def gc(
        self,
        pipe: pipeline.Pipeline,
        *,
        dry_run: bool = False,
        all_commits: bool = False,
        confirm: Callable[["GcReport"], bool] = lambda _: True,
        progress: progress_port.Progress = progress_port.NULL,
    ) -> GcReport:
        """Remove unreferenced objects; `confirm` sees the plan first and may decline it.

        `progress` counts the objects removed (after `confirm`).
        """
        keep = self.referenced(pipe)
        commits: int | None = None
        if all_commits:
            commits, from_git = vcs_referenced(self._repo)
            keep |= from_git
        keep |= self._members(keep)
        stored = list(self._cache.iter_digests())
        doomed = [d for d in stored if d not in keep]
        freed = sum(self._cache.size(d) for d in doomed)
        plan = GcReport(tuple(doomed), freed, len(stored) - len(doomed), True, commits)
        if dry_run or not doomed:
            return dataclasses.replace(plan, dry_run=dry_run)
        if not confirm(plan):
            return dataclasses.replace(plan, declined=True)
        progress.add_total(files=len(doomed))
        for digest in doomed:
            self._cache.remove(digest)
            progress.advance(files=1)
        return dataclasses.replace(plan, dry_run=False)

    def gc_remote(
        self,
        pipe: pipeline.Pipeline,
        remote: "transfer.TransferService",
        *,
        dry_run: bool = False,
        all_commits: bool = False,
        confirm: Callable[["GcReport"], bool] = lambda _: True,
        progress: progress_port.Progress = progress_port.NULL,
    ) -> GcReport:
        """The same, on a remote: its objects no lock record or `.pvt` here refers to.

        A referenced directory's manifest is read from the cache or the remote, so its files are
        kept; run-cache entries (`runs/…`) are left alone. `bytes_freed` is not known (0).
        """
        keep = self.referenced(pipe)
        commits: int | None = None
        if all_commits:
            commits, from_git = vcs_referenced(self._repo)
            keep |= from_git
        for digest in [d for d in keep if d.endswith(hasher_port.DIR_SUFFIX)]:
            keep.update((remote.members(digest) or {}).values())
        stored = remote.stored()
        doomed = [d for d in stored if d not in keep]
        plan = GcReport(tuple(doomed), 0, len(stored) - len(doomed), True, commits)
        if dry_run or not doomed:
            return dataclasses.replace(plan, dry_run=dry_run)
        if not confirm(plan):
            return dataclasses.replace(plan, declined=True)
        progress.add_total(files=len(doomed))
        for start in range(0, len(doomed), 1000):
            batch = doomed[start : start + 1000]
            remote.delete(batch)
            progress.advance(files=len(batch))
        return dataclasses.replace(plan, dry_run=False)

    def _members(self, keep: Iterable[str]) -> set[str]:
        members: set[str] = set()
        for digest in keep:
            if digest.endswith(hasher_port.DIR_SUFFIX) and self._cache.has(digest):
                try:
                    members.update(self._cache.read_tree(digest).values())
                except errors.CacheCorruptError:
                    continue
        return members


def digests_in(data: bytes) -> set[str]:
    """Digests in a lock file (`outs.*.hash`) or a `.pvt` manifest (`hash`); junk yields none."""
    try:
        raw = json.loads(data)
    except ValueError:
        return set()
    if not isinstance(raw, dict):
        return set()
    body: dict[str, object] = raw  # pyright: ignore[reportUnknownVariableType]
    found: set[str] = set()
    if isinstance(body.get("hash"), str):
        found.add(str(body["hash"]))
    outs = body.get("outs")
    if isinstance(outs, dict):
        for out in outs.values():  # pyright: ignore[reportUnknownVariableType]
            if isinstance(out, dict) and isinstance(out.get("hash"), str):  # pyright: ignore[reportUnknownMemberType]
                found.add(str(out["hash"]))  # pyright: ignore[reportUnknownArgumentType]
    return found


def _workspace_records(
    root: pathlib.Path, workspace: workspace_store.WorkspaceStore
) -> Iterator[bytes]:
    # Every pipeline's lock files count, not only the loaded pipeline's: gc must never delete
    # what another pipeline of the project recorded.
    for here, _dirnames, filenames in ignore.load(root, workspace).walk():
        stages_dir = layout.stage_locks_dir(here)
        for _, locks, lock_names in itertools.islice(workspace.walk(stages_dir), 1):
            locks.clear()
            for name in sorted(lock_names):
                if name.endswith(layout.LOCK_SUFFIX):
                    yield workspace.read_bytes(stages_dir / name)
        for name in filenames:
            if name.endswith(artifacts.PVT_SUFFIX):
                yield workspace.read_bytes(here / name)


def vcs_referenced(repo: vcs.Vcs) -> tuple[int, set[str]]:
    """(commits scanned, digests) from lock and `.pvt` files in every commit on every ref."""
    try:
        commits = repo.reachable()
    except errors.NotARepositoryError as exc:
        raise errors.PivotError(
            f"--all-commits: {exc}; nothing was removed (run `pivot gc` "
            + "without --all-commits to keep only what the workspace references)"
        ) from None
    found: set[str] = set()
    for commit in commits:
        names = [
            name
            for name in repo.list_files(commit)
            if name.endswith(artifacts.PVT_SUFFIX)
            or (name.endswith(layout.LOCK_SUFFIX) and _LOCKS_DIR in f"/{name}")
        ]
        for data in repo.read_many(commit, names).values():
            if data is not None:
                found |= digests_in(data)
    return len(commits), found
