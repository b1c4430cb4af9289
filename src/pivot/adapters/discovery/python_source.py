import ast
import hashlib
import pathlib
import reprlib
import runpy
import sys
import traceback
import types
from typing import Any

import pivot
from pivot.adapters.discovery import importing
from pivot.domain import errors, pipeline

FILENAME = "pipeline.py"

_DEFINE_HINT = f"{FILENAME} must define `pipeline = Pipeline(...)`"


class PythonPipelineSource:
    """Loads the pipeline that `pipeline.py` builds when run."""

    def find(self, directory: pathlib.Path) -> pathlib.Path | None:
        path = directory / FILENAME
        return path if path.is_file() else None

    def load(self, directory: pathlib.Path) -> pipeline.Pipeline:
        directory = directory.resolve()
        path = self.find(directory)
        if path is None:
            raise errors.PipelineDefinitionError(f"no {FILENAME} in {directory}")
        # Stage modules beside pipeline.py (`import stages`) must import here and in workers.
        importing.ensure_importable(directory)
        try:
            # A name outside sys.modules makes cloudpickle ship pipeline.py's functions by
            # value: workers cannot import pipeline.py as a module.
            namespace = runpy.run_path(str(path), run_name=_module_name(directory))
        except SyntaxError as exc:
            raise errors.PipelineDefinitionError(_syntax_message(exc, directory, path)) from exc
        except errors.PivotError as exc:
            raise errors.PipelineDefinitionError(f"{_origin(exc, directory, path)}: {exc}") from exc
        except (Exception, SystemExit) as exc:
            raise errors.PipelineDefinitionError(
                f"{_origin(exc, directory, path)}: {_describe(exc)}"
            ) from exc
        return _pipeline_from(namespace, path)


def _module_name(directory: pathlib.Path) -> str:
    # Stable per directory, so anything keyed on a function's module stays the same across runs.
    digest = hashlib.sha256(str(directory).encode()).hexdigest()[:12]
    return f"pivot_pipeline_{digest}"


def _display(path: pathlib.Path) -> str:
    try:
        return str(path.relative_to(pathlib.Path.cwd()))
    except (ValueError, OSError):
        return str(path)


def _describe(exc: BaseException) -> str:
    message = str(exc)
    return f"{type(exc).__name__}: {message}" if message else type(exc).__name__


def _outside_user_code() -> tuple[pathlib.Path, ...]:
    # A virtualenv or Pivot itself may live inside the project; their frames are not the user's.
    prefixes = {sys.prefix, sys.base_prefix, sys.exec_prefix}
    return (*(pathlib.Path(p).resolve() for p in prefixes), pathlib.Path(pivot.__file__).parent)


def _origin(exc: BaseException, directory: pathlib.Path, path: pathlib.Path) -> str:
    """`file:line` of the innermost frame in pipeline.py or a module beside it."""
    excluded = _outside_user_code()
    for frame in reversed(traceback.extract_tb(exc.__traceback__)):
        file = pathlib.Path(frame.filename)
        if not file.is_absolute() or not file.is_relative_to(directory):
            continue
        if any(file.is_relative_to(root) for root in excluded):
            continue
        return f"{_display(file)}:{frame.lineno}"
    return _display(path)


def _syntax_message(exc: SyntaxError, directory: pathlib.Path, path: pathlib.Path) -> str:
    if not exc.filename or not pathlib.Path(exc.filename).is_file():
        # Raised by code that pipeline.py ran (compile(), ast.parse()), not by a source file.
        return f"{_origin(exc, directory, path)}: {_describe(exc)}"
    where = f"{_display(pathlib.Path(exc.filename))}:{exc.lineno}"
    if exc.offset:
        where += f":{exc.offset}"
    return f"{where}: {type(exc).__name__}: {exc.msg}"


def _pipeline_from(namespace: dict[str, Any], path: pathlib.Path) -> pipeline.Pipeline:
    if "pipeline" not in namespace:
        others = [k for k, v in namespace.items() if isinstance(v, pipeline.Pipeline)]
        hint = f"; rename `{others[0]}` to `pipeline`" if others else ""
        raise errors.PipelineDefinitionError(f"{_display(path)}: {_DEFINE_HINT}{hint}")
    found = namespace["pipeline"]
    if isinstance(found, pipeline.Pipeline):
        return found
    line = _binding_line(path)
    where = f"{_display(path)}:{line}" if line else _display(path)
    raise errors.PipelineDefinitionError(
        f"{where}: `pipeline` is {_what(found)}, not a Pipeline instance; {_DEFINE_HINT}"
    )


def _what(value: object) -> str:
    if isinstance(value, types.ModuleType):
        return f"the module '{value.__name__}'"
    if isinstance(value, type):
        return f"the class {value.__module__}.{value.__qualname__}"
    return f"a {type(value).__qualname__} ({reprlib.repr(value)})"


def _binding_line(path: pathlib.Path) -> int | None:
    """Line of the last top-level statement binding the name `pipeline`, if any."""
    try:
        tree = ast.parse(path.read_bytes(), filename=str(path))
    except (OSError, SyntaxError, ValueError):
        return None
    line: int | None = None
    for node in tree.body:
        match node:
            case ast.Assign(targets=targets) if any(_is_pipeline_name(t) for t in targets):
                line = node.lineno
            case ast.AnnAssign(target=target) | ast.AugAssign(target=target) if _is_pipeline_name(
                target
            ):
                line = node.lineno
            case ast.Import(names=names) | ast.ImportFrom(names=names) if any(
                (alias.asname or alias.name.split(".")[0]) == "pipeline" for alias in names
            ):
                line = node.lineno
            case ast.FunctionDef(name="pipeline") | ast.ClassDef(name="pipeline"):
                line = node.lineno
            case _:
                pass
    return line


def _is_pipeline_name(target: ast.expr) -> bool:
    return isinstance(target, ast.Name) and target.id == "pipeline"
