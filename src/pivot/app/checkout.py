import dataclasses
import pathlib
from collections.abc import Sequence

from pivot.app import artifacts, digests
from pivot.domain import errors, paths, pipeline
from pivot.ports import content_cache, lock_store, workspace_store
from pivot.ports import hasher as hasher_port
from pivot.ports import progress as progress_port

LinkMode = content_cache.LinkMode
DEFAULT_MODES = content_cache.DEFAULT_LINK_MODES


@dataclasses.dataclass(frozen=True, slots=True)
class CheckoutOptions:
    targets: Sequence[str] = ()
    mode: LinkMode | None = None
    """Preferred link mode; the configured order follows it as fallback."""
    fallback: tuple[LinkMode, ...] = DEFAULT_MODES
    force: bool = False
    only_missing: bool = False
    with_deps: bool = False
    """Also what the targets' stages read (other stages' outputs, tracked data), where the
    cache has it (`pull --with-deps`); what it lacks is reported as skipped."""
    verify: bool = False
    """Re-hash every object before placing it. Otherwise the cache is trusted (objects are
    verified on entry): only objects showing signs of change are re-hashed, unless a link mode
    that shares bytes with the cache may be used (ADR 0021)."""


@dataclasses.dataclass(frozen=True, slots=True)
class Item:
    """One artifact to check out: what it is called, where it goes, what it should hold."""

    label: str
    path: pathlib.Path
    digest: str
    remedy: str
    """How to get its object back when the cache lacks it or holds it corrupt."""


@dataclasses.dataclass(frozen=True, slots=True)
class CheckoutResult:
    restored: tuple[tuple[str, LinkMode], ...] = ()
    unchanged: tuple[str, ...] = ()
    skipped: tuple[str, ...] = ()
    """Artifacts that cannot be checked out, with the reason (never run, not cached)."""
    kept: tuple[str, ...] = ()
    """Paths (relative to the project) edited in the workspace and left alone (`only_missing`)."""


class IncompleteError(errors.CacheCorruptError):
    """Some artifacts could not be placed (their objects are missing or corrupt); the rest were.

    `done` is what was placed or left alone; `unplaced` each (label, reason, missing) left out.
    """

    def __init__(
        self, message: str, done: CheckoutResult, unplaced: tuple[tuple[str, str, bool], ...]
    ) -> None:
        super().__init__(message)
        self.done = done
        self.unplaced = unplaced

    def __reduce__(
        self,
    ) -> tuple[
        type["IncompleteError"], tuple[str, CheckoutResult, tuple[tuple[str, str, bool], ...]]
    ]:
        return IncompleteError, (str(self), self.done, self.unplaced)


def link_order(mode: LinkMode | None, fallback: Sequence[LinkMode]) -> tuple[LinkMode, ...]:
    """`mode` first, then the configured fallback order without it."""
    if mode is None:
        return tuple(dict.fromkeys(fallback)) or DEFAULT_MODES
    return (mode, *(m for m in dict.fromkeys(fallback) if m is not mode))


