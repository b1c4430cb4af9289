import dataclasses
import enum
import itertools
import pathlib
from collections.abc import Sequence

from pivot.app import artifacts, digests
from pivot.domain import errors, paths, pipeline
from pivot.ports import content_cache, workspace_store
from pivot.ports import progress as progress_port


class TrackAction(enum.StrEnum):
    TRACKED = "tracked"
    UPDATED = "updated"
    UNCHANGED = "unchanged"


class TrackedState(enum.StrEnum):
    CLEAN = "clean"
    MODIFIED = "modified"
    MISSING = "missing"


@dataclasses.dataclass(frozen=True, slots=True)
class TrackResult:
    tracked: artifacts.Tracked
    action: TrackAction


@dataclasses.dataclass(frozen=True, slots=True)
class TrackedStatus:
    tracked: artifacts.Tracked
    state: TrackedState
    in_cache: bool


class TrackService:
    """Versions external data: `PATH.pvt` manifests beside it, content in the cache."""

    def __init__(
        self,
        *,
        project_root: pathlib.Path,
        digest_service: digests.DigestService,
        cache: content_cache.ContentCache,
        workspace: workspace_store.WorkspaceStore,
    ) -> None:
        self._root = project_root
        self._digests = digest_service
        self._cache = cache
        self._workspace = workspace

    def track(
        self,
        pipe: pipeline.Pipeline | None,
        targets: Sequence[str],
        *,
        cwd: pathlib.Path,
        link_modes: tuple[content_cache.LinkMode, ...] = (content_cache.LinkMode.COPY,),
        progress: progress_port.Progress = progress_port.NULL,
    ) -> list[TrackResult]:
        """Cache each path's content and write its `.pvt`; all paths are checked first.

        Then replace the workspace copy with a link to the cache, by the first of `link_modes`
        before `copy` that works (the workspace file already is a copy). `progress` counts the
        files and bytes hashed.
        """
        links = tuple(
            itertools.takewhile(lambda m: m is not content_cache.LinkMode.COPY, link_modes)
        )
        if not targets:
            raise errors.TargetError("nothing to track: name one or more files or directories")
        existing = artifacts.find_tracked(self._root, self._workspace)
        wanted = [self._check(pipe, target, cwd, existing) for target in targets]
        try:
            with self._digests.reporting(progress, storing=True):
                return [
                    self._track_one(path, existing, links, progress)
                    for path in dict.fromkeys(wanted)
                ]
        finally:
            self._digests.flush()

    def status(self) -> list[TrackedStatus]:
        """Every tracked path: clean, modified since tracked, or missing from the workspace."""
        try:
            found: list[TrackedStatus] = []
            for tracked in artifacts.find_tracked(self._root, self._workspace):
                now = self._digests.digest(tracked.path)
                state = (
                    TrackedState.MISSING
                    if now is None
                    else TrackedState.CLEAN
                    if now == tracked.digest
                    else TrackedState.MODIFIED
                )
                found.append(TrackedStatus(tracked, state, self._cache.has(tracked.digest)))
            return found
        finally:
            self._digests.flush()

    def _check(
        self,
        pipe: pipeline.Pipeline | None,
        target: str,
        cwd: pathlib.Path,
        existing: list[artifacts.Tracked],
    ) -> pathlib.Path:
        path = paths.normalize(target, cwd)
        if path.name.endswith(artifacts.PVT_SUFFIX):
            path = path.with_name(path.name[: -len(artifacts.PVT_SUFFIX)])
        shown = paths.relative(path, self._root)
        if not paths.is_within(path, self._root) or path == self._root:
            raise errors.TargetError(
                f"cannot track '{target}': it lies outside the project root '{self._root}'"
            )
        owned = paths.reserved_part(pathlib.PurePath(shown))
        if owned is not None:
            raise errors.TargetError(
                f"cannot track '{shown}': '{owned}' is "
                + ("git's repository" if owned == ".git" else "Pivot's own directory")
                + "; track data files outside it"
            )
        if any(part.startswith(".") for part in pathlib.PurePath(shown).parts[:-1]) or (
            shown.split("/")[0] == ".pivot"
        ):
            raise errors.TargetError(f"cannot track '{shown}': it is inside a hidden directory")
        if not self._workspace.exists(path):
            raise errors.TargetError(f"cannot track '{shown}': no such file or directory")
        if pipe is not None:
            found = artifacts.output_at(pipe, path)
            if found is not None:
                raise errors.TargetError(
                    f"cannot track '{shown}': it is an output of stage '{found.stage.name}' "
                    + f"('{found.identity}'); stage outputs are versioned by their lock "
                    + "records — use the identity with `pivot checkout`"
                )
            inner = artifacts.outputs_under(pipe, path)
            if inner:
                raise errors.TargetError(
                    f"cannot track '{shown}': it contains stage outputs ("
                    + ", ".join(o.display(self._root) for o in inner[:5])
                    + "); track the raw data beside them instead"
                )
        for other in existing:
            if artifacts.path_inside(path, other.path):
                raise errors.TargetError(
                    f"cannot track '{shown}': it is inside the tracked directory "
                    + f"'{other.display(self._root)}'; re-track that directory instead"
                )
            if artifacts.path_inside(other.path, path):
                raise errors.TargetError(
                    f"cannot track '{shown}': it contains the tracked path "
                    + f"'{other.display(self._root)}'; untrack it first (delete its .pvt file)"
                )
        return path

    def _track_one(
        self,
        path: pathlib.Path,
        existing: list[artifacts.Tracked],
        links: tuple[content_cache.LinkMode, ...],
        progress: progress_port.Progress,
    ) -> TrackResult:
        manifest: dict[str, str] | None = None
        # The bar covers storing too (announced with the hashing: `reporting(storing=True)`).
        if self._workspace.is_dir(path):
            digest, manifest, size = self._digests.tree_with_size(path)
            root = str(path)
            self._cache.put_files(
                {f"{root}/{rel}": member for rel, member in manifest.items()}, progress
            )
            self._cache.put_tree(manifest, digest)
            tracked = artifacts.Tracked(path, digest, size, len(manifest))
        else:
            digest = self._digests.digest(path)
            assert digest is not None
            size = self._workspace.stat(path).st_size
            self._cache.put_file(path, digest, progress=progress)
            tracked = artifacts.Tracked(path, digest, size)
        self._workspace.ignore(path)  # the data stays out of git; its .pvt is committed
        before = next((t for t in existing if t.path == path), None)
        if before == tracked:
            # Left as the last track left it (linked then, if a link mode worked) instead of
            # re-creating every file of it: a no-op re-track touches no workspace file.
            return TrackResult(tracked, TrackAction.UNCHANGED)
        self._link(path, digest, manifest, links)
        self._workspace.write_atomic(tracked.manifest_path, tracked.encode())
        action = TrackAction.TRACKED if before is None else TrackAction.UPDATED
        return TrackResult(tracked, action)

    def _link(
        self,
        path: pathlib.Path,
        digest: str,
        manifest: dict[str, str] | None,
        links: tuple[content_cache.LinkMode, ...],
    ) -> None:
        """Replace the workspace copy with a link to the cache (one copy of the data, not two)."""
        if not links:
            return
        try:
            self._workspace.restore(path, digest, links)
        except OSError:
            # No configured link works here (another device, no reflink support): the
            # workspace keeps its own copy, exactly as with `copy` — nothing is lost.
            return
        self._digests.remember_restored(path, digest, manifest)
