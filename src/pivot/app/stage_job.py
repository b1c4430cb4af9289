import contextlib
import dataclasses
import json
import os
import pathlib
import posixpath
import stat
import time
import traceback
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from pivot.domain import errors, history, loader, specs
from pivot.domain import stage as stage_mod
from pivot.ports import content_cache, hasher, state_store, workspace_store

if TYPE_CHECKING:
    from pivot.domain import params


@dataclasses.dataclass(frozen=True, slots=True)
class OutJob:
    identity: str
    key: str | None
    path: pathlib.Path
    loader: loader.Loader[Any]
    kind: specs.OutKind
    cached: bool
    store: bool = True
    """Put the output in the content cache (cached outputs; every output for the run cache)."""
    previous: str | None = None
    """IncrementalOut: digest of the version to restore, writable, before the stage runs."""


@dataclasses.dataclass(frozen=True, slots=True)
class StageJob:
    """Everything a worker needs to run one stage; travels to the worker by pickle."""

    stage: str
    func: Callable[..., Any]
    root: pathlib.Path
    deps: tuple[stage_mod.DepBinding, ...]
    outs: tuple[OutJob, ...]
    params: "params.StageParams | None"
    params_arg: str | None
    cache: content_cache.ContentCache
    hasher: hasher.Hasher
    workspace: workspace_store.WorkspaceStore
    """Every file operation of the job (clearing, writing, hashing outputs) goes through it."""
    incremental: tuple[tuple[str, str], ...] = ()
    """(argument, output identity) pairs: the argument receives the output's previous value."""


@dataclasses.dataclass(frozen=True, slots=True)
class OutResult:
    identity: str
    digest: str
    stamps: tuple[tuple[str, state_store.FileStamp, str], ...]
    """(path, stamp, digest) of every file hashed, so the parent memoises without re-reading."""


@dataclasses.dataclass(frozen=True, slots=True)
class StageOutcome:
    stage: str
    ok: bool
    outputs: tuple[OutResult, ...] = ()
    error: str = ""
    duration: float = 0.0
    metrics: "dict[str, dict[str, history.Scalar]] | None" = None
    """Metric output path (relative to the pipeline root) → its flattened values."""


def job_for(
    st: stage_mod.Stage,
    cache: content_cache.ContentCache,
    hasher_: hasher.Hasher,
    workspace: workspace_store.WorkspaceStore,
    *,
    store_outputs: bool = True,
    store_uncached: bool = False,
    previous: Mapping[str, str] | None = None,
) -> StageJob:
    """The job for `st`; `previous` maps IncrementalOut identities to their last digest."""
    # Imported here: every worker imports this module to run jobs but never builds one, and the
    # run cache would bring change detection into each worker's start-up.
    from pivot.app import run_cache

    previous = previous or {}
    outs = tuple(
        OutJob(
            identity=st.record_key(o),
            key=o.key,
            path=o.path,
            loader=o.loader,
            kind=o.kind,
            cached=o.cached,
            store=store_outputs and (o.cached or (store_uncached and run_cache.keeps_copy(o))),
            previous=previous.get(st.record_key(o)),
        )
        for o in st.outs
    )
    return StageJob(
        stage=st.name,
        func=st.func,
        root=st.root,
        deps=st.deps,
        outs=outs,
        params=st.params,
        params_arg=st.params_arg,
        cache=cache,
        hasher=hasher_,
        workspace=workspace,
        incremental=incremental_pairs(st),
    )


def incremental_pairs(st: stage_mod.Stage) -> tuple[tuple[str, str], ...]:
    """(argument, output identity) of each IncrementalOut argument of `st`."""
    pairs: list[tuple[str, str]] = []
    for arg, spec in st.incremental_args.items():
        out = next(
            o for o in st.outs if o.kind is specs.OutKind.INCREMENTAL and o.spec.path == spec.path
        )
        pairs.append((arg, st.record_key(out)))
    return tuple(pairs)


def run(job: StageJob) -> StageOutcome:
    """Run a stage in this process: load deps, call, save and hash (and cache) outputs."""
    started = time.perf_counter()
    previous_cwd = os.getcwd()
    try:
        os.chdir(job.root)
        for out in job.outs:
            job.workspace.make_dirs(out.path.parent)
            if out.kind is specs.OutKind.INCREMENTAL:
                _prepare_incremental(job, out)
            else:
                job.workspace.remove(out.path)
        kwargs: dict[str, Any] = {dep.name: _load(job.stage, dep) for dep in job.deps}
        by_identity = {out.identity: out for out in job.outs}
        for arg, ident in job.incremental:
            kwargs[arg] = _previous_value(job, by_identity[ident])
        if job.params_arg is not None:
            kwargs[job.params_arg] = job.params
        result = job.func(**kwargs)
        values = _save(job, result)
        results = tuple(_recorded(job, out) for out in job.outs)
        metrics = _metric_values(job, values)
    except KeyboardInterrupt:
        raise
    except BaseException as exc:  # a stage calling sys.exit is a stage failure too
        _discard_partial(job)
        return StageOutcome(
            job.stage, False, error=_describe(exc), duration=time.perf_counter() - started
        )
    finally:
        os.chdir(previous_cwd)
    duration = time.perf_counter() - started
    return StageOutcome(job.stage, True, results, duration=duration, metrics=metrics)


