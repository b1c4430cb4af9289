import dataclasses
import difflib
import json
import pathlib
from collections.abc import Iterable, Sequence

from pivot.app import ignore
from pivot.domain import errors, identity, paths, pipeline
from pivot.domain import stage as stage_mod
from pivot.ports import hasher, workspace_store

PVT_SUFFIX = ".pvt"
MAX_PVT_BYTES = 1 << 20
"""A `.pvt` manifest is a few hundred bytes; anything this large is not one."""
PVT_SCHEMA_VERSION = 1


@dataclasses.dataclass(frozen=True, slots=True)
class StageOutput:
    """One declared output of a stage, named by its artifact identity."""

    stage: stage_mod.Stage
    out: stage_mod.OutBinding

    @property
    def identity(self) -> str:
        return str(self.stage.out_identity(self.out))

    @property
    def record_key(self) -> str:
        return self.stage.record_key(self.out)

    @property
    def path(self) -> pathlib.Path:
        return self.out.path

    def display(self, root: pathlib.Path) -> str:
        return f"{self.identity} → {paths.relative(self.path, root)}"

    @property
    def display_name(self) -> str:
        """`identity → path relative to the stage's pipeline root`."""
        return f"{self.identity} → {paths.relative(self.path, self.stage.root)}"


@dataclasses.dataclass(frozen=True, slots=True)
class Tracked:
    """External data recorded by a `PATH.pvt` manifest next to it."""

    path: pathlib.Path
    """Absolute path of the tracked file or directory."""
    digest: str
    size: int
    nfiles: int | None = None
    """Number of files when the tracked path is a directory."""

    @property
    def manifest_path(self) -> pathlib.Path:
        return pvt_path(self.path)

    def display(self, root: pathlib.Path) -> str:
        return paths.relative(self.path, root)

    def encode(self) -> bytes:
        body: dict[str, object] = {
            "schema_version": PVT_SCHEMA_VERSION,
            "path": self.path.name,
            "hash": self.digest,
            "size": self.size,
        }
        if self.nfiles is not None:
            body["nfiles"] = self.nfiles
        return (json.dumps(body, indent=2, sort_keys=True) + "\n").encode()


@dataclasses.dataclass(frozen=True, slots=True)
class Selection:
    outputs: tuple[StageOutput, ...] = ()
    tracked: tuple[Tracked, ...] = ()


def pvt_path(path: pathlib.Path) -> pathlib.Path:
    return path.with_name(path.name + PVT_SUFFIX)


def read_pvt(manifest: pathlib.Path, workspace: workspace_store.WorkspaceStore) -> Tracked:
    """Parse one `.pvt` manifest; a malformed one is an error naming the file and the fix."""
    return parse_pvt(manifest, workspace.read_bytes(manifest))


def parse_pvt(manifest: pathlib.Path, data: bytes) -> Tracked:
    """A `.pvt` manifest's content (read from disk or from a git revision) as `Tracked`."""
    if len(data) > MAX_PVT_BYTES:
        raise _bad_pvt(manifest, f"it is too large ({len(data)} bytes) to be a manifest")
    try:
        raw = json.loads(data)
    except ValueError as exc:
        raise _bad_pvt(manifest, f"it is not valid JSON ({exc})") from None
    except RecursionError:
        raise _bad_pvt(manifest, "it is nested too deeply to be a manifest") from None
    if not isinstance(raw, dict):
        raise _bad_pvt(manifest, "it is not a JSON object")
    body: dict[str, object] = raw  # pyright: ignore[reportUnknownVariableType]
    name, digest, size = body.get("path"), body.get("hash"), body.get("size")
    nfiles = body.get("nfiles")
    if not isinstance(name, str) or not isinstance(digest, str) or not isinstance(size, int):
        raise _bad_pvt(manifest, "it needs 'path' and 'hash' strings and an integer 'size'")
    if name != manifest.name[: -len(PVT_SUFFIX)] or "/" in name:
        raise _bad_pvt(manifest, f"its 'path' {name!r} does not name the file beside it")
    if not hasher.DIGEST.fullmatch(digest):
        raise _bad_pvt(manifest, f"its 'hash' {digest!r} is not a content digest")
    if nfiles is not None and not isinstance(nfiles, int):
        raise _bad_pvt(manifest, "'nfiles' must be an integer")
    return Tracked(manifest.with_name(name), digest, size, nfiles)


def _bad_pvt(manifest: pathlib.Path, why: str) -> errors.TargetError:
    data = manifest.name[: -len(PVT_SUFFIX)]
    fix = "delete it" if data in ("", ".", "..") else f"re-create it with `pivot track {data}`"
    return errors.TargetError(f"tracking manifest {manifest} cannot be read: {why}; {fix}")


def find_tracked(root: pathlib.Path, workspace: workspace_store.WorkspaceStore) -> list[Tracked]:
    """Every `.pvt`-tracked path under `root` (ignored directories skipped), sorted by path."""
    found: list[Tracked] = []
    for here, dirnames, filenames in ignore.load(root, workspace).walk():
        manifests = [n for n in filenames if n.endswith(PVT_SUFFIX) and len(n) > len(PVT_SUFFIX)]
        inside = {n[: -len(PVT_SUFFIX)] for n in manifests}
        # A tracked directory holds data, not further manifests: do not descend into it.
        dirnames[:] = [d for d in dirnames if d not in inside]
        found.extend(read_pvt(here / n, workspace) for n in manifests)
    return sorted(found, key=lambda t: t.path)


