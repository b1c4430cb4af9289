import dataclasses
import pathlib
from collections.abc import Callable

from pivot.app import artifacts, transfer
from pivot.domain import errors, paths, pipeline
from pivot.ports import content_cache, remote, vcs, workspace_store

DEFAULT_MODES = (content_cache.LinkMode.COPY,)


@dataclasses.dataclass(frozen=True, slots=True)
class Got:
    target: str
    """How the target displays (`train:model → model.txt`, or the tracked path)."""
    dest: pathlib.Path
    source: str
    """Where the content came from: `git` (a committed file) or `cache`."""
    digest: str | None


class GetService:
    """Materialise a stage output or a tracked file as it was at a revision."""

    def __init__(
        self,
        project_root: pathlib.Path,
        cwd: pathlib.Path,
        pipe: pipeline.Pipeline,
        *,
        open_snapshot: Callable[[str | None], vcs.Snapshot],
        cache: content_cache.ContentCache,
        workspace: workspace_store.WorkspaceStore,
        open_remote: Callable[[], remote.Remote],
    ) -> None:
        self._root = project_root
        self._cwd = cwd
        self._pipe = pipe
        self._open = open_snapshot
        self._cache = cache
        self._workspace = workspace
        self._open_remote = open_remote

    def get(self, target: str, rev: str, dest: pathlib.Path | None, *, force: bool) -> Got:
        """Write TARGET as of REV to `dest` (default: its file name in the working directory)."""
        snapshot = self._open(rev)
        output = self._output(target)
        if output is not None:
            relative = paths.relative(output.path, self._root)
            shown = output.display(self._root)
            record = snapshot.lock_record(output.stage)
            found = None if record is None else record["outs"].get(output.record_key)
            digest = None if found is None else found["hash"]
            if record is None:
                why = f"stage '{output.stage.name}' had not run at {rev} (no lock record there)"
            else:
                why = f"the lock record at {rev} has no output '{output.identity}'"
        else:
            relative = paths.relative(paths.normalize(target, self._cwd), self._root)
            shown = relative
            manifest = snapshot.read(relative + artifacts.PVT_SUFFIX)
            digest = None
            if manifest is not None:
                where = self._root / f"{relative}{artifacts.PVT_SUFFIX}"
                digest = artifacts.parse_pvt(where, manifest).digest
            why = ""
        cached = digest is not None and self._cache.has(digest)
        committed = None if cached else snapshot.read(relative)
        source = "cache"
        missing = ""
        if not cached and committed is None and digest is not None:
            missing = self._fetch(digest)
            cached, source = not missing, "remote"
        if cached and digest is not None:
            out = self._destination(dest, relative, force)
            self._workspace.restore(out, digest, DEFAULT_MODES)
            return Got(shown, out, source, digest)
        if committed is not None:
            out = self._destination(dest, relative, force)
            if self._workspace.is_dir(out):  # --force: a file replaces a directory
                self._workspace.remove(out)
            self._workspace.write_atomic(out, committed)
            return Got(shown, out, "git", digest)
        if digest is not None:
            raise errors.CacheMissError(
                f"'{shown}' at {rev} (object {digest[:12]}) is not in the local cache, {missing}; "
                + "`pivot push` it from a machine that has it, or re-run the stage at that "
                + "revision"
            )
        if output is None:
            raise errors.TargetError(
                f"'{target}' at {rev}: not a stage output, not tracked (no "
                + f"{relative}{artifacts.PVT_SUFFIX}) and not a committed file; targets are "
                + "`stage`, `stage:key`, an output path or a `pivot track`ed path"
            )
        raise errors.TargetError(f"'{shown}' cannot be fetched at {rev}: {why}")

    def _fetch(self, digest: str) -> str:
        """Bring `digest` from the default remote into the cache; '' on success, else why not."""
        try:
            source = self._open_remote()
        except errors.RemoteError as exc:
            return f"and it cannot be fetched ({exc})"
        try:
            transfer.receive_objects(self._cache, source, [digest])
        except errors.RemoteMissError:
            return f"nor on the remote {source.url}"
        return ""

    def _output(self, target: str) -> artifacts.StageOutput | None:
        try:
            chosen = artifacts.resolve(
                self._pipe, [target], cwd=self._cwd, project_root=self._root, tracked=()
            ).outputs
        except errors.TargetError:
            found = artifacts.output_at(self._pipe, paths.normalize(target, self._cwd))
            return (
                found
                if found is not None and found.path == paths.normalize(target, self._cwd)
                else None
            )
        if len(chosen) > 1:
            names = ", ".join(o.identity for o in chosen)
            raise errors.TargetError(f"stage '{target}' has several outputs; name one: {names}")
        return chosen[0] if chosen else None

    def _destination(self, dest: pathlib.Path | None, relative: str, force: bool) -> pathlib.Path:
        out = paths.normalize(dest or pathlib.PurePosixPath(relative).name, self._cwd)
        if self._workspace.exists(out) and not force:
            raise errors.PivotError(
                f"'{paths.relative(out, self._cwd)}' already exists: choose another path with "
                + "-o, or pass --force to replace it"
            )
        return out
