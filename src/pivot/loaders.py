import dataclasses
import json
import pathlib
import pickle
from typing import Any, ClassVar

from pivot.domain.loader import Loader as Loader
from pivot.domain.loader import PathOnly as PathOnly


@dataclasses.dataclass(frozen=True)
class Text(Loader[str]):
    """UTF-8 text."""

    extension: ClassVar[str] = "txt"
    encoding: str = "utf-8"

    def load(self, path: pathlib.Path) -> str:
        return path.read_text(encoding=self.encoding)

    def save(self, value: str, path: pathlib.Path) -> None:
        path.write_text(value, encoding=self.encoding)

    def empty(self) -> str:
        return ""


@dataclasses.dataclass(frozen=True)
class JSON(Loader[Any]):
    """A JSON document (sorted keys, so equal values give equal bytes)."""

    extension: ClassVar[str] = "json"
    indent: int | None = 2

    def load(self, path: pathlib.Path) -> Any:
        with path.open("rb") as f:
            return json.load(f)

    def save(self, value: Any, path: pathlib.Path) -> None:
        path.write_text(json.dumps(value, indent=self.indent, sort_keys=True) + "\n")

    def empty(self) -> Any:
        return {}


@dataclasses.dataclass(frozen=True)
class Pickle(Loader[Any]):
    """Any picklable Python object."""

    extension: ClassVar[str] = "pkl"
    protocol: int = pickle.HIGHEST_PROTOCOL

    def load(self, path: pathlib.Path) -> Any:
        with path.open("rb") as f:
            return pickle.load(f)  # noqa: S301 - the user's own cached data

    def save(self, value: Any, path: pathlib.Path) -> None:
        with path.open("wb") as f:
            pickle.dump(value, f, protocol=self.protocol)
