import pathlib
import subprocess
from collections.abc import Mapping
from typing import Protocol

import pytest

from pivot.adapters.memory import vcs as memory_vcs
from pivot.adapters.vcs import git_vcs
from pivot.domain import errors
from pivot.ports import vcs


class History(Protocol):
    """A repository the test writes history into, and the port reading it."""

    vcs: vcs.Vcs

    def commit(self, changes: Mapping[str, bytes | None], message: str = "commit") -> str: ...

    def switch(self, branch: str) -> None: ...


class GitHistory:
    """A real git repository; the project root is a subdirectory, as in a monorepo."""

    def __init__(self, top: pathlib.Path) -> None:
        self.top = top
        self.root = top / "project"
        self.root.mkdir(parents=True)
        self._git("init", "-q", "-b", "main")
        (top / "outside.txt").write_text("not in the project\n")
        self.vcs: vcs.Vcs = git_vcs.GitVcs(self.root)

    def _git(self, *args: str) -> str:
        env = {
            "GIT_AUTHOR_NAME": "t",
            "GIT_AUTHOR_EMAIL": "t@example.com",
            "GIT_COMMITTER_NAME": "t",
            "GIT_COMMITTER_EMAIL": "t@example.com",
            "HOME": str(self.top),
            "PATH": "/usr/bin:/bin",
        }
        done = subprocess.run(
            ["git", "-C", str(self.top), *args], env=env, check=True, capture_output=True
        )
        return done.stdout.decode().strip()

    def commit(self, changes: Mapping[str, bytes | None], message: str = "commit") -> str:
        for path, content in changes.items():
            target = self.root / path
            if content is None:
                target.unlink()
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(content)
        self._git("add", "-A")
        self._git("commit", "-q", "--allow-empty", "-m", message)
        return self._git("rev-parse", "HEAD")

    def switch(self, branch: str) -> None:
        self._git("switch", "-q", "-c", branch)


class MemoryHistory:
    def __init__(self) -> None:
        self._memory = memory_vcs.MemoryVcs()
        self.vcs: vcs.Vcs = self._memory

    def commit(self, changes: Mapping[str, bytes | None], message: str = "commit") -> str:
        return self._memory.commit(changes, message)

    def switch(self, branch: str) -> None:
        self._memory.switch(branch)


@pytest.fixture(params=["git", "memory"])
def history(request: pytest.FixtureRequest, tmp_path: pathlib.Path) -> History:
    return GitHistory(tmp_path) if request.param == "git" else MemoryHistory()


def test_an_empty_repository_is_not_usable_and_says_commit_first(history: History) -> None:
    assert not history.vcs.is_repo()
    with pytest.raises(errors.RevisionNotFoundError, match="HEAD"):
        history.vcs.resolve("HEAD")


def test_resolve_names_sha_short_sha_branch_and_ancestors(history: History) -> None:
    first = history.commit({"a.txt": b"1"}, "first")
    second = history.commit({"a.txt": b"2"}, "second")
    assert history.vcs.is_repo()
    assert history.vcs.resolve("HEAD") == second
    assert history.vcs.resolve("main") == second
    assert history.vcs.resolve(first) == first
    assert history.vcs.resolve(first[:8]) == first
    assert history.vcs.resolve("HEAD~1") == first
    assert history.vcs.resolve("HEAD~") == first


@pytest.mark.parametrize("rev", ["nope", "HEAD~5", "deadbeefdeadbeef", "--all"])
def test_an_unknown_revision_is_a_clear_error(history: History, rev: str) -> None:
    history.commit({"a.txt": b"1"})
    with pytest.raises(errors.RevisionNotFoundError, match=f"unknown revision '{rev}'"):
        history.vcs.resolve(rev)


def test_read_gives_each_revisions_bytes_and_none_when_absent(history: History) -> None:
    first = history.commit({"m/metrics.json": b'{"acc": 0.5}', "gone.txt": b"x"})
    second = history.commit({"m/metrics.json": b'{"acc": 0.9}\n', "gone.txt": None})
    assert history.vcs.read(first, "m/metrics.json") == b'{"acc": 0.5}'
    assert history.vcs.read(second, "m/metrics.json") == b'{"acc": 0.9}\n'
    assert history.vcs.read(first, "gone.txt") == b"x"
    assert history.vcs.read(second, "gone.txt") is None
    assert history.vcs.read(second, "m") is None  # a directory is not a file
    assert history.vcs.read(second, "never.txt") is None


