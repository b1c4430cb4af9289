import contextlib
import dataclasses
import os
import pathlib
import sys
import types
from collections.abc import Iterator

from pivot.app import ignore
from pivot.domain import dag, errors, paths, placement, stage
from pivot.domain import pipeline as pipeline_mod
from pivot.ports import pipeline_source, workspace_store

ALL_PIPELINES = "all"


class PipelineLoader:
    """Loads each pipeline directory at most once per invocation."""

    def __init__(
        self,
        source: pipeline_source.PipelineSource,
        project_root: pathlib.Path,
        workspace: workspace_store.WorkspaceStore,
    ) -> None:
        self._source = source
        self._root = project_root
        self.workspace = workspace
        self._real_root = project_root.resolve()
        self._loaded: dict[pathlib.Path, pipeline_mod.Pipeline] = {}
        self._graphs: dict[pathlib.Path, dag.Dag] = {}
        self._directories: list[pathlib.Path] | None = None

    @property
    def project_root(self) -> pathlib.Path:
        return self._root

    def defines_pipeline(self, directory: pathlib.Path) -> bool:
        return self._source.find(directory) is not None

    def load(self, directory: pathlib.Path, *, isolated: bool) -> pipeline_mod.Pipeline:
        """The pipeline in `directory`; `isolated` keeps its modules out of `sys.modules`."""
        directory = directory.resolve()
        found = self._loaded.get(directory)
        if found is None:
            with (
                _isolated_modules(directory, self.workspace)
                if isolated
                else contextlib.nullcontext()
            ):
                found = self._source.load(directory)
            self._check_inside_project(found, directory)
            self._loaded[directory] = found
        return found

    def _check_inside_project(self, pipe: pipeline_mod.Pipeline, directory: pathlib.Path) -> None:
        for st in pipe.stages.values():
            for out in st.outs:
                raw = paths.relative(out.path, st.root)
                try:
                    paths.check_inside_project(st.name, raw, out.path, self._root)
                    # Lexically inside, but a symlinked directory on the way may lead out (a
                    # symlink at the output path itself is replaced, never followed).
                    real = out.path.parent.resolve() / out.path.name
                    if not paths.is_within(real, self._real_root):
                        raise errors.StageDefinitionError(
                            f"stage '{st.name}': output '{raw}' leads through a symlink to "
                            + f"'{real}', outside the project '{self._root}'; outputs must "
                            + "stay inside the project (replace the symlink or the path)"
                        )
                except errors.StageDefinitionError as exc:
                    where = self._source.find(directory) or directory
                    raise errors.StageDefinitionError(f"{where}: {exc}") from None

    def graph(self, directory: pathlib.Path) -> dag.Dag:
        directory = directory.resolve()
        found = self._graphs.get(directory)
        if found is None:
            found = self._graphs[directory] = dag.build(
                self.load(directory, isolated=True).stages, self._root
            )
        return found

    def project_directories(self) -> list[pathlib.Path]:
        """Every directory of the project that defines a pipeline, parents first, sorted."""
        if self._directories is None:
            found: list[pathlib.Path] = []
            for directory, _dirs, _files in ignore.load(self._root, self.workspace).walk():
                if self.defines_pipeline(directory):
                    found.append(directory.resolve())
            self._directories = found
        return self._directories


def nearest_pipeline_directory(loader: PipelineLoader, start: pathlib.Path) -> pathlib.Path | None:
    """`start` or its closest parent (up to the project root) that defines a pipeline."""
    for directory in (start, *start.parents):
        if loader.defines_pipeline(directory):
            return directory
        if directory == loader.project_root:
            break
    return None


def with_producers(
    pipe: pipeline_mod.Pipeline, loader: PipelineLoader, home: pathlib.Path
) -> pipeline_mod.Pipeline:
    """`pipe` plus, from other pipelines, the producers of paths it needs and their upstream."""
    result = pipeline_mod.Pipeline(pipe.name, root=pipe.root)
    result.include(pipe)
    produced = {o.path for st in result.stages.values() for o in st.outs}
    searched = {home.resolve()}
    todo = [(p, st) for st in result.stages.values() for p in st.dep_paths()]
    while todo:
        path, consumer = todo.pop(0)
        if _is_produced(path, produced) or _is_plain_input(path, loader.workspace):
            continue
        found = _find_producer(path, consumer, loader, searched)
        if found is None:
            continue
        directory, names = found
        source = loader.load(directory, isolated=True)
        subset = pipeline_mod.Pipeline(source.name, root=source.root)
        for name in loader.graph(directory).ordered(names):
            subset.add(source.stages[name])
        for added in result.include(subset):
            produced.update(o.path for o in added.outs)
            todo.extend((p, added) for p in added.dep_paths())
    return result


def _is_produced(path: pathlib.Path, produced: set[pathlib.Path]) -> bool:
    return any(candidate in produced for candidate in (path, *path.parents))


def _is_plain_input(path: pathlib.Path, workspace: workspace_store.WorkspaceStore) -> bool:
    # Files on disk and `.pvt`-tracked data are inputs: only missing paths need a producer.
    return any(_found(workspace, p) for p in (path, path.with_name(f"{path.name}.pvt")))


