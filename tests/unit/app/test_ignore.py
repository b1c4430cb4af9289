import pathlib

import pytest

from pivot.adapters.memory import content_cache as memory_cache
from pivot.adapters.memory import workspace_store as memory_workspace
from pivot.adapters.workspace import file_workspace_store
from pivot.app import artifacts, ignore
from pivot.domain import errors

WORKSPACE = file_workspace_store.FileWorkspaceStore(memory_cache.MemoryContentCache())


def _dirs(root: pathlib.Path, *names: str) -> None:
    for name in names:
        (root / name).mkdir(parents=True)


def _walked(rules: ignore.Ignore, root: pathlib.Path) -> list[str]:
    return [here.relative_to(root).as_posix() for here, _, _ in rules.walk()]


def test_built_in_rules_skip_hidden_bytecode_and_environments(tmp_path: pathlib.Path) -> None:
    _dirs(tmp_path, ".git/x", ".pivot/cache", "a/__pycache__", "node_modules/p", "venv/lib", "a/b")

    assert _walked(ignore.load(tmp_path, WORKSPACE), tmp_path) == [".", "a", "a/b"]


def test_pivotignore_adds_and_reincludes_with_gitignore_syntax(tmp_path: pathlib.Path) -> None:
    _dirs(tmp_path, "archive/old", "data/raw/x", "data/clean", ".config/pipes")
    (tmp_path / ".pivotignore").write_text("# old runs\narchive/\ndata/raw/\n!.config/\n")

    assert _walked(ignore.load(tmp_path, WORKSPACE), tmp_path) == [
        ".",
        ".config",
        ".config/pipes",
        "data",
        "data/clean",
    ]


def test_unreadable_pivotignore_is_one_clear_error(tmp_path: pathlib.Path) -> None:
    (tmp_path / ".pivotignore").write_bytes(b"\xff\xfe bad")

    with pytest.raises(errors.PivotError, match=r"\.pivotignore: cannot read ignore rules"):
        ignore.load(tmp_path, WORKSPACE)


@pytest.mark.parametrize(
    "rel",
    [
        "a",
        "a/b",
        ".git",
        ".git/objects",
        "a/.hidden",
        "a/.hidden/b",
        "a/__pycache__",
        "node_modules/p/q",
        "src/venv",
        "venvs",
        "my.data",
        "a/b.c",
    ],
)
def test_built_in_rules_without_pathspec_match_gitignore(tmp_path: pathlib.Path, rel: str) -> None:
    import pathspec

    spec = pathspec.GitIgnoreSpec.from_lines(ignore.BUILT_IN)

    assert ignore.Ignore(tmp_path, WORKSPACE).skips(tmp_path / rel) == spec.match_file(rel + "/")


def test_rules_and_tracked_files_on_an_in_memory_workspace() -> None:
    ws = memory_workspace.MemoryWorkspaceStore(memory_cache.MemoryContentCache())
    root = pathlib.Path("/project")
    manifest = b'{"hash": "%s", "path": "%s", "size": 1}'
    ws.write_atomic(root / ".pivotignore", b"archive/\n")
    ws.write_atomic(root / "data" / "a.csv.pvt", manifest % (b"a" * 32, b"a.csv"))
    ws.write_atomic(root / "archive" / "old.csv.pvt", manifest % (b"b" * 32, b"old.csv"))
    ws.write_atomic(root / ".hidden" / "h.csv.pvt", manifest % (b"c" * 32, b"h.csv"))
    ws.make_dirs(root / "node_modules" / "x")

    walked = [here.relative_to(root).as_posix() for here, _, _ in ignore.load(root, ws).walk()]
    tracked = artifacts.find_tracked(root, ws)

    assert walked == [".", "data"]
    assert [(t.path, t.digest) for t in tracked] == [(root / "data" / "a.csv", "a" * 32)]
