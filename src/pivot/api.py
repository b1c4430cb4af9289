import contextlib
import dataclasses
import pathlib
import sys
import threading
import types
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any, Self

from dependency_injector import providers

import pivot
from pivot import container as container_mod
from pivot.app import compare
from pivot.app import run as run_app
from pivot.domain import dag, errors, events, history, paths, watch
from pivot.ports import content_cache, event_sink, executor, lock_store, stage_log, state_store


@dataclasses.dataclass(frozen=True, slots=True)
class StageInfo:
    """A stage as the graph shows it: where it sits and what it reads and writes."""

    name: str
    deps: tuple[str, ...]
    outs: tuple[str, ...]
    upstream: tuple[str, ...]
    layer: int
    """0 for stages reading no other stage's output; else 1 + the deepest upstream's layer."""


@dataclasses.dataclass(frozen=True, slots=True)
class StageStatus:
    name: str
    state: str
    """`up_to_date`, `stale` or `outputs_missing`."""
    reasons: tuple[str, ...]
    """Why it would run (`code changed: func:helpers.clean (…)`), empty when up to date."""
    warnings: tuple[str, ...] = ()


@dataclasses.dataclass(frozen=True, slots=True)
class LiveRun:
    """The current or last `pivot run` of this project, as its events tell it."""

    active: bool
    running: tuple[str, ...]
    finished: Mapping[str, str]
    """Stage → status (`ran`, `skipped`, `failed`, …) of stages done in that run."""
    durations: Mapping[str, float]


@dataclasses.dataclass(frozen=True, slots=True)
class Plot:
    title: str
    svg: str | None
    """The chart drawn to SVG (None for an image output; see `images`)."""
    images: tuple[tuple[str, str, bytes], ...] = ()


class _CallbackSink:
    def __init__(self, on_event: Callable[[events.Event], None]) -> None:
        self._on_event = on_event

    def emit(self, event: events.Event) -> None:
        self._on_event(event)

    def close(self) -> None:
        """Nothing to close: the callback saw every event."""


