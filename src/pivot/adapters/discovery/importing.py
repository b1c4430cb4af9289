import difflib
import importlib
import inspect
import pathlib
import sys
import types
from collections.abc import Callable
from typing import Any

from pivot.domain import errors


def ensure_importable(directory: pathlib.Path) -> None:
    """Put the pipeline directory first on sys.path so modules beside it import by name."""
    entry = str(directory)
    if sys.path and sys.path[0] == entry:
        return
    if entry in sys.path:
        sys.path.remove(entry)
    sys.path.insert(0, entry)


def _local_file(directory: pathlib.Path, top: str) -> pathlib.Path | None:
    for candidate in (directory / f"{top}.py", directory / top):
        if candidate.exists():
            return candidate.resolve()
    return None


def _module_location(module: types.ModuleType) -> pathlib.Path | None:
    file = getattr(module, "__file__", None)
    if file is not None:
        path = pathlib.Path(file).resolve()
        return path.parent if path.name == "__init__.py" else path
    locations = list(getattr(module, "__path__", []))
    return pathlib.Path(locations[0]).resolve() if locations else None


def _forget_shadowed(top: str, directory: pathlib.Path) -> None:
    # A same-named module imported from another pipeline directory (tests, multi-pipeline
    # projects) would otherwise be returned from the cache instead of this directory's file.
    local = _local_file(directory, top)
    loaded = sys.modules.get(top)
    if local is None or loaded is None or _module_location(loaded) == local:
        return
    for name in [n for n in sys.modules if n == top or n.startswith(f"{top}.")]:
        del sys.modules[name]


def import_module(module_name: str, directory: pathlib.Path) -> types.ModuleType:
    """Import `module_name` with `directory` first on sys.path; PipelineDefinitionError if not."""
    ensure_importable(directory)
    _forget_shadowed(module_name.split(".", maxsplit=1)[0], directory)
    importlib.invalidate_caches()
    try:
        return importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        missing = exc.name or ""
        if missing and (module_name == missing or module_name.startswith(f"{missing}.")):
            raise errors.PipelineDefinitionError(
                f"cannot import module '{module_name}': no module '{missing}' in "
                + f"'{directory}' or on sys.path; put {missing.replace('.', '/')}.py beside "
                + "the pipeline file or fix the module name"
            ) from None
        raise _import_failed(module_name, exc) from exc
    except Exception as exc:
        raise _import_failed(module_name, exc) from exc


def _import_failed(module_name: str, exc: Exception) -> errors.PipelineDefinitionError:
    trace = exc.__traceback__
    frames = [] if trace is None else inspect.getinnerframes(trace, context=0)
    frames = [f for f in frames if "importlib" not in f.filename]
    where = f" ({frames[-1].filename}:{frames[-1].lineno})" if frames else ""
    return errors.PipelineDefinitionError(
        f"importing module '{module_name}' raised {type(exc).__name__}: {exc}{where}"
    )


def split_reference(reference: str) -> tuple[str, str]:
    """`module:function` or `module.function` → (module, function)."""
    if ":" in reference:
        module_name, _, attr = reference.partition(":")
    else:
        module_name, _, attr = reference.rpartition(".")
    if not module_name or not attr or any(not part for part in module_name.split(".")):
        raise errors.PipelineDefinitionError(
            f"'{reference}' is not a function reference; write 'module:function' or "
            + "'module.function' (e.g. 'stages.train:run')"
        )
    return module_name, attr


def resolve_function(reference: str, directory: pathlib.Path) -> Callable[..., Any]:
    """The function named by `module:function` (or `module.function`) beside `directory`."""
    module_name, attr = split_reference(reference)
    module = import_module(module_name, directory)
    value: Any = module
    for part in attr.split("."):
        if not hasattr(value, part):
            functions = sorted(
                n
                for n, v in vars(module).items()
                if inspect.isfunction(v) and not n.startswith("_")
            )
            close = difflib.get_close_matches(part, functions, n=1)
            hint = f"did you mean '{close[0]}'? " if close else ""
            raise errors.PipelineDefinitionError(
                f"module '{module_name}' ({_module_location(module)}) has no function "
                + f"'{attr}'; {hint}functions: {', '.join(functions) or 'none'}"
            )
        value = getattr(value, part)
    if not callable(value):
        raise errors.PipelineDefinitionError(
            f"'{reference}' is a {type(value).__name__}, not a function"
        )
    return value
