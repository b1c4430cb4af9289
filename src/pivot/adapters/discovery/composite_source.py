import importlib
import pathlib
from collections.abc import Sequence
from typing import Any

from pivot.adapters.discovery import python_source
from pivot.domain import errors
from pivot.domain import pipeline as pipeline_mod
from pivot.ports import pipeline_source

PARAMS_FILE = "params.yaml"


class _Deferred:
    """A source whose module (pydantic, ruamel, tomllib) loads only when its file is present.

    Discovery runs on every command; most directories use one way of defining a pipeline, so
    the others should cost a `stat`, not an import.
    """

    def __init__(self, module: str, cls: str, markers: Sequence[str]) -> None:
        self._module = module
        self._cls = cls
        self._markers = tuple(markers)
        self._source: Any = None

    def _real(self) -> pipeline_source.PipelineSource:
        if self._source is None:
            self._source = getattr(importlib.import_module(self._module), self._cls)()
        return self._source

    def find(self, directory: pathlib.Path) -> pathlib.Path | None:
        if not any((directory / marker).is_file() for marker in self._markers):
            return None
        return self._real().find(directory)

    def load(self, directory: pathlib.Path) -> pipeline_mod.Pipeline:
        return self._real().load(directory)


def _apply_params_file(pipe: pipeline_mod.Pipeline) -> pipeline_mod.Pipeline:
    if not (pipe.root / PARAMS_FILE).is_file():
        return pipe
    from pivot.adapters.discovery import params_file

    return params_file.apply(pipe)


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
        return _apply_params_file(chosen[0].load(directory))

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
        [
            _Deferred(
                "pivot.adapters.discovery.yaml_source",
                "YamlPipelineSource",
                ("pivot.yaml", "pivot.yml"),
            ),
            python_source.PythonPipelineSource(),
        ],
        fallbacks=[
            _Deferred(
                "pivot.adapters.discovery.decorator_source",
                "DecoratorPipelineSource",
                ("pyproject.toml",),
            )
        ],
    )
