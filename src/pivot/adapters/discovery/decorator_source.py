import inspect
import pathlib
import sys
import tomllib
from collections.abc import Callable
from typing import Any

from pivot import registry
from pivot.adapters.discovery import declaration, function_stage, importing, yaml_document
from pivot.domain import errors
from pivot.domain import pipeline as pipeline_mod

FILE_NAME = "pyproject.toml"


class DecoratorPipelineSource:
    """Builds a pipeline from `@stage` functions in the modules listed under `[tool.pivot]`."""

    def find(self, directory: pathlib.Path) -> pathlib.Path | None:
        path = directory / FILE_NAME
        if not path.is_file():
            return None
        return path if _settings(path).get("modules") else None

    def load(self, directory: pathlib.Path) -> pipeline_mod.Pipeline:
        directory = directory.resolve()
        path = self.find(directory)
        if path is None:
            raise errors.PipelineDefinitionError(
                f"no [tool.pivot] modules = [...] in '{directory / FILE_NAME}'"
            )
        settings = _settings(path)
        modules = _modules(settings, path)
        for module_name in modules:
            try:
                importing.import_module(module_name, directory)
            except errors.PipelineDefinitionError as exc:
                raise errors.PipelineDefinitionError(
                    f"{yaml_document.display(path)}: [tool.pivot] modules: {exc}"
                ) from None
        name = settings.get("pipeline", directory.name)
        if not isinstance(name, str) or not name:
            raise errors.PipelineDefinitionError(
                f"{yaml_document.display(path)}: [tool.pivot] pipeline must be a non-empty string"
            )
        pipe = pipeline_mod.Pipeline(name, root=directory)
        for entry in registry.registered():
            if _listed(entry.func, modules) and _current(entry.func):
                _register(pipe, entry)
        return pipe


def _settings(path: pathlib.Path) -> dict[str, Any]:
    text = path.read_text(encoding="utf-8")
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        if "[tool.pivot]" not in text:
            return {}  # a broken pyproject.toml that does not configure Pivot is not ours
        raise errors.PipelineDefinitionError(
            f"{yaml_document.display(path)}: invalid TOML: {exc}"
        ) from None
    settings = data.get("tool", {}).get("pivot", {})
    return settings if isinstance(settings, dict) else {}  # pyright: ignore[reportUnknownVariableType]


def _modules(settings: dict[str, Any], path: pathlib.Path) -> list[str]:
    modules = settings.get("modules")
    if not isinstance(modules, list) or not all(isinstance(m, str) and m for m in modules):  # pyright: ignore[reportUnknownVariableType]
        raise errors.PipelineDefinitionError(
            f"{yaml_document.display(path)}: [tool.pivot] modules must be a list of module "
            + 'names, e.g. modules = ["stages"]'
        )
    return list(modules)  # pyright: ignore[reportUnknownArgumentType]


def _listed(func: Callable[..., Any], modules: list[str]) -> bool:
    module = getattr(func, "__module__", "") or ""
    return any(module == m or module.startswith(f"{m}.") for m in modules)


def _current(func: Callable[..., Any]) -> bool:
    # Entries of a module imported earlier from another directory, or since edited, are stale.
    module = sys.modules.get(getattr(func, "__module__", "") or "")
    return module is not None and getattr(module, func.__name__, None) is func


def _where(func: Callable[..., Any]) -> str:
    try:
        file = inspect.getsourcefile(func)
    except TypeError:
        file = None
    code = getattr(func, "__code__", None)
    if file is None:
        return getattr(func, "__module__", "?")
    line = f":{code.co_firstlineno}" if code is not None else ""
    return f"{yaml_document.display(pathlib.Path(file))}{line}"


def _register(pipe: pipeline_mod.Pipeline, entry: registry.StageEntry) -> None:
    name = entry.name or entry.func.__name__
    # @stage(params=TrainParams) names the type; its defaults are the params.
    params = None if isinstance(entry.params, type) else entry.params
    try:
        function_stage.register(
            pipe,
            entry.func,
            name=name,
            deps=entry.deps,
            outs=entry.outs,
            metrics=entry.metrics,
            plots=entry.plots,
            params=params,
            mutex=entry.mutex,
        )
    except declaration.DeclarationError as exc:
        raise errors.PipelineDefinitionError(
            f"{_where(entry.func)}: @stage '{name}': {exc}"
        ) from None
    except errors.PivotError as exc:
        raise errors.PipelineDefinitionError(f"{_where(entry.func)}: {exc}") from None
