import pathlib
import subprocess

from pivot.adapters.workspace import gitignore


def test_entries_are_anchored_and_escape_glob_characters() -> None:
    assert gitignore.entry_for("model.pkl") == "/model.pkl"
    assert gitignore.entry_for("a*b?[c].txt") == "/a\\*b\\?\\[c].txt"
    assert gitignore.entry_for("trailing ") == "/trailing\\ "


def test_an_entry_is_added_once_after_the_existing_lines() -> None:
    assert gitignore.with_entries("", ["/a"]) == "/a\n"
    assert gitignore.with_entries("*.log", ["/a", "/b", "/a"]) == "*.log\n/a\n/b\n"
    assert gitignore.with_entries("*.log\n/a\n", ["/a"]) is None


def test_git_ignores_exactly_the_path(tmp_path: pathlib.Path) -> None:
    subprocess.run(["git", "init", "-q"], cwd=tmp_path, check=True)
    weird = tmp_path / "data" / "a*[1].csv"
    weird.parent.mkdir()
    weird.write_text("x")
    (tmp_path / "data" / "a1.csv").write_text("y")

    assert gitignore.ignore(weird) is True
    assert gitignore.ignore(weird) is False

    check = subprocess.run(
        ["git", "check-ignore", "data/a*[1].csv", "data/a1.csv"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    assert check.stdout.split() == ["data/a*[1].csv"]


def test_outside_a_git_work_tree_nothing_is_written(tmp_path: pathlib.Path) -> None:
    data = tmp_path / "data.csv"
    data.write_text("x")

    assert gitignore.ignore(data) is False
    assert not (tmp_path / ".gitignore").exists()


def test_many_paths_are_ignored_in_one_call_each_beside_its_own_directory(
    tmp_path: pathlib.Path,
) -> None:
    subprocess.run(["git", "init", "-q"], cwd=tmp_path, check=True)
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / ".gitignore").write_text("*.log")
    paths = [tmp_path / "out" / "a.txt", tmp_path / "b.txt", tmp_path / "out" / "c.txt"]

    assert gitignore.ignore(*paths, paths[0]) is True
    assert gitignore.ignore(*paths) is False

    assert (tmp_path / "out" / ".gitignore").read_text() == "*.log\n/a.txt\n/c.txt\n"
    assert (tmp_path / ".gitignore").read_text() == "/b.txt\n"