def stage_outputs(pipe: pipeline.Pipeline) -> list[StageOutput]:
    return [StageOutput(st, o) for st in pipe.stages.values() for o in st.outs]


def output_at(pipe: pipeline.Pipeline, path: pathlib.Path) -> StageOutput | None:
    """The stage output at `path`, or the directory output that contains it."""
    for candidate in stage_outputs(pipe):
        if paths.is_within(path, candidate.path):
            return candidate
    return None


def outputs_under(pipe: pipeline.Pipeline, directory: pathlib.Path) -> list[StageOutput]:
    """Stage outputs strictly inside `directory`."""
    return [o for o in stage_outputs(pipe) if o.path != directory and directory in o.path.parents]


def not_a_path_target(found: StageOutput, path: pathlib.Path, root: pathlib.Path) -> str:
    shown = paths.relative(path, root)
    return f"'{shown}' is an output of stage '{found.stage.name}'; use '{found.identity}'"


def resolve(
    pipe: pipeline.Pipeline,
    targets: Sequence[str],
    *,
    cwd: pathlib.Path,
    project_root: pathlib.Path,
    tracked: Iterable[Tracked],
) -> Selection:
    """Stage outputs named by identity (`train`, `train:model`) and tracked files by path.

    No targets selects everything.
    """
    everything = stage_outputs(pipe)
    known_tracked = {t.path: t for t in tracked}
    if not targets:
        return Selection(tuple(everything), tuple(known_tracked.values()))
    outputs: dict[str, StageOutput] = {}
    chosen: dict[pathlib.Path, Tracked] = {}
    for target in targets:
        by_identity = _by_identity(pipe, target)
        if by_identity is not None:
            outputs.update((o.identity, o) for o in by_identity)
            continue
        path = paths.normalize(target, cwd)
        if path.name.endswith(PVT_SUFFIX) and path.name != PVT_SUFFIX:
            path = path.with_name(path.name[: -len(PVT_SUFFIX)])
        if path in known_tracked:
            chosen[path] = known_tracked[path]
            continue
        found = output_at(pipe, path)
        if found is not None:
            raise errors.TargetError(not_a_path_target(found, path, project_root))
        container = next((t for t in known_tracked.values() if path_inside(path, t.path)), None)
        if container is not None:
            raise errors.TargetError(
                f"'{target}' lies inside the tracked directory "
                + f"'{container.display(project_root)}'; use '{container.display(project_root)}'"
            )
        names = [*pipe.stages, *(o.identity for o in everything if o.out.key is not None)]
        raise errors.TargetError(_unknown(target, names, known_tracked, project_root, cwd))
    return Selection(tuple(outputs.values()), tuple(chosen.values()))


def with_deps(
    pipe: pipeline.Pipeline, selection: Selection, tracked: Iterable[Tracked]
) -> Selection:
    """`selection` plus what its stages read: the outputs of other stages and the tracked data
    at (or holding, or inside) their dependency paths. Files kept in git come with the commit."""
    outputs = {o.identity: o for o in selection.outputs}
    chosen = {t.path: t for t in selection.tracked}
    known = list(tracked)
    stages = {o.stage.name: o.stage for o in selection.outputs}
    for st in stages.values():
        for path in st.dep_paths():
            found = output_at(pipe, path)
            upstream = [found] if found is not None else outputs_under(pipe, path)
            for out in upstream:
                if out.stage.name != st.name:
                    outputs.setdefault(out.identity, out)
            for item in known:
                if (
                    item.path == path
                    or path_inside(path, item.path)
                    or path_inside(item.path, path)
                ):
                    chosen.setdefault(item.path, item)
    return Selection(tuple(outputs.values()), tuple(chosen.values()))


def path_inside(path: pathlib.Path, directory: pathlib.Path) -> bool:
    return directory in path.parents


def _by_identity(pipe: pipeline.Pipeline, target: str) -> list[StageOutput] | None:
    if target in pipe.stages:
        return [StageOutput(pipe.stages[target], o) for o in pipe.stages[target].outs]
    try:
        ident = identity.ArtifactIdentity.parse(target)
    except errors.TargetError:
        return None
    if ident.key is None or ident.producer not in pipe.stages:
        return None
    st = pipe.stages[ident.producer]
    for out in st.outs:
        if out.key == ident.key:
            return [StageOutput(st, out)]
    keys = [str(st.out_identity(o)) for o in st.outs]
    close = difflib.get_close_matches(target, keys, n=1)
    hint = f"did you mean '{close[0]}'?" if close else f"its outputs: {', '.join(keys) or 'none'}"
    raise errors.TargetError(f"stage '{st.name}' has no output '{ident.key}'; {hint}")


def _unknown(
    target: str,
    identities: list[str],
    tracked: dict[pathlib.Path, Tracked],
    root: pathlib.Path,
    cwd: pathlib.Path,
) -> str:
    names = [*identities, *(paths.relative(p, cwd) for p in tracked)]
    close = difflib.get_close_matches(target, names, n=3)
    if close:
        hint = "did you mean " + " or ".join(f"'{c}'" for c in close) + "?"
    else:
        hint = "targets are stage outputs (`stage` or `stage:key`) or `.pvt`-tracked paths"
        if tracked:
            hint += "; tracked: " + ", ".join(t.display(root) for t in list(tracked.values())[:10])
    return f"unknown target '{target}': not a stage output or tracked file; {hint}"
