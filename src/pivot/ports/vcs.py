import dataclasses
from collections.abc import Iterable
from typing import Protocol


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
