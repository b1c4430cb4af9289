import abc
import dataclasses
import pathlib
from typing import Any, ClassVar, Generic, TypeVar

T = TypeVar("T")


@dataclasses.dataclass(frozen=True)
class Loader(abc.ABC, Generic[T]):
    """Reads a dependency into a Python value and writes a returned value to a path.

    Loaders are frozen dataclasses defined at module level: their fields and the code of
    `load`/`save` take part in the stage's code fingerprint.
    """

    extension: ClassVar[str] = ""

    @abc.abstractmethod
    def load(self, path: pathlib.Path) -> T:
        """Read the value stored at `path`."""

    @abc.abstractmethod
    def save(self, value: T, path: pathlib.Path) -> None:
        """Write `value` to `path` (the parent directory exists)."""

    def empty(self) -> Any:
        """The value an IncrementalOut starts from on its first run."""
        return None


@dataclasses.dataclass(frozen=True)
class PathOnly(Loader[pathlib.Path]):
    """Hands the stage the path itself; the stage reads or writes the file."""

    def load(self, path: pathlib.Path) -> pathlib.Path:
        return path

    def save(self, value: pathlib.Path, path: pathlib.Path) -> None:
        if not path.exists():
            raise FileNotFoundError(f"declared output '{path}' was not written by the stage")

    def empty(self) -> pathlib.Path:
        return pathlib.Path()
