import dataclasses
import pathlib
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from pivot.domain import identity, layout, specs
from pivot.domain import loader as loader_mod

if TYPE_CHECKING:
    from pivot.domain import params as params_mod


@dataclasses.dataclass(frozen=True, slots=True)
class DepBinding:
    """A dependency of a registered stage, with absolute paths."""

    name: str
    paths: tuple[pathlib.Path, ...]
    loader: loader_mod.Loader[Any]
    multi: bool = False


@dataclasses.dataclass(frozen=True, slots=True)
class OutBinding:
    """An output of a registered stage, with its absolute workspace path."""

    key: str | None
    path: pathlib.Path
    spec: specs.Out
    placed: bool = False
    """True when the workspace store chose the path (the spec declared none)."""

    @property
    def kind(self) -> specs.OutKind:
        return self.spec.kind

    @property
    def cached(self) -> bool:
        return self.spec.cache

    @property
    def loader(self) -> loader_mod.Loader[Any]:
        return self.spec.loader


@dataclasses.dataclass(frozen=True, slots=True)
class Script:
    """A project Python file a `cmd:` stage runs: code, fingerprinted like a stage function."""

    file: pathlib.Path
    """Absolute path of the file Python runs."""
    module: str
    """The module name it runs as (`train` for `python src/train.py`, `pkg.mod` for `-m`)."""
    search: pathlib.Path
    """The directory first on its `sys.path` (the script's own, or the working directory)."""


@dataclasses.dataclass(frozen=True, slots=True)
class Stage:
    """A stage as registered in a pipeline: function, bound paths, effective params."""

    name: str
    func: Callable[..., Any]
    pipeline: str
    root: pathlib.Path
    deps: tuple[DepBinding, ...]
    outs: tuple[OutBinding, ...]
    params: "params_mod.StageParams | None" = None
    params_arg: str | None = None
    mutex: tuple[str, ...] = ()
    resources: tuple[tuple[str, float], ...] = ()
    """(name, amount) a worker must offer, e.g. (('GPU', 1.0),); honoured by the Dask executor."""
    incremental_args: Mapping[str, specs.IncrementalOut] = dataclasses.field(
        default_factory=dict[str, specs.IncrementalOut]
    )
    state_dir_override: pathlib.Path | None = None
    home_name: str = ""
    """The stage's name in its own pipeline when a merge (`include`) renamed it."""
    scripts: tuple[Script, ...] = ()
    """Python scripts its command runs: their code is fingerprinted, not its function's."""

    @property
    def state_dir(self) -> pathlib.Path:
        """Where this stage's lock file lives: its own pipeline's `.pivot/`."""
        return self.state_dir_override or layout.state_dir(self.root)

    def out_identity(self, out: OutBinding) -> identity.ArtifactIdentity:
        return identity.ArtifactIdentity(self.name, out.key)

    @property
    def lock_name(self) -> str:
        """Name of the lock file and record: stable when a merge renames the stage."""
        return self.home_name or self.name

    def record_key(self, out: OutBinding) -> str:
        """How lock records and the run cache name an output (by the stage's home name)."""
        return str(identity.ArtifactIdentity(self.lock_name, out.key))

    def output_path(self, record_key: str) -> pathlib.Path | None:
        """Where the output a lock record names by `record_key` is declared (None: not declared).

        Files are only ever touched at declared paths: the `path` inside a lock record is
        compared, never used, so a record from an untrusted branch cannot point elsewhere.
        """
        for out in self.outs:
            if self.record_key(out) == record_key:
                return out.path
        return None

    def dep_paths(self) -> list[pathlib.Path]:
        return [p for dep in self.deps for p in dep.paths]

    def params_dict(self) -> dict[str, Any]:
        return {} if self.params is None else self.params.model_dump(mode="json")
