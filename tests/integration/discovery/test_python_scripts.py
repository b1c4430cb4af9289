import pathlib

import pytest

from pivot.adapters.discovery import python_scripts


@pytest.fixture
def root(tmp_path: pathlib.Path) -> pathlib.Path:
    for name in (
        "src/train.py",
        "src/eval.py",
        "pkg/__init__.py",
        "pkg/tool.py",
        "app/__main__.py",
    ):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("")
    (tmp_path / "app/__init__.py").write_text("")
    return tmp_path


@pytest.mark.parametrize(
    ("command", "expected"),
    [
        ("python src/train.py --n 3", [("src/train.py", "train", "src")]),
        ("python3 -u src/train.py", [("src/train.py", "train", "src")]),
        ("python3.11 -X dev -W error src/train.py", [("src/train.py", "train", "src")]),
        ("/usr/bin/python ./src/../src/train.py", [("src/train.py", "train", "src")]),
        ("uv run python src/train.py", [("src/train.py", "train", "src")]),
        ("uv run --frozen python src/train.py", [("src/train.py", "train", "src")]),
        ("SEED=1 python src/train.py > out.txt", [("src/train.py", "train", "src")]),
        ("python -m pkg.tool --fast", [("pkg/tool.py", "pkg.tool", ".")]),
        ("python -m app", [("app/__main__.py", "app.__main__", ".")]),
        (
            "python src/train.py && python src/eval.py | tee log",
            [("src/train.py", "train", "src"), ("src/eval.py", "eval", "src")],
        ),
        ("python src/train.py; python src/train.py", [("src/train.py", "train", "src")]),
        ("python -c 'import x' src/train.py", []),
        ("python -m json.tool data.json", []),
        ("python src/missing.py", []),
        ("python ${params.script}", []),
        ("bash run.sh src/train.py", []),
        ("echo python src/train.py", []),
        ("python 'unterminated", []),
    ],
)
def test_find_names_the_project_python_files_a_command_runs(
    root: pathlib.Path, command: str, expected: list[tuple[str, str, str]]
):
    found = python_scripts.find(command, root)

    assert [
        (s.file.relative_to(root).as_posix(), s.module, s.search.relative_to(root).as_posix())
        for s in found
    ] == expected
