import stat


class PivotError(Exception):
    """Base of every error Pivot reports to a user as one clear message."""


class ProjectNotFoundError(PivotError):
    """No `.pivot/` directory was found walking up from the working directory."""


class StageDefinitionError(PivotError):
    """A stage function, its annotations or its registration arguments are invalid."""


class PipelineDefinitionError(PivotError):
    """A pipeline file could not be loaded or does not define a pipeline."""


class PipelineNotFoundError(PipelineDefinitionError):
    """No pipeline definition exists in the directory or its parents."""


class CycleError(PivotError):
    """The stages' dependencies form a cycle."""


class OverlapError(PivotError):
    """Two outputs claim the same path, or one output lies inside another."""


class StageNotFoundError(PivotError):
    """A stage name given by the user is not part of the pipeline."""


class TargetError(PivotError):
    """A CLI target (identity or path) does not name anything Pivot knows."""


class CacheCorruptError(PivotError):
    """A cache object's content does not match its digest."""


class CacheMissError(PivotError):
    """A content digest that should be in the cache is not."""


class ArrivedCorruptError(CacheCorruptError):
    """Bytes received for an object hash to something else: the sender's copy is bad."""

    def __init__(self, digest: str) -> None:
        from pivot.domain import layout

        self.digest = digest
        super().__init__(
            f"object {digest} arrived with different content (corrupt at the source); it was "
            + "not stored. Fetching it again brings the same bytes: delete "
            + f"{layout.object_key(digest)} from the remote, then push it again from a clone "
            + "that has it intact"
        )

    def __reduce__(self) -> tuple[type["ArrivedCorruptError"], tuple[str]]:
        # Rebuilt from the digest: a forked helper's failure comes back pickled (ADR 0024).
        return ArrivedCorruptError, (self.digest,)


class LockFileError(PivotError):
    """A lock file exists but cannot be read."""


class OutputError(PivotError):
    """A stage did not produce what it declared."""


class VcsError(PivotError):
    """A version-control question could not be answered."""


class NotARepositoryError(VcsError):
    """The project is not inside a git repository, so revisions mean nothing here."""


class RevisionNotFoundError(VcsError):
    """A revision named by the user (sha, branch, tag, HEAD~n) does not exist."""


class ConfigError(PivotError):
    """A setting in `.pivot/config*.yaml`, the environment or `pivot config` is invalid."""


class ProjectLockedError(PivotError):
    """Another writing command holds the project lock and the caller would not wait."""


class RemoteError(PivotError):
    """A remote cannot be used: not configured, unreachable, access denied, bad URL."""


class RemoteMissError(RemoteError):
    """An object that should be on the remote is not."""


class MetricError(PivotError):
    """A metric file cannot be read as numbers."""


class PlotError(PivotError):
    """A plot's data cannot be drawn as declared (missing column, unknown template…)."""


class LoaderError(PivotError):
    """A loader could not read a dependency or write an output."""


class SpecialFileError(PivotError):
    """A FIFO, socket or device where Pivot expects a file or directory."""

    @classmethod
    def at(cls, path: object, mode: int) -> "SpecialFileError":
        """Reading a FIFO would hang and a device never ends: such paths are refused by name."""
        kind = (
            "a FIFO (named pipe)"
            if stat.S_ISFIFO(mode)
            else "a socket"
            if stat.S_ISSOCK(mode)
            else "a device"
        )
        return cls(
            f"'{path}' is not a regular file but {kind}; Pivot reads only files and directories: "
            + "replace it with a regular file (or remove it)"
        )
