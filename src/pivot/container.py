import functools
import importlib
import os
import pathlib
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from pivot.app import project
from pivot.domain import layout
from pivot.ports import content_cache, state_store

_UNUSED_INTEGRATIONS = (
    "fastapi",
    "fast_depends",
    "flask",
    "pydantic",
    "pydantic_settings",
    "starlette",
    "werkzeug",
    "yaml",
)
"""Optional integrations dependency_injector imports when they are installed; Pivot uses none
of them (its Configuration provider never reads YAML or pydantic settings)."""


class _Unavailable:
    """A meta-path finder for which some top-level packages do not exist."""

    def __init__(self, names: tuple[str, ...]) -> None:
        self._names = frozenset(names)

    def find_spec(self, name: str, path: Any = None, target: Any = None) -> None:
        if name.partition(".")[0] in self._names:
            raise ModuleNotFoundError(f"{name}: hidden while dependency_injector loads", name=name)


@contextmanager
def _without(names: tuple[str, ...]) -> Iterator[None]:
    """`import NAME` fails inside the block unless NAME is already imported.

    Start-up cost: when installed (in the dev environment moto brings werkzeug and PyYAML),
    these imports are about a third of a no-op `pivot run`'s import time.
    """
    finder = _Unavailable(names)
    sys.meta_path.insert(0, finder)
    try:
        yield
    finally:
        sys.meta_path.remove(finder)


with _without(_UNUSED_INTEGRATIONS):
    from dependency_injector import containers, providers


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

    store = lmdb_state_store.LmdbStateStore(layout.state_db(project_root))
    try:
        yield store
    finally:
        store.close()


def _cache_root(project_root: pathlib.Path) -> pathlib.Path:
    return layout.cache_dir(project_root)


def _config_files(project_root: pathlib.Path, memo: Callable[[], state_store.StateStore]) -> Any:
    from pivot.adapters.config import yaml_config

    return yaml_config.YamlConfigFiles(layout.state_dir(project_root), memo=memo)


def _settings(files: Any) -> Any:
    """The effective `domain.config.Config` (loaded, with pydantic, only when a setting is read)."""
    return files.load()


def _fingerprinter(state: state_store.StateStore, project_root: pathlib.Path, settings: Any) -> Any:
    from pivot.adapters.fingerprint import ast_fingerprinter

    return ast_fingerprinter.AstFingerprinter(
        state,
        project_root,
        ignore_package_versions=settings.fingerprint.ignore_package_versions,
    )


def _link_modes(settings: Any) -> tuple[content_cache.LinkMode, ...]:
    """Restore link-mode fallback order: `cache.link_modes` (or $PIVOT_LINK_MODES)."""
    modes = settings.cache.link_modes
    if not modes:
        return content_cache.DEFAULT_LINK_MODES
    return tuple(content_cache.LinkMode(m) for m in modes)


def _executor_name(
    requested: str | None, scheduler: str | None, settings: providers.Provider[Any]
) -> str:
    """`--executor`-style request, else `run.executor` (or $PIVOT_EXECUTOR)."""
    name = requested or settings().run.executor
    if scheduler and name != "dask":
        from pivot.domain import errors

        raise errors.PivotError(
            "--scheduler needs the Dask executor: add `--executor dask` (or set run.executor "
            + "to dask with `pivot config set run.executor dask`)"
        )
    return name


def _remote_choice(settings: Any, name: str | None) -> Any:
    from pivot.domain import config

    return config.pick_remote(settings, name)


def _remote_location(project_root: pathlib.Path, url: str) -> str:
    """Checks a remote URL and gives its canonical form (a plain path made absolute)."""
    from pivot.adapters.remote import url as remote_url

    return remote_url.location(url, project_root)


def _remote_factory(choice: Any, project_root: pathlib.Path) -> Callable[[], Any]:
    """Opens the chosen remote; picklable, so a cluster worker can open it too."""
    from pivot.adapters.remote import url as remote_url

    name, options = choice
    where = remote_url.location(options.url, project_root)
    if "://" not in where:
        # Imported only here: obstore is not loaded for a directory remote.
        from pivot.adapters.remote import directory_remote

        return functools.partial(directory_remote.DirectoryRemote, where, hardlink=options.hardlink)
    from pivot.adapters.remote import obstore_remote

    return functools.partial(
        obstore_remote.ObstoreRemote,
        where,
        endpoint_url=options.endpoint_url,
        region=options.region,
        allow_http=options.allow_http,
        timeout=options.timeout,
        jobs=_transfer_jobs(choice),
        name=name,
    )


