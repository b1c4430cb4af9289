import importlib
import os
import pathlib
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from dependency_injector import containers, providers

from pivot.app import project
from pivot.domain import identity, pipeline
from pivot.ports import content_cache, state_store


def _lazy(module: str, name: str) -> Callable[..., Any]:
    """A factory for `module.name` that imports the module only when first called.

    Keeps every adapter and use case out of the import path of commands that do not use it
    (`pivot status` never imports loky, `pivot run` never imports the checkout service).
    """

    def make(*args: Any, **kwargs: Any) -> Any:
        return getattr(importlib.import_module(module), name)(*args, **kwargs)

    make.__qualname__ = f"lazy {module}.{name}"
    return make


def _state_store(project_root: pathlib.Path) -> Iterator[state_store.StateStore]:
    from pivot.adapters.state import lmdb_state_store

    store = lmdb_state_store.LmdbStateStore(project_root / project.STATE_DIR / "state.lmdb")
    try:
        yield store
    finally:
        store.close()


def _cache_root(project_root: pathlib.Path) -> pathlib.Path:
    return project_root / project.STATE_DIR / "cache"


def _output_paths(pipe: pipeline.Pipeline) -> Mapping[identity.ArtifactIdentity, pathlib.Path]:
    return {st.out_identity(o): o.path for st in pipe.stages.values() for o in st.outs}


def _project_config(project_root: pathlib.Path) -> dict[str, Any]:
    """`.pivot/config.yaml` as plain data ({} when absent)."""
    path = project_root / project.STATE_DIR / "config.yaml"
    if not path.is_file():
        return {}
    from ruamel import yaml

    from pivot.domain import errors

    try:
        loaded: Any = yaml.YAML(typ="safe").load(path.read_text())
    except yaml.YAMLError as exc:
        raise errors.PivotError(f"{path}: invalid YAML: {exc}") from None
    if loaded is None:
        return {}
    if not isinstance(loaded, dict):
        raise errors.PivotError(
            f"{path}: expected a mapping of settings, got {type(loaded).__name__}"
        )
    return loaded  # pyright: ignore[reportUnknownVariableType]


def _section(config: dict[str, Any], name: str) -> dict[str, Any]:
    section = config.get(name) or {}
    return section if isinstance(section, dict) else {}  # pyright: ignore[reportUnknownVariableType]


def _fingerprinter(
    state: state_store.StateStore, project_root: pathlib.Path, config: dict[str, Any]
) -> Any:
    from pivot.adapters.fingerprint import ast_fingerprinter

    ignore = os.environ.get("PIVOT_IGNORE_PACKAGE_VERSIONS")
    setting = _section(config, "fingerprint").get("ignore_package_versions", False)
    return ast_fingerprinter.AstFingerprinter(
        state,
        project_root,
        ignore_package_versions=bool(setting) if ignore is None else ignore not in ("", "0"),
    )


def _link_modes(
    project_root: pathlib.Path, config: dict[str, Any]
) -> tuple[content_cache.LinkMode, ...]:
    """Checkout link-mode fallback order: $PIVOT_LINK_MODES or `cache.link_modes` in config.yaml."""
    from pivot.app import checkout

    raw: Any = os.environ.get("PIVOT_LINK_MODES") or _section(config, "cache").get("link_modes")
    if raw is None:
        return checkout.DEFAULT_MODES
    names = raw.split(",") if isinstance(raw, str) else list(raw)
    try:
        return tuple(content_cache.LinkMode(str(n).strip()) for n in names if str(n).strip())
    except ValueError:
        from pivot.domain import errors

        valid = ", ".join(m.value for m in content_cache.LinkMode)
        raise errors.PivotError(
            f"invalid link mode in {raw!r} ($PIVOT_LINK_MODES or cache.link_modes in "
            + f"{project_root / project.STATE_DIR / 'config.yaml'}); "
            + f"use a list of: {valid}"
        ) from None


def _loky_executor(jobs: int | None) -> Iterator[Any]:
    from pivot.adapters.executor import loky_executor

    pool = loky_executor.LokyExecutor(max_workers=jobs or os.cpu_count() or 1)
    try:
        yield pool
    finally:
        pool.shutdown()


def _dask_executor(jobs: int | None, scheduler: str | None) -> Iterator[Any]:
    from pivot.adapters.executor import dask_executor

    pool = dask_executor.DaskExecutor(scheduler=scheduler, max_workers=jobs)
    try:
        yield pool
    finally:
        pool.shutdown()


def _pipeline_source() -> Any:
    from pivot.adapters.discovery import composite_source

    return composite_source.default()