class Project:
    """A Pivot project for a program to drive: what `pivot ui` and embedding services call.

    Every call reloads the pipeline definition, so edits made since the last call count.
    Calls are serialised: one project object may be shared by threads.
    """

    def __init__(self, container: container_mod.Container) -> None:
        self._container = container
        self._lock = threading.RLock()

    @classmethod
    def open(
        cls,
        path: str | pathlib.Path = ".",
        *,
        state: state_store.StateStore | None = None,
        cache: content_cache.ContentCache | None = None,
        locks: lock_store.LockStore | None = None,
        executor: executor.Executor | str | None = None,
        sink: event_sink.EventSink | None = None,
        logs: stage_log.StageLog | None = None,
    ) -> Self:
        """Open the project at or above `path` with the default adapters, or with those given
        (in-memory state and cache, another executor — `loky`, `inline`, `dask` or an instance —,
        a sink that receives every run's events, `stage_log.NONE` to keep no stage logs)."""
        name = executor if isinstance(executor, str) else None
        built = container_mod.build(pathlib.Path(path).resolve(), executor=name)
        built.project_root()  # ProjectNotFoundError now, not at the first call
        swaps: dict[str, object] = {
            "state_store": state,
            "cache": cache,
            "locks": locks,
            "stage_logs": logs,
        }
        if executor is not None and not isinstance(executor, str):
            swaps["executor"] = executor
        for provider, value in swaps.items():
            if value is not None:
                getattr(built, provider).override(providers.Object(value))
        if sink is not None:
            built.display_sink.override(providers.Object(sink))
        return cls(built)

    @property
    def root(self) -> pathlib.Path:
        return self._container.project_root()

    def stages(self) -> list[StageInfo]:
        """Every stage of the pipeline, upstream first."""
        with self._session() as graph:
            layers: dict[str, int] = {}
            found: list[StageInfo] = []
            for name in graph.order:
                st = graph.stages[name]
                upstream = tuple(sorted(graph.upstream[name]))
                layers[name] = 1 + max((layers[u] for u in upstream), default=-1)
                found.append(
                    StageInfo(
                        name,
                        tuple(paths.relative(p, self.root) for p in st.dep_paths()),
                        tuple(paths.relative(o.path, self.root) for o in st.outs),
                        upstream,
                        layers[name],
                    )
                )
            return found

    def status(self, targets: Sequence[str] = ()) -> list[StageStatus]:
        """Which stages would run and why (`pivot status --explain`)."""
        with self._session():
            reports = self._container.status_service().status(self._container.pipeline(), targets)
            return [
                StageStatus(
                    r.name, r.state, tuple(x.describe() for x in r.decision.reasons), r.warnings
                )
                for r in reports
            ]

    def explain(self, stage: str) -> tuple[str, ...]:
        """Every reason `stage` would run; empty when it is up to date."""
        for report in self.status([stage]):
            if report.name == stage:
                return report.reasons
        raise errors.StageNotFoundError(f"no stage '{stage}'")

    def run(
        self,
        targets: Sequence[str] = (),
        *,
        force: bool = False,
        on_event: Callable[[events.Event], None] | None = None,
    ) -> events.RunSummary:
        """Run the stale stages among `targets` (all by default) and their stale upstream."""
        with self._session():
            if on_event is not None:
                self._container.display_sink.override(providers.Object(_CallbackSink(on_event)))
            sink = self._container.sink()
            try:
                return self._container.run_service().run(
                    self._container.pipeline(),
                    run_app.RunOptions(stages=tuple(targets), force=force),
                )
            finally:
                sink.close()
                if on_event is not None:
                    self._container.display_sink.reset_last_overriding()

    def history(self, limit: int | None = None) -> list[history.RunRecord]:
        """The last `limit` recorded runs (all when None), oldest first."""
        with self._lock:
            return self._container.history_log().recent(limit)

    def live(self) -> LiveRun:
        """What the current `pivot run` (in any process) is doing (`.pivot/logs/events.jsonl`)."""
        found, active = self._container.run_events()()
        started = {e["stage"] for e in found if e.get("event") == "stage_started"}
        finished = {e["stage"]: e["status"] for e in found if e.get("event") == "stage_finished"}
        durations = {
            e["stage"]: float(e["duration"]) for e in found if e.get("event") == "stage_finished"
        }
        running = tuple(sorted(started - finished.keys())) if active else ()
        return LiveRun(active, running, finished, durations)

    def plots(self) -> list[Plot]:
        """The workspace's plots, charts drawn to SVG; plots whose data is missing are left out."""
        with self._session():
            service = self._container.compare_service()
            workspace = [service.snapshot(None)]
            draw = self._container.plot_svg()
            found: list[Plot] = []
            for source in service.sources(compare.PLOT, ()):
                try:
                    (figure,) = compare.figures(workspace, [source])
                except errors.PlotError:
                    continue
                svg = draw(figure.spec) if figure.spec is not None else None
                found.append(Plot(figure.title, svg, figure.images))
            return found

    def metrics(self) -> dict[str, dict[str, Any] | None]:
        """Each `Metric` output's values in the workspace, flattened to dotted keys (None when
        the file is not there yet)."""
        with self._session():
            service = self._container.compare_service()
            sources = service.sources(compare.METRIC, ())
            return compare.read_metrics(service, service.snapshot(None), sources)

    def watch_set(self) -> watch.WatchSet:
        """The files whose edits may make a stage stale (for `pivot run --watch`)."""
        with self._session() as graph:
            root = self.root
            files: set[pathlib.Path] = {root / "pyproject.toml"}
            dirs: list[pathlib.Path] = []
            outputs: list[pathlib.Path] = []
            observer = self._container.observer()
            for st in graph.stages.values():
                files.update(st.root / n for n in ("pipeline.py", "pivot.yaml", "params.yaml"))
                for dep in st.dep_paths():
                    if dep.is_dir():
                        dirs.append(dep)
                    else:
                        files.add(dep)
                outputs.extend(o.path for o in st.outs)
                for site in observer.code(st).sites.values():
                    # Relative: a project file (installed packages count by version instead).
                    if site.file and not pathlib.PurePath(site.file).is_absolute():
                        files.add(root / site.file)
            found = watch.WatchSet(root, frozenset(), tuple(dirs), tuple(outputs))
            # An output another stage reads is written by runs: it never starts one.
            kept = frozenset(f for f in files if not found.is_output(f))
            return dataclasses.replace(found, files=kept)

    def close(self) -> None:
        self._container.shutdown_resources()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextlib.contextmanager
    def _session(self) -> Iterator[dag.Dag]:
        """One call: the pipeline as the files say now, linked into its DAG."""
        with self._lock:
            _forget_modules(self.root)
            self._container.reset_singletons()
            yield dag.build(self._container.pipeline().stages, self.root)


def _forget_modules(root: pathlib.Path) -> None:
    """Drop the project's own modules (not a virtualenv inside it) so the next load reads the
    files as they are now."""
    outside = (
        *(pathlib.Path(p).resolve() for p in {sys.prefix, sys.base_prefix, sys.exec_prefix}),
        pathlib.Path(pivot.__file__).resolve().parent,
    )
    for name, module in list(sys.modules.items()):
        file = getattr(module, "__file__", None) if isinstance(module, types.ModuleType) else None
        if not file:
            continue
        location = pathlib.Path(file).resolve()
        if location.is_relative_to(root) and not any(location.is_relative_to(o) for o in outside):
            del sys.modules[name]
