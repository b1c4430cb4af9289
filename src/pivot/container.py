import os
import pathlib
from collections.abc import Iterator, Mapping
from typing import Any

from dependency_injector import containers, providers

from pivot.app import checkout, digests, fsck, gc, observe, project, run, status, track, verify
from pivot.domain import identity, pipeline
from pivot.ports import content_cache, hasher, state_store


def _hasher() -> hasher.Hasher:
    from pivot.adapters.hashing import xxh3_hasher

    return xxh3_hasher.Xxh3Hasher()


def _state_store(project_root: pathlib.Path) -> Iterator[state_store.StateStore]:
    from pivot.adapters.state import lmdb_state_store

    store = lmdb_state_store.LmdbStateStore(project_root / project.STATE_DIR / "state.lmdb")
    try:
        yield store
    finally:
        store.close()


def _cache(project_root: pathlib.Path, hasher_: hasher.Hasher) -> content_cache.ContentCache:
    from pivot.adapters.cache import local_content_cache

    return local_content_cache.LocalContentCache(
        project_root / project.STATE_DIR / "cache", hasher_
    )


def _locks() -> Any:
    from pivot.adapters.lock import json_lock_store

    return json_lock_store.JsonLockStore()


def _pipeline_source() -> Any:
    from pivot.adapters.discovery import composite_source

    return composite_source.default()


def _fingerprinter(state: state_store.StateStore, project_root: pathlib.Path) -> Any:
    from pivot.adapters.fingerprint import ast_fingerprinter

    return ast_fingerprinter.AstFingerprinter(state, project_root)


def _output_paths(pipe: pipeline.Pipeline) -> Mapping[identity.ArtifactIdentity, pathlib.Path]:
    return {st.out_identity(o): o.path for st in pipe.stages.values() for o in st.outs}


def _workspace(cache: content_cache.ContentCache, pipe: pipeline.Pipeline) -> Any:
    from pivot.adapters.workspace import file_workspace_store

    return file_workspace_store.FileWorkspaceStore(cache, _output_paths(pipe))


def _link_modes(project_root: pathlib.Path) -> tuple[content_cache.LinkMode, ...]:
    """Checkout link-mode fallback order: $PIVOT_LINK_MODES or `cache.link_modes` in config.yaml."""
    raw: Any = os.environ.get("PIVOT_LINK_MODES")
    config = project_root / project.STATE_DIR / "config.yaml"
    if raw is None and config.is_file():
        from ruamel import yaml

        loaded: Any = yaml.YAML(typ="safe").load(config.read_text()) or {}
        raw = (loaded.get("cache") or {}).get("link_modes") if isinstance(loaded, dict) else None
    if raw is None:
        return checkout.DEFAULT_MODES
    names = raw.split(",") if isinstance(raw, str) else list(raw)
    try:
        return tuple(content_cache.LinkMode(str(n).strip()) for n in names if str(n).strip())
    except ValueError:
        from pivot.domain import errors

        valid = ", ".join(m.value for m in content_cache.LinkMode)
        raise errors.PivotError(
            f"invalid link mode in {raw!r} ($PIVOT_LINK_MODES or cache.link_modes in {config}); "
            + f"use a list of: {valid}"
        ) from None


def _loky_executor(jobs: int | None) -> Iterator[Any]:
    from pivot.adapters.executor import loky_executor

    pool = loky_executor.LokyExecutor(max_workers=jobs or os.cpu_count() or 1)
    try:
        yield pool
    finally:
        pool.shutdown()


def _inline_executor() -> Any:
    from pivot.adapters.executor import inline_executor

    return inline_executor.InlineExecutor()


class Container(containers.DeclarativeContainer):
    """The composition root: the only place that names concrete adapters."""

    config = providers.Configuration()

    project_root = providers.Singleton(project.find_root, config.cwd)
    hasher = providers.Singleton(_hasher)
    state_store = providers.Resource(_state_store, project_root)
    cache = providers.Singleton(_cache, project_root, hasher)
    locks = providers.Singleton(_locks)
    pipeline_source = providers.Singleton(_pipeline_source)
    pipeline = providers.Singleton(
        project.load_pipeline, pipeline_source, config.cwd, project_root, config.all_pipelines
    )
    fingerprinter = providers.Singleton(_fingerprinter, state_store, project_root)
    digests = providers.Singleton(digests.DigestService, state_store, hasher)
    observer = providers.Singleton(
        observe.Observer,
        locks=locks,
        digest_service=digests,
        cache=cache,
        fingerprinter=fingerprinter,
    )
    workspace = providers.Singleton(_workspace, cache, pipeline)
    executor = providers.Selector(
        config.executor,
        loky=providers.Resource(_loky_executor, config.jobs),
        inline=providers.Singleton(_inline_executor),
    )
    sink = providers.Dependency()

    run_service = providers.Factory(
        run.RunService,
        project_root=project_root,
        observer=observer,
        locks=locks,
        cache=cache,
        hasher_=hasher,
        workspace=workspace,
        executor_=executor,
        sink=sink,
    )
    status_service = providers.Factory(
        status.StatusService, project_root=project_root, observer=observer
    )
    track_service = providers.Factory(
        track.TrackService, project_root=project_root, digest_service=digests, cache=cache
    )
    checkout_service = providers.Factory(
        checkout.CheckoutService,
        project_root=project_root,
        locks=locks,
        digest_service=digests,
        cache=cache,
        workspace=workspace,
    )
    verify_service = providers.Factory(
        verify.VerifyService,
        project_root=project_root,
        status_service=status_service,
        locks=locks,
        digest_service=digests,
        cache=cache,
    )
    gc_service = providers.Factory(
        gc.GcService, project_root=project_root, locks=locks, cache=cache
    )
    fsck_service = providers.Factory(fsck.FsckService, cache=cache, hasher=hasher)
    link_modes = providers.Singleton(_link_modes, project_root)


def build(cwd: pathlib.Path, *, executor: str = "loky", jobs: int | None = None) -> Container:
    container = Container()
    container.config.from_dict(
        {"cwd": cwd, "executor": executor, "jobs": jobs, "all_pipelines": False}
    )
    return container