def _discard_partial(job: StageJob) -> None:
    """A failed stage leaves no half-written outputs (a 0-byte file after a full disk); the
    last recorded version stays in the cache for `pivot checkout`."""
    for out in job.outs:
        if out.kind is not specs.OutKind.INCREMENTAL:
            with contextlib.suppress(OSError):
                job.workspace.remove(out.path)


def _metric_values(
    job: StageJob, values: Mapping[str, Any]
) -> dict[str, dict[str, history.Scalar]]:
    """What each Metric output holds, for the run history: the returned mapping, else the
    file itself when it is JSON (a `cmd:` stage writes its metrics file itself)."""
    found: dict[str, dict[str, history.Scalar]] = {}
    for out in job.outs:
        if out.kind is not specs.OutKind.METRIC:
            continue
        value = values.get(out.identity)
        if not isinstance(value, Mapping) and out.path.suffix == ".json":
            try:
                value = json.loads(job.workspace.read_bytes(out.path))
            except (FileNotFoundError, IsADirectoryError, NotADirectoryError, ValueError):
                continue
        flat = history.flatten(value) if isinstance(value, Mapping) else {}
        if flat:
            found[pathlib.Path(os.path.relpath(out.path, job.root)).as_posix()] = flat
    return found


def _load(stage: str, dep: stage_mod.DepBinding) -> Any:
    values = [_with_loader(stage, "load dep", dep.name, p, dep.loader.load, p) for p in dep.paths]
    return values if dep.multi else values[0]


def _with_loader(
    stage: str, what: str, name: str, path: pathlib.Path, call: Callable[..., Any], *args: Any
) -> Any:
    """Call a loader; its failure names the stage, the argument, the file and the loader."""
    try:
        return call(*args)
    except Exception as exc:
        verb = "from" if what.startswith("load") else "to"
        raise errors.LoaderError(
            f"{stage}: cannot {what} '{name}' {verb} {_shown(path)} with {_loader_name(call)}: "
            + f"{type(exc).__name__}: {exc}"
        ) from None


def _loader_name(call: Callable[..., Any]) -> str:
    """`JSON()`, `CSV(sep=';')`: the loader as a user would write it (defaults omitted)."""
    owner = getattr(call, "__self__", call)
    if not dataclasses.is_dataclass(owner):
        return repr(owner)
    fields = [
        f"{f.name}={getattr(owner, f.name)!r}"
        for f in dataclasses.fields(owner)
        if f.repr and getattr(owner, f.name) != f.default
    ]
    return f"{type(owner).__name__}({', '.join(fields)})"


def _shown(path: pathlib.Path) -> str:
    """`path` relative to the stage's working directory when inside it."""
    try:
        return path.relative_to(pathlib.Path.cwd()).as_posix()
    except ValueError:
        return str(path)


def _prepare_incremental(job: StageJob, out: OutJob) -> None:
    """Put the previous version at the output path as a private, writable copy."""
    if out.previous is not None and job.cache.has(out.previous):
        job.workspace.remove(out.path)
        job.cache.materialize(out.previous, out.path, (content_cache.LinkMode.COPY,))
    elif _found(job.workspace, out.path):
        # Not in the cache (e.g. after --no-commit): keep the workspace version, but never
        # append to a file that is a hardlink into the cache.
        job.workspace.make_private(out.path)


def _found(workspace: workspace_store.WorkspaceStore, path: pathlib.Path) -> bool:
    """Whether a file or directory is at `path` (links followed, as `Path.exists`)."""
    try:
        workspace.stat(path)
    except OSError:
        return False
    return True


def _previous_value(job: StageJob, out: OutJob) -> Any:
    if _found(job.workspace, out.path) or isinstance(out.loader, loader.PathOnly):
        return _with_loader(
            job.stage, "load the previous output", out.identity, out.path, out.loader.load, out.path
        )
    return out.loader.empty()


def _save(job: StageJob, result: Any) -> dict[str, Any]:
    """Write each output's value with its loader; the values by output identity."""
    if not job.outs:
        return {}
    if len(job.outs) == 1 and job.outs[0].key is None:
        values = {job.outs[0].identity: result}
    else:
        if not isinstance(result, Mapping):
            raise errors.OutputError(
                f"stage '{job.stage}' must return a dict with keys "
                + ", ".join(f"'{o.key}'" for o in job.outs)
                + f", got {type(result).__name__}"
            )
        returned: Mapping[str, Any] = result
        missing = [o.key for o in job.outs if o.key not in returned]
        if missing:
            raise errors.OutputError(
                f"stage '{job.stage}' returned no value for output(s) "
                + ", ".join(f"'{k}'" for k in missing)
            )
        values = {o.identity: returned[str(o.key)] for o in job.outs}
    # Check every directory's keys before writing anything, so a bad key leaves no files.
    entries = {
        o.identity: directory_entries(job.stage, o.identity, values[o.identity])
        for o in job.outs
        if o.kind is specs.OutKind.DIRECTORY
    }
    for out in job.outs:
        if out.kind is not specs.OutKind.DIRECTORY:
            _with_loader(
                job.stage,
                "save output",
                out.identity,
                out.path,
                out.loader.save,
                values[out.identity],
                out.path,
            )
            continue
        job.workspace.remove(out.path)
        job.workspace.make_dirs(out.path)
        for rel, value in entries[out.identity]:
            target = out.path.joinpath(*rel.split("/"))
            job.workspace.make_dirs(target.parent)
            _with_loader(
                job.stage, "save output", out.identity, target, out.loader.save, value, target
            )
    return values


