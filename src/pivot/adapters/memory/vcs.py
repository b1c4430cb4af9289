import hashlib
import re
from collections.abc import Iterable, Mapping

from pivot.domain import errors
from pivot.ports import vcs

_ANCESTOR = re.compile(r"^(?P<base>.+?)~(?P<n>\d*)$")


class MemoryVcs:
    """A linear in-memory history for unit tests: each commit is a full snapshot of files."""

    def __init__(self, *, repo: bool = True) -> None:
        self._repo = repo
        self._snapshots: dict[str, dict[str, bytes]] = {}
        self._parents: dict[str, str | None] = {}
        self._info: dict[str, vcs.Commit] = {}
        self._branches: dict[str, str] = {}
        self._head = "main"
        self._clock = 1_700_000_000

    def commit(self, changes: Mapping[str, bytes | None], message: str = "commit") -> str:
        """Commit the last snapshot updated by `changes` (None deletes) on the current branch."""
        parent = self._branches.get(self._head)
        files = dict(self._snapshots[parent]) if parent else {}
        for path, content in changes.items():
            if content is None:
                files.pop(path, None)
            else:
                files[path] = content
        self._clock += 1
        digest = hashlib.sha1(f"{parent}{message}{self._clock}{sorted(files.items())}".encode())
        sha = digest.hexdigest()
        self._snapshots[sha] = files
        self._parents[sha] = parent
        self._info[sha] = vcs.Commit(sha=sha, subject=message, timestamp=self._clock)
        self._branches[self._head] = sha
        return sha

    def switch(self, branch: str) -> None:
        """Make `branch` current, creating it at the current commit if new (`git switch -c`)."""
        if branch not in self._branches and self._head in self._branches:
            self._branches[branch] = self._branches[self._head]
        self._head = branch

    def is_repo(self) -> bool:
        """Whether the project lives in a repository with at least one commit."""
        return self._repo and bool(self._snapshots)

    def resolve(self, rev: str) -> str:
        """The full commit sha of `rev`; NotARepositoryError or RevisionNotFoundError."""
        if not self._repo:
            raise errors.NotARepositoryError("not a git repository (memory)")
        sha = self._resolve(rev)
        if sha is None:
            raise errors.RevisionNotFoundError(f"unknown revision '{rev}'")
        return sha

    def _resolve(self, rev: str) -> str | None:
        if m := _ANCESTOR.match(rev):
            sha = self._resolve(m["base"])
            for _ in range(int(m["n"] or 1)):
                sha = self._parents.get(sha) if sha else None
            return sha
        if rev == "HEAD":
            return self._branches.get(self._head)
        if rev in self._branches:
            return self._branches[rev]
        matches = [s for s in self._snapshots if len(rev) >= 4 and s.startswith(rev)]
        return matches[0] if len(matches) == 1 else None

    def read(self, rev: str, path: str) -> bytes | None:
        """The file's content at `rev`, or None if no file is there."""
        return self._snapshots[self.resolve(rev)].get(path)

    def read_many(self, rev: str, paths: Iterable[str]) -> dict[str, bytes | None]:
        """`read` for many paths at once."""
        files = self._snapshots[self.resolve(rev)]
        return {p: files.get(p) for p in paths}

    def list_files(self, rev: str, directory: str = "") -> list[str]:
        """Every file below `directory` at `rev`, recursively, sorted ([] if absent)."""
        prefix = directory.strip("/")
        files = self._snapshots[self.resolve(rev)]
        return sorted(p for p in files if not prefix or p.startswith(prefix + "/"))

    def commits(self, rev: str = "HEAD", limit: int | None = None) -> list[vcs.Commit]:
        """Commits reachable from `rev`, newest first."""
        found: list[vcs.Commit] = []
        sha: str | None = self.resolve(rev)
        while sha is not None and (limit is None or len(found) < limit):
            found.append(self._info[sha])
            sha = self._parents[sha]
        return found

    def branches(self) -> list[str]:
        """Local branch names, sorted."""
        if not self._repo:
            raise errors.NotARepositoryError("not a git repository (memory)")
        return sorted(self._branches)

    def reachable(self) -> list[str]:
        """Every commit reachable from any branch, as full shas."""
        found: dict[str, None] = {}
        for branch in self.branches():
            sha: str | None = self._branches[branch]
            while sha is not None and sha not in found:
                found[sha] = None
                sha = self._parents[sha]
        return list(found)
