import dataclasses
import enum
from typing import Any, ClassVar

from pivot.domain import loader as loader_mod

PathSpec = str | tuple[str, ...] | list[str]
"""One path, or several (a list is stored as a tuple)."""


class OutKind(enum.StrEnum):
    OUT = "out"
    METRIC = "metric"
    PLOT = "plot"
    INCREMENTAL = "incremental"
    DIRECTORY = "directory"


def _default_loader() -> loader_mod.Loader[Any]:
    return loader_mod.PathOnly()


@dataclasses.dataclass(frozen=True)
class Dep:
    """An input read by the stage: `Annotated[T, Dep("data/x.csv", loaders.CSV())]`."""

    path: PathSpec
    loader: loader_mod.Loader[Any] = dataclasses.field(default_factory=_default_loader)

    def __post_init__(self) -> None:
        if isinstance(self.path, list):
            object.__setattr__(self, "path", tuple(self.path))


@dataclasses.dataclass(frozen=True)
class PlaceholderDep:
    """A dependency whose path must be supplied at registration (`dep_path_overrides`)."""

    loader: loader_mod.Loader[Any] = dataclasses.field(default_factory=_default_loader)


@dataclasses.dataclass(frozen=True)
class Out:
    """A cached output; without a path the workspace store places it under `data/`."""

    path: PathSpec | None = None
    loader: loader_mod.Loader[Any] = dataclasses.field(default_factory=_default_loader)
    cache: bool = True

    kind: ClassVar[OutKind] = OutKind.OUT


def _document_loader() -> loader_mod.Loader[Any]:
    # The concrete formats (JSON, YAML via ruamel, CSV) live with the other loaders.
    from pivot import loaders

    return loaders.Document()


@dataclasses.dataclass(frozen=True)
class Metric(Out):
    """A small metrics file: not cached (committed to git), still hashed.

    Without a loader, a returned value is written in the format of the path's extension.
    """

    loader: loader_mod.Loader[Any] = dataclasses.field(default_factory=_document_loader)
    cache: bool = False

    kind: ClassVar[OutKind] = OutKind.METRIC


@dataclasses.dataclass(frozen=True)
class Plot(Out):
    """A cached plot data file; x/y/template/title are kept for rendering.

    Without a loader, returned records are written in the format of the path's extension.
    """

    loader: loader_mod.Loader[Any] = dataclasses.field(default_factory=_document_loader)

    x: str | None = None
    y: str | None = None
    template: str | None = None
    title: str | None = None

    kind: ClassVar[OutKind] = OutKind.PLOT


@dataclasses.dataclass(frozen=True)
class IncrementalOut(Out):
    """An output the stage extends: its previous version is restored writable before a run."""

    kind: ClassVar[OutKind] = OutKind.INCREMENTAL


@dataclasses.dataclass(frozen=True)
class DirectoryOut(Out):
    """A directory; the stage returns `{relative_key: value}` saved with the loader."""

    kind: ClassVar[OutKind] = OutKind.DIRECTORY
