import dataclasses
from collections.abc import Iterable
from typing import Protocol

from pivot.domain import lock, stage


@dataclasses.dataclass(frozen=True, slots=True)
class Commit:
    sha: str
    subject: str
    timestamp: int
    """Committer time, seconds since the epoch."""


class Vcs(Protocol):
    """Read-only view of the project's history; never touches the working tree.

    Paths are POSIX strings relative to the project root (which may sit below the repository's
    top level); revisions are anything git accepts (sha, short sha, branch, tag, HEAD~2).
    """

    def is_repo(self) -> bool:
        """Whether the project lives in a repository with at least one commit."""
        ...

    def resolve(self, rev: str) -> str:
        """The full commit sha of `rev`; NotARepositoryError or RevisionNotFoundError."""
        ...

    def read(self, rev: str, path: str) -> bytes | None:
        """The file's content at `rev`, or None if no file is there."""
        ...

    def read_many(self, rev: str, paths: Iterable[str]) -> dict[str, bytes | None]:
        """`read` for many paths at once (one process for the git adapter)."""
        ...

    def list_files(self, rev: str, directory: str = "") -> list[str]:
        """Every file below `directory` at `rev`, recursively, sorted ([] if absent)."""
        ...

    def commits(self, rev: str = "HEAD", limit: int | None = None) -> list[Commit]:
        """Commits reachable from `rev`, newest first."""
        ...

    def branches(self) -> list[str]:
        """Local branch names, sorted."""
        ...

    def reachable(self) -> list[str]:
        """Every commit reachable from any ref (branches, tags, remote branches, HEAD), as
        full shas; [] in a repository without commits, NotARepositoryError outside one."""
        ...


class Snapshot(Protocol):
    """The project as of one revision, or as the working tree is now (read-only)."""

    label: str
    """How displays name it: `workspace`, or the revision as the user wrote it."""

    def read(self, path: str) -> bytes | None:
        """A project file's bytes (path relative to the project root), or None if absent."""
        ...

    def lock_record(self, st: stage.Stage) -> lock.LockRecord | None:
        """The stage's lock record in this snapshot, or None if it had not run."""
        ...

    def output(self, st: stage.Stage, out: stage.OutBinding) -> bytes | None:
        """A file output's bytes: the committed file, else its cached object; None if neither."""
        ...
