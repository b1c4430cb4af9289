import json
import pathlib

from tests.e2e.conftest import Project

PIVOT_YAML = """
vars:
  - tag: "v; touch pwned_var"
stages:
  direct:
    cmd: python args.py ${params.value} ${tag} direct.json
    params: {value: "x; touch pwned"}
    outs: [direct.json]
  piped:
    cmd: python args.py ${params.value} ${tag} /dev/stdout | cat > piped.json
    params: {value: "$(touch pwned_sub) && touch pwned"}
    outs: [piped.json]
"""

ARGS = """
import json
import sys

with open(sys.argv[-1], "w") as f:
    f.write(json.dumps(sys.argv[1:-1]))
"""


def test_substituted_values_are_arguments_never_commands(tmp_path: pathlib.Path) -> None:
    project = Project(tmp_path / "proj")
    project.root.mkdir()
    project.write("pivot.yaml", PIVOT_YAML)
    project.write("args.py", ARGS)
    assert project.pivot("init").returncode == 0

    done = project.pivot("run")

    assert done.returncode == 0, done.stderr
    assert json.loads((project.root / "direct.json").read_text()) == [
        "x; touch pwned",
        "v; touch pwned_var",
    ]
    assert json.loads((project.root / "piped.json").read_text()) == [
        "$(touch pwned_sub) && touch pwned",
        "v; touch pwned_var",
    ]
    assert sorted(p.name for p in project.root.iterdir() if p.name.startswith("pwned")) == []