class CheckoutService:
    """Puts recorded stage outputs and tracked files back into the workspace from the cache."""

    def __init__(
        self,
        *,
        project_root: pathlib.Path,
        locks: lock_store.LockStore,
        digest_service: digests.DigestService,
        cache: content_cache.ContentCache,
        workspace: workspace_store.WorkspaceStore,
    ) -> None:
        self._root = project_root
        self._locks = locks
        self._digests = digest_service
        self._cache = cache
        self._workspace = workspace

    def checkout(
        self,
        pipe: pipeline.Pipeline,
        options: CheckoutOptions,
        *,
        cwd: pathlib.Path,
        progress: progress_port.Progress = progress_port.NULL,
    ) -> CheckoutResult:
        """Restore the selection; `progress` counts bytes re-hashed and files placed."""
        tracked = artifacts.find_tracked(self._root, self._workspace)
        selection = artifacts.resolve(
            pipe, options.targets, cwd=cwd, project_root=self._root, tracked=tracked
        )
        items, skipped = self._items(selection)
        if options.with_deps:
            self._add_deps(pipe, selection, tracked, items, skipped)
        try:
            plan, unchanged, kept, conflicts = self._plan(items, options)
        finally:
            self._digests.flush()
        if conflicts:
            raise errors.PivotError(
                "not checking out: these differ from the cache and would be overwritten — "
                + "; ".join(conflicts)
                + " (nothing was changed; use --force to overwrite them, or --only-missing)"
            )
        modes = link_order(options.mode, options.fallback)
        rehash = options.verify or not content_cache.SHARING_LINK_MODES.isdisjoint(modes)
        files, nbytes = self._workload(plan, rehash)
        progress.add_total(files=files, nbytes=nbytes)
        unusable = self._unusable(plan, progress, rehash)
        restored: list[tuple[str, LinkMode]] = []
        try:
            for item in plan:
                if item.digest in unusable:
                    continue
                used = self._workspace.restore(item.path, item.digest, modes, progress)
                restored.append((item.label, used))
                # Memoised as placed, so the next status or track does not re-read them.
                manifest = (
                    self._cache.read_tree(item.digest)
                    if item.digest.endswith(hasher_port.DIR_SUFFIX)
                    else None
                )
                self._digests.remember_restored(item.path, item.digest, manifest)
        finally:
            self._digests.flush()
        result = CheckoutResult(tuple(restored), tuple(unchanged), tuple(skipped), tuple(kept))
        if unusable:
            unplaced = tuple((i.label, *unusable[i.digest]) for i in plan if i.digest in unusable)
            done = f"restored {len(restored)}; " if restored else ""
            raise IncompleteError(
                f"{done}could not check out {len(unplaced)}: "
                + "; ".join(f"{label}: {reason}" for label, reason, _ in unplaced),
                result,
                unplaced,
            )
        return result

    def _add_deps(
        self,
        pipe: pipeline.Pipeline,
        selection: artifacts.Selection,
        tracked: list[artifacts.Tracked],
        items: list[Item],
        skipped: list[str],
    ) -> None:
        """Add what the selected stages read; one the cache lacks is skipped, not an error (the
        remote did not have it either: running the stage that makes it is the way)."""
        wider = artifacts.with_deps(pipe, selection, tracked)
        outputs = {o.identity for o in selection.outputs}
        paths = {t.path for t in selection.tracked}
        extra = artifacts.Selection(
            tuple(o for o in wider.outputs if o.identity not in outputs),
            tuple(t for t in wider.tracked if t.path not in paths),
        )
        found, not_found = self._items(extra)
        skipped.extend(not_found)
        for item in found:
            if self._cache.has(item.digest) or self._digests.digest(item.path) == item.digest:
                items.append(item)
            else:
                skipped.append(f"{item.label} (a dependency; not in the cache nor on the remote)")

    def _items(self, selection: artifacts.Selection) -> tuple[list[Item], list[str]]:
        items: list[Item] = []
        skipped: list[str] = []
        records = {}
        for out in selection.outputs:
            st = out.stage
            if st.name not in records:
                records[st.name] = self._locks.read(st)
            record = records[st.name]
            label = out.display(self._root)
            recorded = None if record is None else record["outs"].get(out.record_key)
            if recorded is None:
                skipped.append(f"{label} (never run: `pivot run {st.name}`)")
                continue
            path = out.path
            if not recorded["cached"]:
                if self._digests.digest(path) != recorded["hash"]:
                    skipped.append(f"{label} (not cached: re-run `pivot run {st.name}`)")
                continue
            remedy = f"`pivot pull` it, or re-run its stage: `pivot run --force {st.name}`"
            items.append(Item(label, path, recorded["hash"], remedy))
        # Tracked data has no stage that could make it again.
        remedy = "`pivot pull` it, or `pivot track` it again where you have the file"
        items.extend(
            Item(t.display(self._root), t.path, t.digest, remedy) for t in selection.tracked
        )
        return items, skipped

    def _plan(
        self, items: list[Item], options: CheckoutOptions
    ) -> tuple[list[Item], list[str], list[str], list[str]]:
        plan: list[Item] = []
        unchanged: list[str] = []
        kept: list[str] = []
        conflicts: list[str] = []
        for item in items:
            now = self._digests.digest(item.path)
            if now == item.digest:
                unchanged.append(item.label)
            elif now is None or options.force or self._only_lost_files(item):
                plan.append(item)
            elif options.only_missing:
                kept.append(paths.relative(item.path, self._root))
            else:
                conflicts.append(f"{item.label} (modified in the workspace)")
        return plan, unchanged, kept, conflicts

    def _only_lost_files(self, item: Item) -> bool:
        """A directory that lost files but holds nothing new or edited: restoring loses nothing."""
        if not item.digest.endswith(hasher_port.DIR_SUFFIX) or not self._workspace.is_dir(
            item.path
        ):
            return False
        try:
            recorded = self._cache.read_tree(item.digest)
        except (errors.CacheMissError, errors.CacheCorruptError):
            return False
        _, current = self._digests.tree(item.path)
        return all(recorded.get(rel) == digest for rel, digest in current.items())

    def _workload(self, plan: list[Item], rehash: bool) -> tuple[int, int]:
        """Files to place and bytes to re-hash (objects that cannot be read count nothing)."""
        files = nbytes = 0
        for digest in dict.fromkeys(i.digest for i in plan):
            try:
                if not digest.endswith(hasher_port.DIR_SUFFIX):
                    files += 1
                    nbytes += self._cache.size(digest) if rehash else 0
                    continue
                manifest = self._cache.read_tree(digest)
                files += len(manifest)
                if rehash:
                    nbytes += sum(self._cache.size(m) for m in set(manifest.values()))
            except (errors.CacheMissError, errors.CacheCorruptError):
                continue
        return files, nbytes

    def _unusable(
        self, plan: list[Item], progress: progress_port.Progress, rehash: bool
    ) -> dict[str, tuple[str, bool]]:
        """Objects that are missing or fail the check (or the re-hash): never placed, with the
        reason and whether the object is missing."""
        bad: dict[str, tuple[str, bool]] = {}
        for digest, item in {i.digest: i for i in plan}.items():
            try:
                ok = self._cache.verify(digest, progress, rehash=rehash)
            except errors.CacheMissError:
                bad[digest] = (f"cache object {digest} is missing ({item.remedy})", True)
                continue
            if not ok:
                bad[digest] = (
                    f"cache object {digest} is corrupt; run `pivot cache verify` to quarantine "
                    + f"it, then {item.remedy}",
                    False,
                )
        return bad