def directory_entries(stage: str, identity: str, value: Any) -> list[tuple[str, Any]]:
    """A DirectoryOut's `{relative_key: value}` as sorted (normalised key, value) pairs."""
    if not isinstance(value, Mapping):
        raise errors.OutputError(
            f"stage '{stage}': DirectoryOut '{identity}' must be returned as a dict "
            + f"{{relative_key: value}}, got {type(value).__name__}"
        )
    mapping: Mapping[Any, Any] = value
    seen: dict[str, str] = {}
    for key in mapping:
        rel = _directory_key(stage, identity, key)
        if rel in seen:
            raise errors.OutputError(
                f"stage '{stage}': DirectoryOut '{identity}' keys {seen[rel]!r} and {key!r} "
                + f"name the same file '{rel}'"
            )
        seen[rel] = key
    for rel, key in seen.items():
        parent = posixpath.dirname(rel)
        while parent:
            if parent in seen:
                raise errors.OutputError(
                    f"stage '{stage}': DirectoryOut '{identity}' key {seen[parent]!r} is a "
                    + f"file but key {key!r} puts a file inside it"
                )
            parent = posixpath.dirname(parent)
    return [(rel, mapping[seen[rel]]) for rel in sorted(seen)]


def _directory_key(stage: str, identity: str, key: Any) -> str:
    problem = ""
    if not isinstance(key, str) or not key.strip():
        problem = "keys must be non-empty strings"
    elif "\\" in key:
        problem = "use '/' as the separator"
    elif key.startswith("/") or pathlib.PureWindowsPath(key).is_absolute():
        problem = "keys must be relative paths, not absolute ones"
    elif ".." in key.split("/"):
        problem = "keys may not contain '..'"
    else:
        rel = posixpath.normpath(key)
        if rel != ".":
            return rel
        problem = "keys must name a file inside the directory"
    raise errors.OutputError(
        f"stage '{stage}': invalid key {key!r} in DirectoryOut '{identity}': {problem}"
    )


def _recorded(job: StageJob, out: OutJob) -> OutResult:
    """Hash and cache an output; an OS refusal here is Pivot's, so one line, no traceback."""
    try:
        return _record(job, out)
    except OSError as exc:
        where = exc.filename or out.path
        raise errors.OutputError(
            f"stage '{job.stage}': cannot hash or cache output '{out.identity}': "
            + f"{exc.strerror or exc} on {where}; check the permissions of and the free "
            + "space on the workspace and the cache (.pivot/cache), then re-run"
        ) from None


def _record(job: StageJob, out: OutJob) -> OutResult:
    try:
        st = job.workspace.stat(out.path)
    except (FileNotFoundError, NotADirectoryError):
        raise errors.OutputError(
            f"stage '{job.stage}' did not create its output '{out.identity}' at '{out.path}'"
        ) from None
    if stat.S_ISDIR(st.st_mode):
        entries = job.workspace.scan(out.path)
        # Stored outputs are hashed as they are stored, each file read once.
        digests = (
            job.cache.add_files({path: st.st_size for _, path, st in entries})
            if out.store
            else {path: job.hasher.file_digest(path) for _, path, _ in entries}
        )
        stamps = tuple(
            (path, state_store.FileStamp.of(st), digests[path]) for _, path, st in entries
        )
        manifest = {rel: digests[path] for rel, path, _ in entries}
        digest = job.hasher.tree_digest(manifest.items())
        if out.store:
            job.cache.put_tree(manifest, digest)
        return OutResult(out.identity, digest, stamps)
    path = str(out.path)
    file_digest = (
        job.cache.add_files({path: st.st_size})[path] if out.store else job.hasher.file_digest(path)
    )
    entry = (path, state_store.FileStamp.of(st), file_digest)
    return OutResult(out.identity, file_digest, (entry,))


def _describe(exc: BaseException) -> str:
    if isinstance(exc, SystemExit):
        return f"the stage called sys.exit({exc.code!r})"
    if isinstance(exc, errors.PivotError):
        return str(exc)
    lines = traceback.format_exception(exc)
    # Drop Pivot's own frames above the stage call: users want their code's traceback.
    return "".join(line for line in lines if "pivot/app/stage_job.py" not in line).rstrip()
