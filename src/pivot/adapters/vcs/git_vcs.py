import functools
import os
import pathlib
import subprocess
from collections.abc import Iterable

from pivot.domain import errors
from pivot.ports import vcs

# Variables a parent git (a hook, `git rebase -x`) may export; they would redirect our commands.
_GIT_ENV = ("GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE", "GIT_PREFIX", "GIT_COMMON_DIR")


class GitVcs:
    """The Vcs port on the `git` command: plumbing only, the working tree is never touched."""

    def __init__(self, root: pathlib.Path) -> None:
        self._root = root
        self._env = {k: v for k, v in os.environ.items() if k not in _GIT_ENV}
        self._env["GIT_OPTIONAL_LOCKS"] = "0"

    def _git(self, *args: str, input: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
        try:
            return subprocess.run(
                ["git", "-C", str(self._root), *args],
                input=input,
                capture_output=True,
                env=self._env,
                check=False,
            )
        except FileNotFoundError:
            raise errors.NotARepositoryError(
                "git is not installed: revisions need the `git` command on PATH"
            ) from None

    @functools.cached_property
    def _prefix(self) -> str:
        """The project root relative to the repository's top level ('' or 'sub/dir/')."""
        done = self._git("rev-parse", "--show-prefix")
        if done.returncode != 0:
            raise errors.NotARepositoryError(
                f"not a git repository: {self._root} (revisions need git history: "
                + "run `git init` and commit your project)"
            )
        return done.stdout.decode().strip()

    def is_repo(self) -> bool:
        """Whether the project lives in a repository with at least one commit."""
        try:
            _ = self._prefix
        except errors.NotARepositoryError:
            return False
        return self._git("rev-parse", "--verify", "--quiet", "HEAD^{commit}").returncode == 0

    def resolve(self, rev: str) -> str:
        """The full commit sha of `rev`; NotARepositoryError or RevisionNotFoundError."""
        _ = self._prefix
        done = self._git(
            "rev-parse", "--verify", "--quiet", "--end-of-options", f"{rev}^{{commit}}"
        )
        if done.returncode != 0 or not rev:
            hint = (
                " (the repository has no commits yet: commit first)"
                if self._git("rev-parse", "--verify", "--quiet", "HEAD").returncode != 0
                else " (see `git log --oneline` or `git branch` for valid revisions)"
            )
            raise errors.RevisionNotFoundError(f"unknown revision '{rev}'{hint}")
        return done.stdout.decode().strip()

    def read(self, rev: str, path: str) -> bytes | None:
        """The file's content at `rev`, or None if no file is there."""
        return self.read_many(rev, [path])[path]

    def read_many(self, rev: str, paths: Iterable[str]) -> dict[str, bytes | None]:
        """Every path's blob at `rev` through one `git cat-file --batch`."""
        sha = self.resolve(rev)
        wanted = list(dict.fromkeys(paths))
        if not wanted:
            return {}
        request = "".join(f"{sha}:{self._prefix}{p}\n" for p in wanted).encode()
        done = self._git("cat-file", "--batch", input=request)
        if done.returncode != 0:
            raise errors.VcsError(f"git cat-file failed: {done.stderr.decode().strip()}")
        out = done.stdout
        found: dict[str, bytes | None] = {}
        pos = 0
        for path in wanted:
            end = out.index(b"\n", pos)
            header = out[pos:end].split()
            pos = end + 1
            if len(header) != 3:  # "<name> missing" or "ambiguous"
                found[path] = None
                continue
            size = int(header[2])
            found[path] = out[pos : pos + size] if header[1] == b"blob" else None
            pos += size + 1
        return found

    def list_files(self, rev: str, directory: str = "") -> list[str]:
        """Every file below `directory` at `rev`, recursively, sorted ([] if absent)."""
        sha = self.resolve(rev)
        spec = f"{self._prefix}{directory.strip('/')}".rstrip("/")
        args = ["ls-tree", "-r", "-z", "--name-only", "--full-tree", sha]
        done = self._git(*args, *(["--", spec] if spec else []))
        if done.returncode != 0:
            raise errors.VcsError(f"git ls-tree failed: {done.stderr.decode().strip()}")
        names = [n.decode() for n in done.stdout.split(b"\0") if n]
        cut = len(self._prefix)
        return sorted(n[cut:] for n in names if n.startswith(self._prefix))

    def commits(self, rev: str = "HEAD", limit: int | None = None) -> list[vcs.Commit]:
        """Commits reachable from `rev`, newest first."""
        sha = self.resolve(rev)
        count = [f"--max-count={limit}"] if limit is not None else []
        done = self._git("log", "-z", "--format=%H%x1f%ct%x1f%s", *count, sha, "--")
        if done.returncode != 0:
            raise errors.VcsError(f"git log failed: {done.stderr.decode().strip()}")
        found: list[vcs.Commit] = []
        for entry in done.stdout.decode().split("\0"):
            if not entry.strip():
                continue
            full, when, subject = entry.strip("\n").split("\x1f", 2)
            found.append(vcs.Commit(sha=full, subject=subject, timestamp=int(when)))
        return found

    def branches(self) -> list[str]:
        """Local branch names, sorted."""
        _ = self._prefix
        done = self._git("for-each-ref", "--format=%(refname:short)", "refs/heads")
        return sorted(done.stdout.decode().split())

    def reachable(self) -> list[str]:
        """Every commit reachable from any ref, as full shas ([] without commits)."""
        _ = self._prefix
        done = self._git("rev-list", "--all")
        if done.returncode != 0:
            raise errors.VcsError(f"git rev-list failed: {done.stderr.decode().strip()}")
        return done.stdout.decode().split()