def test_read_many_matches_read_including_binary_and_empty_files(history: History) -> None:
    blob = bytes(range(256)) * 40 + b"\n\n"
    sha = history.commit({"b.bin": blob, "e.txt": b"", "sp ace.txt": b"s"})
    got = history.vcs.read_many(sha, ["b.bin", "missing", "e.txt", "sp ace.txt", "b.bin"])
    assert got == {"b.bin": blob, "missing": None, "e.txt": b"", "sp ace.txt": b"s"}
    assert history.vcs.read_many(sha, []) == {}


def test_paths_are_relative_to_the_project_root(history: History) -> None:
    sha = history.commit({"x.txt": b"x"})
    assert history.vcs.list_files(sha) == ["x.txt"]
    assert history.vcs.read(sha, "outside.txt") is None


def test_list_files_walks_a_directory_recursively(history: History) -> None:
    sha = history.commit(
        {
            "p/.pivot/stages/train.json": b"{}",
            "p/.pivot/stages/g/eval.json": b"{}",
            "p/.pivot/stagesx.json": b"{}",
            "top.txt": b"",
        }
    )
    assert history.vcs.list_files(sha, "p/.pivot/stages") == [
        "p/.pivot/stages/g/eval.json",
        "p/.pivot/stages/train.json",
    ]
    assert history.vcs.list_files(sha, "p/.pivot/stages/") == history.vcs.list_files(
        sha, "p/.pivot/stages"
    )
    assert history.vcs.list_files(sha, "absent") == []


def test_commits_are_newest_first_and_limited(history: History) -> None:
    shas = [history.commit({"a": str(i).encode()}, f"change {i}") for i in range(3)]
    found = history.vcs.commits()
    assert [c.sha for c in found] == shas[::-1]
    assert [c.subject for c in found] == ["change 2", "change 1", "change 0"]
    assert found[0].timestamp >= found[-1].timestamp > 0
    assert [c.sha for c in history.vcs.commits(shas[1], limit=1)] == [shas[1]]


def test_branches_are_listed_and_resolvable(history: History) -> None:
    base = history.commit({"a": b"1"})
    history.switch("exp")
    tip = history.commit({"a": b"2"})
    assert history.vcs.branches() == ["exp", "main"]
    assert history.vcs.resolve("main") == base
    assert history.vcs.resolve("exp") == tip == history.vcs.resolve("HEAD")


def test_reachable_covers_every_branch_and_nothing_twice(history: History) -> None:
    assert history.vcs.reachable() == []
    base = history.commit({"a": b"1"})
    main_tip = history.commit({"a": b"2"})
    history.switch("exp")
    exp_tip = history.commit({"b": b"3"})
    found = history.vcs.reachable()
    assert sorted(found) == sorted([base, main_tip, exp_tip])
    assert len(found) == len(set(found))


def test_reading_history_leaves_the_working_tree_alone(tmp_path: pathlib.Path) -> None:
    git = GitHistory(tmp_path)
    first = git.commit({"a.txt": b"old"})
    git.commit({"a.txt": b"new"})
    (git.root / "a.txt").write_text("edited, uncommitted")
    assert git.vcs.read(first, "a.txt") == b"old"
    assert git.vcs.list_files(first) == ["a.txt"]
    assert (git.root / "a.txt").read_text() == "edited, uncommitted"
    assert git._git("status", "--porcelain") == "M project/a.txt"


def test_outside_a_repository_every_question_is_a_clear_error(tmp_path: pathlib.Path) -> None:
    for port in (git_vcs.GitVcs(tmp_path), memory_vcs.MemoryVcs(repo=False)):
        assert not port.is_repo()
        with pytest.raises(errors.NotARepositoryError, match="not a git repository"):
            port.resolve("HEAD")
        with pytest.raises(errors.NotARepositoryError):
            port.branches()
        with pytest.raises(errors.NotARepositoryError):
            port.reachable()