def _remote(factory: Callable[[], Any]) -> Any:
    return factory()


def _transfer_splitter(choice: Any, project_root: pathlib.Path) -> Any:
    """Transfers run in forked slices when both ends are files on this machine (ADR 0024): a
    directory remote and the local cache keep every effect on disk."""
    from pivot.adapters.remote import url as remote_url

    if "://" in remote_url.location(choice[1].url, project_root):
        return None
    from pivot.adapters import forked

    return forked.ForkSplitter()


def _detacher(
    project_root: pathlib.Path,
    cache: Any,
    hasher: Any,
    *,
    factory: Callable[[], Any],
    workspace: Any,
    link_modes: tuple[content_cache.LinkMode, ...],
) -> Any:
    """Client side of Dask runs without a shared filesystem: data moves through the remote."""
    from pivot.adapters.cache import local_content_cache
    from pivot.app import detached_job

    return detached_job.Detacher(
        project_root=project_root,
        cache=cache,
        hasher=hasher,
        remote=factory(),
        open_remote=factory,
        make_cache=functools.partial(local_content_cache.LocalContentCache, hasher=hasher),
        workspace=workspace,
        modes=link_modes,
    )


def _transfer_jobs(choice: Any) -> int:
    """Concurrent transfers: `remotes.NAME.jobs`, else one per CPU for a directory remote (the
    work is system calls: more threads only take turns with the GIL — 0.9 M futex calls for
    20,000 objects at 8 threads, none at 2 on 2 CPUs) and 4 per CPU for object stores (network
    waits)."""
    _, options = choice
    if options.jobs:
        return options.jobs
    cpus = os.cpu_count() or 1
    url: str = options.url
    return cpus if "://" not in url or url.startswith("file:") else min(32, 4 * cpus)


def _loky_executor(jobs: int | None) -> Iterator[Any]:
    from pivot.adapters.executor import loky_executor

    pool = loky_executor.LokyExecutor(max_workers=jobs or os.cpu_count() or 1)
    try:
        yield pool
    finally:
        pool.shutdown()


def _dask_executor(
    jobs: int | None,
    scheduler: str | None,
    settings: Any,
    shared_fs: bool | None,
    detacher: providers.Provider[Any],
) -> Iterator[Any]:
    from pivot.adapters.executor import dask_executor

    shared = settings.run.shared_fs if shared_fs is None else shared_fs
    pool = dask_executor.DaskExecutor(
        scheduler=scheduler or settings.run.scheduler,
        max_workers=jobs,
        detacher=None if shared else detacher(),
    )
    try:
        yield pool
    finally:
        pool.shutdown()


def _lock_path_of() -> Callable[..., pathlib.Path]:
    from pivot.adapters.lock import json_lock_store

    return json_lock_store.lock_path


def _snapshot_opener(
    project_root: pathlib.Path, repo: Any, cache: content_cache.ContentCache
) -> Callable[[str | None], Any]:
    """Opens the working tree (None) or a git revision as a `vcs.Snapshot`."""
    from pivot.adapters.vcs import snapshots

    def open_snapshot(rev: str | None) -> Any:
        if rev is None:
            return snapshots.WorkspaceSnapshot(project_root)
        return snapshots.RevisionSnapshot(repo, rev, project_root, cache)

    return open_snapshot


def _sink(display: Any, project_root: pathlib.Path, record_events: bool) -> Any:
    """The run's sink: what the user sees, plus `.pivot/logs/events.jsonl` for `pivot ui`."""
    if not record_events:
        return display
    from pivot.adapters.events import event_log, tee_sink

    return tee_sink.TeeSink([display, event_log.EventLogSink(layout.events_log(project_root))])


def _run_events(project_root: pathlib.Path) -> Callable[[], tuple[list[dict[str, Any]], bool]]:
    """Reads the current (or last) run's events, and whether its writer is still alive."""
    from pivot.adapters.events import event_log

    def read() -> tuple[list[dict[str, Any]], bool]:
        found = event_log.read(layout.events_log(project_root))
        started = found[0] if found and found[0].get("event") == "run_started" else None
        ended = bool(found) and found[-1].get("event") == "run_ended"
        return found, started is not None and not ended and event_log.alive(int(started["pid"]))

    return read


