import pathlib
from collections.abc import Sequence

from pivot.adapters.discovery import (
    decorator_source,
    params_file,
    python_source,
    yaml_source,
)
from pivot.domain import errors
from pivot.domain import pipeline as pipeline_mod
from pivot.ports import pipeline_source


class CompositePipelineSource:
    """Tries sources in order; the primary ones are exclusive, fallbacks fill in when none is
    found. Applies the pipeline root's params.yaml to whatever it loads."""

    def __init__(
        self,
        sources: Sequence[pipeline_source.PipelineSource],
        fallbacks: Sequence[pipeline_source.PipelineSource] = (),
    ) -> None:
        self._sources = tuple(sources)
        self._fallbacks = tuple(fallbacks)

    def find(self, directory: pathlib.Path) -> pathlib.Path | None:
        chosen = self._choose(directory)
        return chosen[1] if chosen is not None else None

    def load(self, directory: pathlib.Path) -> pipeline_mod.Pipeline:
        chosen = self._choose(directory)
        if chosen is None:
            raise errors.PipelineDefinitionError(
                f"no pipeline in '{directory}': create pivot.yaml or pipeline.py (or list "
                + "@stage modules under [tool.pivot] modules in pyproject.toml)"
            )
        return params_file.apply(chosen[0].load(directory))

    def _choose(
        self, directory: pathlib.Path
    ) -> tuple[pipeline_source.PipelineSource, pathlib.Path] | None:
        found = [(s, p) for s in self._sources if (p := s.find(directory)) is not None]
        if len(found) > 1:
            names = " and ".join(p.name for _, p in found)
            raise errors.PipelineDefinitionError(
                f"'{directory}' holds both {names}; a directory defines its pipeline one way: "
                + "keep one file and delete or rename the other"
            )
        if found:
            return found[0]
        for source in self._fallbacks:
            path = source.find(directory)
            if path is not None:
                return source, path
        return None


def default() -> CompositePipelineSource:
    """pivot.yaml → pivot.yml → pipeline.py → `@stage` modules named in pyproject.toml."""
    return CompositePipelineSource(
        [yaml_source.YamlPipelineSource(), python_source.PythonPipelineSource()],
        fallbacks=[decorator_source.DecoratorPipelineSource()],
    )
