import json
import pathlib
import re
import shlex

import pytest

from tests.e2e.conftest import Project

README = pathlib.Path(__file__).parents[2] / "README.md"
_BLOCK = re.compile(r"```(\w+)\n(.*?)```", re.DOTALL)


def quickstart_blocks() -> list[tuple[str, str]]:
    """The (language, code) blocks of the README's Quickstart section, in order."""
    text = README.read_text()
    section = text.split("\n## Quickstart\n", 1)[1].split("\n## ", 1)[0]
    return [(m.group(1), m.group(2)) for m in _BLOCK.finditer(section)]


def test_the_readme_quickstart_runs_as_written(tmp_path: pathlib.Path) -> None:
    blocks = quickstart_blocks()
    files = [code for lang, code in blocks if lang == "python"]
    commands = [
        shlex.split(line.split("#", 1)[0])
        for lang, code in blocks
        if lang == "bash"
        for line in code.splitlines()
        if line.split("#", 1)[0].strip()
    ]
    assert files, "the Quickstart lost its python block"
    assert commands, "the Quickstart lost its bash block"
    project = Project(tmp_path / "my_project")
    project.root.mkdir()
    for code in files:
        name = code.splitlines()[0].removeprefix("#").strip()  # each block starts `# name.py`
        assert name.endswith(".py"), f"a quickstart block must start with '# file.py': {name!r}"
        project.write(name, code)
    assert [c[0] for c in commands] == ["pivot", "pivot", "pivot"]

    outputs = {" ".join(c[1:]): project.pivot(*c[1:]) for c in commands}

    for args, done in outputs.items():
        assert done.returncode == 0, f"pivot {args}: {done.stdout}{done.stderr}"
        assert "Traceback" not in done.stderr
    assert "2 ran" in outputs["run"].stdout
    assert "All 2 stages up to date." in outputs["status --explain"].stdout
    assert (project.root / "data/train.csv").is_file()
    model = json.loads((project.root / "models/model.json").read_text())
    assert model["w"] == pytest.approx(3, abs=0.05)
    assert model["b"] == pytest.approx(1, abs=0.05)
    assert json.loads((project.root / "metrics.json").read_text())["mse"] < 0.01
    again = project.pivot("run")
    assert "2 skipped" in again.stdout, again.stdout


def test_the_readme_says_how_pivot_gets_on_path() -> None:
    install = README.read_text().split("\n## Install\n", 1)[1].split("\n## ", 1)[0]
    assert "uv run pivot" in install
    assert "source .venv/bin/activate" in install