def _plot_svg() -> Callable[[dict[str, Any]], str]:
    from pivot.adapters.plots import html_page

    return html_page.render_svg


def _yaml_loader() -> Callable[[str], Any]:
    from pivot.adapters import yaml_text

    return yaml_text.load


def _pipeline_source() -> Any:
    from pivot.adapters.discovery import composite_source

    return composite_source.default()


class Container(containers.DeclarativeContainer):
    """The composition root: the only place that names concrete adapters."""

    config = providers.Configuration()

    project_root = providers.Singleton(project.find_root, config.cwd)
    state_store = providers.Resource(_state_store, project_root)
    config_files = providers.Singleton(_config_files, project_root, state_store.provider)
    settings = providers.Singleton(_settings, config_files)

    # Adapters
    hasher = providers.Singleton(_lazy("pivot.adapters.hashing.xxh3_hasher", "Xxh3Hasher"))
    cache = providers.Singleton(
        _lazy("pivot.adapters.cache.local_content_cache", "LocalContentCache"),
        providers.Callable(_cache_root, project_root),
        hasher,
    )
    locks = providers.Singleton(_lazy("pivot.adapters.lock.json_lock_store", "JsonLockStore"))
    project_lock = providers.Singleton(
        _lazy("pivot.adapters.lock.file_project_lock", "FileProjectLock"), project_root
    )
    sweep_leftovers = providers.Callable(
        _lazy("pivot.adapters.workspace.leftovers", "sweep"), project_root
    )
    link_modes = providers.Singleton(_link_modes, settings)
    workspace = providers.Singleton(
        _lazy("pivot.adapters.workspace.file_workspace_store", "FileWorkspaceStore"),
        cache,
        link_modes,
    )
    pipeline_source = providers.Singleton(_pipeline_source)
    found_pipeline = providers.Singleton(
        project.find_pipeline,
        pipeline_source,
        config.cwd,
        project_root,
        workspace,
        config.all_pipelines,
    )
    pipeline = providers.Callable(
        project.require_pipeline, found_pipeline, config.cwd, project_root
    )
    pipeline_if_any = providers.Callable(project.pipeline_or_empty, found_pipeline, project_root)
    pipeline_or_tracked = providers.Callable(
        project.pipeline_or_tracked, found_pipeline, config.cwd, project_root, workspace
    )
    fingerprinter = providers.Singleton(_fingerprinter, state_store, project_root, settings)
    display_sink = providers.Selector(
        config.output,
        console=providers.Singleton(
            _lazy("pivot.adapters.events.console_sink", "ConsoleSink"),
            explain=config.explain,
            quiet=config.quiet,
            live=config.live,
        ),
        json=providers.Singleton(
            _lazy("pivot.adapters.events.jsonl_sink", "JsonlSink"), config.event_stream
        ),
    )
    sink = providers.Singleton(_sink, display_sink, project_root, config.record_events)
    run_events = providers.Callable(_run_events, project_root)
    plot_svg = providers.Callable(_plot_svg)
    remote_choice = providers.Singleton(_remote_choice, settings, config.remote)
    remote_location = providers.Callable(_remote_location, project_root)
    remote_factory = providers.Singleton(_remote_factory, remote_choice, project_root)
    remote = providers.Singleton(_remote, remote_factory)
    transfer_jobs = providers.Callable(_transfer_jobs, remote_choice)
    detacher = providers.Singleton(
        _detacher,
        project_root,
        cache,
        hasher,
        factory=remote_factory,
        workspace=workspace,
        link_modes=link_modes,
    )
    executor = providers.Selector(
        providers.Callable(_executor_name, config.executor, config.scheduler, settings.provider),
        loky=providers.Resource(_loky_executor, config.jobs),
        dask=providers.Resource(
            _dask_executor,
            config.jobs,
            config.scheduler,
            settings,
            config.shared_fs,
            detacher.provider,
        ),
        inline=providers.Singleton(
            _lazy("pivot.adapters.executor.inline_executor", "InlineExecutor")
        ),
    )
    vcs = providers.Singleton(_lazy("pivot.adapters.vcs.git_vcs", "GitVcs"), project_root)
    table_differ = providers.Singleton(
        _lazy("pivot.adapters.tables.streaming_differ", "StreamingDiffer")
    )
    plot_page = providers.Singleton(_lazy("pivot.adapters.plots.html_page", "HtmlPage"))
    stage_logs = providers.Singleton(
        _lazy("pivot.adapters.logs.file_stage_log", "FileStageLog"), project_root
    )

    # Use cases
    digests = providers.Singleton(
        _lazy("pivot.app.digests", "DigestService"), state_store, hasher, workspace
    )
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
        link_modes=link_modes,
        logs=stage_logs,
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
        workspace=workspace,
    )
    track_service = providers.Factory(
        _lazy("pivot.app.track", "TrackService"),
        project_root=project_root,
        digest_service=digests,
        cache=cache,
        workspace=workspace,
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
        workspace=workspace,
    )
    gc_service = providers.Factory(
        _lazy("pivot.app.gc", "GcService"),
        project_root=project_root,
        locks=locks,
        cache=cache,
        workspace=workspace,
        repo=vcs,
    )
    data_diff_service = providers.Factory(
        _lazy("pivot.app.data_diff", "DataDiffService"),
        project_root=project_root,
        cwd=config.cwd,
        repo=vcs,
        cache=cache,
        digest_service=digests,
        differ=table_differ,
        lock_path_of=providers.Callable(_lock_path_of),
        workspace=workspace,
    )
    history_log = providers.Factory(_lazy("pivot.app.history_log", "HistoryLog"), state_store)
    dvc_import = providers.Callable(_lazy("pivot.adapters.dvc.importer", "import_pipeline"))
    dvc_export = providers.Callable(_lazy("pivot.adapters.dvc.export", "export"))
    dvc_state = providers.Factory(_lazy("pivot.adapters.dvc.dvc_state", "DvcState"), cache, hasher)
    transfer_service = providers.Factory(
        _lazy("pivot.app.transfer", "TransferService"),
        project_root=project_root,
        locks=locks,
        cache=cache,
        hasher=hasher,
        state=state_store,
        remote_=remote,
        remote_name=providers.Callable(lambda choice: choice[0], remote_choice),
        workspace=workspace,
        splitter=providers.Callable(_transfer_splitter, remote_choice, project_root),
    )
    pull_planner = providers.Factory(
        _lazy("pivot.app.pull_plan", "PullPlanner"),
        project_root=project_root,
        observer=observer,
        locks=locks,
        cache=cache,
        state=state_store,
        workspace=workspace,
        transfer_service=transfer_service,
        link_modes=link_modes,
    )
    compare_service = providers.Factory(
        _lazy("pivot.app.compare", "CompareService"),
        project_root=project_root,
        cwd=config.cwd,
        pipe=pipeline_if_any,
        open_snapshot=providers.Callable(_snapshot_opener, project_root, vcs, cache),
        load_yaml=providers.Callable(_yaml_loader),
    )
    get_service = providers.Factory(
        _lazy("pivot.app.get", "GetService"),
        project_root=project_root,
        cwd=config.cwd,
        pipe=pipeline_if_any,
        open_snapshot=providers.Callable(_snapshot_opener, project_root, vcs, cache),
        cache=cache,
        workspace=workspace,
        open_remote=remote.provider,
    )
    fsck_service = providers.Factory(
        _lazy("pivot.app.fsck", "FsckService"), cache=cache, hasher=hasher
    )


def build(
    cwd: pathlib.Path,
    *,
    executor: str | None = None,
    jobs: int | None = None,
    scheduler: str | None = None,
    shared_fs: bool | None = None,
    all_pipelines: bool = False,
    output: str = "console",
    explain: bool = False,
    quiet: bool = False,
    event_stream: Any = None,
    remote: str | None = None,
    live: bool = False,
    record_events: bool = False,
) -> Container:
    """A container for one CLI invocation (or an embedding service) rooted at `cwd`."""
    container = Container()
    container.config.from_dict(
        {
            "cwd": cwd,
            "executor": executor,
            "jobs": jobs,
            "scheduler": scheduler,
            "shared_fs": shared_fs,
            "all_pipelines": all_pipelines,
            "output": output,
            "explain": explain,
            "quiet": quiet,
            "event_stream": event_stream,
            "remote": remote,
            "live": live,
            "record_events": record_events,
        }
    )
    return container
