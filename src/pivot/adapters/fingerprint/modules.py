import dataclasses
import enum
import importlib.machinery
import importlib.util
import inspect
import os
import pathlib
import sys
from collections.abc import Callable
from typing import Any

_VENDORED_DIRS = frozenset({"site-packages", "dist-packages", ".venv"})
_TOOL_PACKAGE = "pivot"


class Origin(enum.StrEnum):
    USER = "user"
    """Source under the project root: fingerprinted, and followed."""
    THIRD_PARTY = "third_party"
    """Installed elsewhere: recorded as a package version."""
    STDLIB = "stdlib"
    TOOL = "tool"
    """Pivot itself: its loaders are fingerprinted, the rest is the tool, not the user's code."""
    MISSING = "missing"


@dataclasses.dataclass(frozen=True, slots=True)
class ModuleRef:
    """A module as the fingerprinter sees it."""

    name: str
    origin: Origin
    file: str | None = None
    """Absolute path of its source file, when it has one."""
    package: str = ""
    """Package that relative imports in it are resolved against."""
    error: str = ""

    @property
    def top(self) -> str:
        return self.name.partition(".")[0]


class ModuleLocator:
    """Finds modules by name and tells user code from installed code, without importing."""

    def __init__(self, project_root: pathlib.Path, search: tuple[str, ...] = ()) -> None:
        self._root = pathlib.Path(os.path.realpath(project_root))
        self._search = list(search)
        """Directories searched first, as a script's directory is first on its `sys.path`."""
        self._memo: dict[str, ModuleRef] = {}
        self._displayed: dict[str, str] = {}
        self._real: dict[str, str] = {}

    def clear(self) -> None:
        self._memo.clear()

    def is_user_path(self, path: str) -> bool:
        resolved = pathlib.Path(self.real(path))
        if not resolved.is_relative_to(self._root):
            return False
        return not _VENDORED_DIRS.intersection(resolved.relative_to(self._root).parts)

    def display(self, path: str | None) -> str:
        """`path` relative to the project root (POSIX), or absolute when outside it."""
        if not path:
            return ""
        found = self._displayed.get(path)
        if found is None:
            resolved = pathlib.Path(self.real(path))
            if resolved.is_relative_to(self._root):
                found = resolved.relative_to(self._root).as_posix()
            else:
                found = resolved.as_posix()
            self._displayed[path] = found
        return found

    def real(self, path: str) -> str:
        """`os.path.realpath`, remembered: it costs a system call per path component."""
        found = self._real.get(path)
        if found is None:
            found = self._real[path] = os.path.realpath(path)
        return found

    def for_function(self, func: Callable[..., Any]) -> tuple[ModuleRef, str]:
        """The module holding `func`'s source, and its qualified name there.

        Works for functions of a file run with `runpy.run_path`, whose module is not in
        `sys.modules`: the name then comes from the file's path under the project root.
        """
        func = inspect.unwrap(func)
        code = getattr(func, "__code__", None)
        file = self.real(code.co_filename) if code is not None else None
        namespace: dict[str, Any] = getattr(func, "__globals__", {})
        live_name = str(namespace.get("__name__") or getattr(func, "__module__", ""))
        live = sys.modules.get(live_name)
        live_file = getattr(live, "__file__", None)
        if file is not None and live_file and self.real(live_file) == file:
            name = live_name
        elif file is not None:
            name = self._derived_name(file)
        else:
            name = live_name
        package = namespace.get("__package__") or name.rpartition(".")[0]
        ref = ModuleRef(name, Origin.USER, file, str(package))
        return ref, str(getattr(func, "__qualname__", getattr(func, "__name__", "")))

    def locate(self, name: str) -> ModuleRef:
        """The module importable as `name`; parents of a user submodule get imported."""
        found = self._memo.get(name)
        if found is None:
            found = self._memo[name] = self._locate(name)
        return found

    def _locate(self, name: str) -> ModuleRef:
        top = name.partition(".")[0]
        if top in sys.stdlib_module_names or top in sys.builtin_module_names:
            return ModuleRef(name, Origin.STDLIB)
        if self._search:
            spec = find_in(name, self._search)
            # A namespace portion (a bare directory) loses to a module found later on the path.
            if spec is not None and spec.has_location and spec.origin:
                locations = list(spec.submodule_search_locations or [])
                return self._classify(name, spec.origin, locations)
        if top != name:
            # Classify by the top-level package first: finding a submodule imports its parents,
            # which is only acceptable for the user's own packages.
            parent = self.locate(top)
            if parent.origin is not Origin.USER:
                live_file = getattr(sys.modules.get(name), "__file__", None)
                return dataclasses.replace(parent, name=name, file=live_file or parent.file)
        module = sys.modules.get(name)
        if module is not None:
            file = getattr(module, "__file__", None)
            locations = list(getattr(module, "__path__", None) or [])
        else:
            try:
                spec = importlib.util.find_spec(name)
            except Exception as exc:
                return ModuleRef(name, Origin.MISSING, error=f"{type(exc).__name__}: {exc}")
            if spec is None:
                return ModuleRef(name, Origin.MISSING)
            file = spec.origin if spec.has_location else None
            locations = list(spec.submodule_search_locations or [])
        return self._classify(name, file, locations)

    def _classify(self, name: str, file: str | None, locations: list[str]) -> ModuleRef:
        top = name.partition(".")[0]
        package = name if locations else name.rpartition(".")[0]
        file = self.real(file) if file else None
        if top == _TOOL_PACKAGE:
            return ModuleRef(name, Origin.TOOL, file, package)
        if file is not None and file.endswith(".py") and self.is_user_path(file):
            return ModuleRef(name, Origin.USER, file, package)
        if file is None and any(self.is_user_path(loc) for loc in locations):
            return ModuleRef(name, Origin.USER, None, package)
        if file is None and not locations:
            return ModuleRef(name, Origin.STDLIB)
        return ModuleRef(name, Origin.THIRD_PARTY, file, package)

    def _derived_name(self, file: str) -> str:
        path = pathlib.Path(file)
        if path.is_relative_to(self._root):
            path = path.relative_to(self._root)
            parts = (
                path.parent.parts if path.stem == "__init__" else (*path.parent.parts, path.stem)
            )
            return ".".join(parts)
        return path.stem


def find_in(name: str, directories: list[str]) -> importlib.machinery.ModuleSpec | None:
    """Where `name` is found below `directories`, without importing anything."""
    parts = name.split(".")
    try:
        spec = importlib.machinery.PathFinder.find_spec(parts[0], directories)
        for index in range(1, len(parts)):
            if spec is None or not spec.submodule_search_locations:
                return None
            spec = importlib.machinery.PathFinder.find_spec(
                ".".join(parts[: index + 1]), list(spec.submodule_search_locations)
            )
    except (ImportError, ValueError):
        return None
    return spec