class Container(containers.DeclarativeContainer):
    """The composition root: the only place that names concrete adapters."""

    config = providers.Configuration()

    project_root = providers.Singleton(project.find_root, config.cwd)
    project_config = providers.Singleton(_project_config, project_root)

    # Adapters
    hasher = providers.Singleton(_lazy("pivot.adapters.hashing.xxh3_hasher", "Xxh3Hasher"))
    state_store = providers.Resource(_state_store, project_root)
    cache = providers.Singleton(
        _lazy("pivot.adapters.cache.local_content_cache", "LocalContentCache"),
        providers.Callable(_cache_root, project_root),
        hasher,
    )
    locks = providers.Singleton(_lazy("pivot.adapters.lock.json_lock_store", "JsonLockStore"))
    pipeline_source = providers.Singleton(_pipeline_source)
    found_pipeline = providers.Singleton(
        project.find_pipeline, pipeline_source, config.cwd, project_root, config.all_pipelines
    )
    pipeline = providers.Callable(
        project.require_pipeline, found_pipeline, config.cwd, project_root
    )
    pipeline_if_any = providers.Callable(project.pipeline_or_empty, found_pipeline, project_root)
    fingerprinter = providers.Singleton(_fingerprinter, state_store, project_root, project_config)
    workspace = providers.Singleton(
        _lazy("pivot.adapters.workspace.file_workspace_store", "FileWorkspaceStore"),
        cache,
        providers.Callable(_output_paths, pipeline_if_any),
    )
    executor = providers.Selector(
        config.executor,
        loky=providers.Resource(_loky_executor, config.jobs),
        dask=providers.Resource(_dask_executor, config.jobs, config.scheduler),
        inline=providers.Singleton(
            _lazy("pivot.adapters.executor.inline_executor", "InlineExecutor")
        ),
    )
    sink = providers.Selector(
        config.output,
        console=providers.Singleton(
            _lazy("pivot.adapters.events.console_sink", "ConsoleSink"), explain=config.explain
        ),
        json=providers.Singleton(
            _lazy("pivot.adapters.events.jsonl_sink", "JsonlSink"), config.event_stream
        ),
    )
    link_modes = providers.Singleton(_link_modes, project_root, project_config)
    vcs = providers.Singleton(_lazy("pivot.adapters.vcs.git_vcs", "GitVcs"), project_root)

    # Use cases
    digests = providers.Singleton(_lazy("pivot.app.digests", "DigestService"), state_store, hasher)
    observer = providers.Singleton(
        _lazy("pivot.app.observe", "Observer"),
        locks=locks,
        digest_service=digests,
        cache=cache,
        fingerprinter=fingerprinter,
    )
    run_service = providers.Factory(
        _lazy("pivot.app.run", "RunService"),
        project_root=project_root,
        observer=observer,
        locks=locks,
        cache=cache,
        hasher_=hasher,
        workspace=workspace,
        executor_=executor,
        sink=sink,
        state=state_store,
    )
    status_service = providers.Factory(
        _lazy("pivot.app.status", "StatusService"), project_root=project_root, observer=observer
    )
    commit_service = providers.Factory(
        _lazy("pivot.app.commit", "CommitService"),
        project_root=project_root,
        observer=observer,
        locks=locks,
        cache=cache,
        state=state_store,
    )
    track_service = providers.Factory(
        _lazy("pivot.app.track", "TrackService"),
        project_root=project_root,
        digest_service=digests,
        cache=cache,
    )
    checkout_service = providers.Factory(
        _lazy("pivot.app.checkout", "CheckoutService"),
        project_root=project_root,
        locks=locks,
        digest_service=digests,
        cache=cache,
        workspace=workspace,
    )
    verify_service = providers.Factory(
        _lazy("pivot.app.verify", "VerifyService"),
        project_root=project_root,
        status_service=status_service,
        locks=locks,
        digest_service=digests,
        cache=cache,
    )
    gc_service = providers.Factory(
        _lazy("pivot.app.gc", "GcService"), project_root=project_root, locks=locks, cache=cache
    )
    dvc_import = providers.Callable(_lazy("pivot.adapters.dvc.importer", "import_pipeline"))
    fsck_service = providers.Factory(
        _lazy("pivot.app.fsck", "FsckService"), cache=cache, hasher=hasher
    )


def build(
    cwd: pathlib.Path,
    *,
    executor: str = "loky",
    jobs: int | None = None,
    scheduler: str | None = None,
    all_pipelines: bool = False,
    output: str = "console",
    explain: bool = False,
    event_stream: Any = None,
) -> Container:
    """A container for one CLI invocation (or an embedding service) rooted at `cwd`."""
    container = Container()
    container.config.from_dict(
        {
            "cwd": cwd,
            "executor": executor,
            "jobs": jobs,
            "scheduler": scheduler,
            "all_pipelines": all_pipelines,
            "output": output,
            "explain": explain,
            "event_stream": event_stream,
        }
    )
    return container
