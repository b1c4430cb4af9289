import pathlib

from pivot.app import artifacts, pipelines
from pivot.domain import errors, layout, pipeline
from pivot.ports import pipeline_source, workspace_store

DVC_PIPELINE = "dvc.yaml"


def find_root(start: pathlib.Path) -> pathlib.Path:
    """The project root: the top-most directory holding `.pivot/` at or above `start`."""
    found: pathlib.Path | None = None
    for directory in (start, *start.parents):
        if layout.state_dir(directory).is_dir():
            found = directory
    if found is None:
        raise errors.ProjectNotFoundError(
            f"not inside a Pivot project: no {layout.STATE_DIR}/ directory in '{start}' or any "
            + "parent; "
            + (dvc_hint(start, start.anchor) or "run `pivot init` in your project's root directory")
        )
    return found


def dvc_hint(start: pathlib.Path, stop: pathlib.Path | str) -> str:
    """How to bring over a DVC pipeline found at or above `start` (up to `stop`), or ""."""
    for directory in (start, *start.parents):
        if (directory / DVC_PIPELINE).is_file():
            where = "" if directory == start else f" in '{directory}'"
            return (
                f"found a DVC pipeline ({DVC_PIPELINE}){where}: run `pivot import-dvc` there "
                + "to convert it to pivot.yaml"
            )
        if directory == pathlib.Path(stop):
            break
    return ""


def init(directory: pathlib.Path) -> bool:
    """Create `.pivot/` in `directory`; False when it already existed."""
    state = layout.state_dir(directory)
    existed = state.is_dir()
    state.mkdir(parents=True, exist_ok=True)
    gitignore = layout.state_gitignore(directory)
    if not gitignore.exists():
        gitignore.write_text(layout.GITIGNORE)
    return not existed


def find_pipeline(
    source: pipeline_source.PipelineSource,
    start: pathlib.Path,
    project_root: pathlib.Path,
    workspace: workspace_store.WorkspaceStore,
    all_pipelines: bool = False,
) -> pipeline.Pipeline | None:
    """The pipeline of `start` (or its nearest parent) plus the producers it needs elsewhere.

    With `all_pipelines`, every pipeline of the project merged into one named `all`. None when
    no pipeline is defined yet.
    """
    loader = pipelines.PipelineLoader(source, project_root, workspace)
    if all_pipelines:
        return pipelines.merge_all(loader, start)
    directory = pipelines.nearest_pipeline_directory(loader, start)
    if directory is None:
        return None
    return pipelines.with_producers(loader.load(directory, isolated=False), loader, directory)


def require_pipeline(
    found: pipeline.Pipeline | None, start: pathlib.Path, project_root: pathlib.Path
) -> pipeline.Pipeline:
    if found is None:
        raise errors.PipelineNotFoundError(
            f"no pipeline found in '{start}' or its parents up to the project root "
            + f"'{project_root}': "
            + (
                dvc_hint(start, project_root)
                or "create pipeline.py (defining `pipeline = Pipeline(...)`) or pivot.yaml, "
                + "or version data files with `pivot track PATH`"
            )
        )
    return found


def pipeline_or_tracked(
    found: pipeline.Pipeline | None,
    start: pathlib.Path,
    project_root: pathlib.Path,
    workspace: workspace_store.WorkspaceStore,
) -> pipeline.Pipeline:
    """`status` and `verify`: a data-only project (tracked files, no stages) has an empty pipeline.

    With neither stages nor tracked data, say how to start instead.
    """
    if found is None and not artifacts.find_tracked(project_root, workspace):
        return require_pipeline(found, start, project_root)
    return pipeline_or_empty(found, project_root)


def pipeline_or_empty(
    found: pipeline.Pipeline | None, project_root: pathlib.Path
) -> pipeline.Pipeline:
    """Data commands (track, checkout, gc) work before the first stage is written."""
    return found if found is not None else pipeline.Pipeline(project_root.name, root=project_root)
