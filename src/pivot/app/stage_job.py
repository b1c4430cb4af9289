import dataclasses
import os
import pathlib
import shutil
import time
import traceback
from collections.abc import Callable, Mapping
from typing import Any

from pivot.app import digests
from pivot.domain import errors, loader, params, specs
from pivot.domain import stage as stage_mod
from pivot.ports import content_cache, hasher, state_store


@dataclasses.dataclass(frozen=True, slots=True)
class OutJob:
    identity: str
    key: str | None
    path: pathlib.Path
    loader: loader.Loader[Any]
    kind: specs.OutKind
    cached: bool


@dataclasses.dataclass(frozen=True, slots=True)
class StageJob:
    """Everything a worker needs to run one stage; travels to the worker by pickle."""

    stage: str
    func: Callable[..., Any]
    root: pathlib.Path
    deps: tuple[stage_mod.DepBinding, ...]
    outs: tuple[OutJob, ...]
    params: params.StageParams | None
    params_arg: str | None
    cache: content_cache.ContentCache
    hasher: hasher.Hasher
    store_outputs: bool = True


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


def job_for(
    st: stage_mod.Stage,
    cache: content_cache.ContentCache,
    hasher_: hasher.Hasher,
    *,
    store_outputs: bool = True,
) -> StageJob:
    return StageJob(
        stage=st.name,
        func=st.func,
        root=st.root,
        deps=st.deps,
        outs=tuple(
            OutJob(str(st.out_identity(o)), o.key, o.path, o.loader, o.kind, o.cached)
            for o in st.outs
        ),
        params=st.params,
        params_arg=st.params_arg,
        cache=cache,
        hasher=hasher_,
        store_outputs=store_outputs,
    )


def run(job: StageJob) -> StageOutcome:
    """Run a stage in this process: load deps, call, save and hash (and cache) outputs."""
    started = time.perf_counter()
    previous_cwd = os.getcwd()
    try:
        os.chdir(job.root)
        for out in job.outs:
            _clear(out.path)
            out.path.parent.mkdir(parents=True, exist_ok=True)
        kwargs: dict[str, Any] = {dep.name: _load(dep) for dep in job.deps}
        if job.params_arg is not None:
            kwargs[job.params_arg] = job.params
        result = job.func(**kwargs)
        _save(job, result)
        results = tuple(_record(job, out) for out in job.outs)
    except KeyboardInterrupt:
        raise
    except BaseException as exc:  # a stage calling sys.exit is a stage failure too
        return StageOutcome(
            job.stage, False, error=_describe(exc), duration=time.perf_counter() - started
        )
    finally:
        os.chdir(previous_cwd)
    return StageOutcome(job.stage, True, results, duration=time.perf_counter() - started)


def _clear(path: pathlib.Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    else:
        path.unlink(missing_ok=True)


def _load(dep: stage_mod.DepBinding) -> Any:
    values = [dep.loader.load(p) for p in dep.paths]
    return values if dep.multi else values[0]


def _save(job: StageJob, result: Any) -> None:
    if not job.outs:
        return
    if len(job.outs) == 1 and job.outs[0].key is None:
        job.outs[0].loader.save(result, job.outs[0].path)
        return
    if not isinstance(result, Mapping):
        raise errors.OutputError(
            f"stage '{job.stage}' must return a dict with keys "
            + ", ".join(f"'{o.key}'" for o in job.outs)
            + f", got {type(result).__name__}"
        )
    values: Mapping[str, Any] = result
    missing = [o.key for o in job.outs if o.key not in values]
    if missing:
        raise errors.OutputError(
            f"stage '{job.stage}' returned no value for output(s) "
            + ", ".join(f"'{k}'" for k in missing)
        )
    for out in job.outs:
        out.loader.save(values[str(out.key)], out.path)


def _record(job: StageJob, out: OutJob) -> OutResult:
    if not out.path.exists():
        raise errors.OutputError(
            f"stage '{job.stage}' did not create its output '{out.identity}' at '{out.path}'"
        )
    if out.path.is_dir():
        stamps = tuple(_hash_file(job.hasher, p) for _, p in digests.walk_files(out.path))
        manifest = {
            pathlib.PurePath(os.path.relpath(p, out.path)).as_posix(): d for p, _, d in stamps
        }
        digest = job.hasher.tree_digest(sorted(manifest.items()))
        if out.cached and job.store_outputs:
            for path, _, file_digest in stamps:
                job.cache.put_file(pathlib.Path(path), file_digest)
            job.cache.put_tree(manifest, digest)
        return OutResult(out.identity, digest, stamps)
    entry = _hash_file(job.hasher, out.path)
    if out.cached and job.store_outputs:
        job.cache.put_file(out.path, entry[2])
    return OutResult(out.identity, entry[2], (entry,))


def _hash_file(
    hasher_: hasher.Hasher, path: pathlib.Path
) -> tuple[str, state_store.FileStamp, str]:
    stamp = digests.stamp_of(os.stat(path))
    return str(path), stamp, hasher_.file_digest(path)


def _describe(exc: BaseException) -> str:
    if isinstance(exc, SystemExit):
        return f"the stage called sys.exit({exc.code!r})"
    if isinstance(exc, errors.PivotError):
        return str(exc)
    lines = traceback.format_exception(exc)
    # Drop Pivot's own frames above the stage call: users want their code's traceback.
    return "".join(line for line in lines if "pivot/app/stage_job.py" not in line).rstrip()