def _found(workspace: workspace_store.WorkspaceStore, path: pathlib.Path) -> bool:
    """Whether a file or directory is at `path` (links followed, as `Path.exists`)."""
    try:
        workspace.stat(path)
    except (OSError, ValueError):
        return False
    return True


def _find_producer(
    path: pathlib.Path,
    consumer: stage.Stage,
    loader: PipelineLoader,
    searched: set[pathlib.Path],
) -> tuple[pathlib.Path, set[str]] | None:
    """The closest other pipeline producing `path`: its directory and the stages to include."""
    root = loader.project_root
    parents = [d for d in consumer.root.parents if d == root or root in d.parents]
    for candidate in (*parents, *loader.project_directories()):
        directory = candidate.resolve()
        if directory in searched or not loader.defines_pipeline(directory):
            continue
        try:
            graph = loader.graph(directory)
        except errors.PivotError as exc:
            raise errors.PipelineDefinitionError(
                f"while looking for the stage that writes '{os.path.relpath(path, root)}' "
                + f"(needed by stage '{consumer.name}'): {exc}"
            ) from exc
        producer = graph.producer_of(path)
        if producer is not None:
            return directory, graph.ancestors([producer.stage])
    return None


def merge_all(loader: PipelineLoader, start: pathlib.Path) -> pipeline_mod.Pipeline:
    """Every pipeline of the project in one pipeline named `all` (colliding names prefixed)."""
    home = nearest_pipeline_directory(loader, start)
    if home is not None:
        # The pipeline the user stands in loads as usual; the others stay out of sys.modules.
        loader.load(home, isolated=False)
    directories = loader.project_directories()
    if not directories:
        raise errors.PipelineDefinitionError(
            f"no pipeline found anywhere in the project '{loader.project_root}': create "
            + "pipeline.py (defining `pipeline = Pipeline(...)`) or pivot.yaml"
        )
    merged = pipeline_mod.Pipeline(ALL_PIPELINES, root=loader.project_root)
    for directory in directories:
        merged.include(loader.load(directory, isolated=True))
    return _placed_under(merged)


def _placed_under(merged: pipeline_mod.Pipeline) -> pipeline_mod.Pipeline:
    """Re-place outputs declared without a path under the merged pipeline's name."""
    moved: dict[pathlib.Path, pathlib.Path] = {}
    outs: dict[str, tuple[stage.OutBinding, ...]] = {}
    for st in merged.stages.values():
        bound: list[stage.OutBinding] = []
        for out in st.outs:
            if out.placed:
                path = placement.default_output_path(
                    merged.root, merged.name, st.name, out.key, out.spec
                )
                moved[out.path] = path
                bound.append(dataclasses.replace(out, path=path))
            else:
                bound.append(out)
        outs[st.name] = tuple(bound)
    result = pipeline_mod.Pipeline(merged.name, root=merged.root)
    for st in merged.stages.values():
        deps = tuple(
            dataclasses.replace(d, paths=tuple(moved.get(p, p) for p in d.paths)) for d in st.deps
        )
        result.add(dataclasses.replace(st, outs=outs[st.name], deps=deps))
    return result


def _module_location(module: types.ModuleType) -> pathlib.Path | None:
    file = getattr(module, "__file__", None)
    if file:
        return pathlib.Path(file).resolve()
    locations = list(getattr(module, "__path__", None) or [])
    return pathlib.Path(locations[0]).resolve() if locations else None


def _is_local(name: str, module: types.ModuleType, directory: pathlib.Path) -> bool:
    """True when `name` was imported from `directory` (`name.py` or a package there)."""
    location = _module_location(module)
    if location is None or not location.is_relative_to(directory):
        return False
    top = name.partition(".")[0]
    first = location.relative_to(directory).parts[:1]
    return first in ((f"{top}.py",), (top,))


def _is_package(workspace: workspace_store.WorkspaceStore, path: str) -> bool:
    return _found(workspace, pathlib.Path(path, "__init__.py"))


@contextlib.contextmanager
def _isolated_modules(
    directory: pathlib.Path, workspace: workspace_store.WorkspaceStore
) -> Iterator[None]:
    """Load a pipeline without letting its modules shadow same-named ones of other pipelines.

    Same-named modules imported from elsewhere (another pipeline's `stages`) step aside while
    the pipeline loads and come back afterwards; the pipeline's own modules are then dropped
    from `sys.modules`, so their functions travel to workers by value and never collide.
    """
    saved_path = list(sys.path)
    _, dirnames, filenames = next(iter(workspace.walk(directory)), ("", [], []))
    local_names = {name.removesuffix(".py") for name in filenames if name.endswith(".py")} | {
        name for name in dirnames if _is_package(workspace, os.path.join(directory, name))
    }
    stepped_aside = {
        name: module
        for name, module in list(sys.modules.items())
        if name.partition(".")[0] in local_names and not _is_local(name, module, directory)
    }
    for name in stepped_aside:
        del sys.modules[name]
    before = set(sys.modules)
    try:
        yield
    finally:
        for name in [n for n in sys.modules if n not in before]:
            module = sys.modules[name]
            if isinstance(module, types.ModuleType) and _is_local(name, module, directory):
                del sys.modules[name]
        sys.modules.update(stepped_aside)
        sys.path[:] = saved_path
