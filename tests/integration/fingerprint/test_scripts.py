import pathlib

import pytest

from tests.integration.fingerprint import harness

FILES = {
    "pivot.yaml": """
        stages:
          train:
            cmd: python src/train.py --n 3
            deps: [src/train.py]
            outs: [out/train.txt]
          viauv:
            cmd: uv run python src/train.py --n 4 > out/viauv.txt
            outs: [out/viauv.txt]
          tool:
            cmd: OMP_NUM_THREADS=1 python -m pkg.tool && echo done
            outs: [out/tool.txt]
          plain:
            cmd: echo hello > out/plain.txt
            outs: [out/plain.txt]
        """,
    "src/train.py": '''
        """Train the model."""
        import sys

        import helpers


        def main():
            # read the argument
            print(helpers.scale(int(sys.argv[2])))


        if __name__ == "__main__":
            main()
        ''',
    "src/helpers.py": """
        def scale(x):
            return x * 2


        def unused():
            return 1
        """,
    "pkg/__init__.py": "",
    "pkg/tool.py": """
        from pkg import util

        print(util.VALUE)
        """,
    "pkg/util.py": """
        VALUE = 1
        """,
}


@pytest.mark.parametrize(
    ("file", "old", "new", "keys"),
    [
        pytest.param(
            "src/train.py",
            "    # read the argument\n",
            "    # read the argument given on the command line\n\n",
            set(),
            id="script-comment-ignored",
        ),
        pytest.param(
            "src/train.py", '"""Train the model."""', '"""Train it."""', set(), id="docstring"
        ),
        pytest.param(
            "src/train.py",
            "int(sys.argv[2])",
            "float(sys.argv[2])",
            {"script:src/train.py"},
            id="script-edit",
        ),
        pytest.param(
            "src/helpers.py", "x * 2", "x * 3", {"func:helpers.scale"}, id="imported-helper-edit"
        ),
        pytest.param("src/helpers.py", "return 1", "return 2", set(), id="unreached-helper-edit"),
    ],
)
def test_a_python_script_run_by_a_command_is_fingerprinted_as_code(
    tmp_path: pathlib.Path, file: str, old: str, new: str, keys: set[str]
):
    before, after = harness.edited(tmp_path, FILES, (file, old, new))

    assert harness.changed(before, after, "train") == keys
    assert harness.changed(before, after, "viauv") == keys
    assert harness.changed(before, after, "plain") == set()


def test_python_dash_m_module_is_fingerprinted_as_code(tmp_path: pathlib.Path):
    before, after = harness.edited(tmp_path, FILES, ("pkg/util.py", "VALUE = 1", "VALUE = 2"))

    assert harness.changed(before, after, "tool") == {"const:pkg.util.VALUE"}
    assert harness.changed(before, after, "train") == set()


def test_script_entries_name_the_call_path_through_the_script(tmp_path: pathlib.Path):
    project = harness.Project(tmp_path)
    project.write(FILES)

    manifests = project.manifests()

    sites = manifests["train"]["sites"]
    assert (
        sites["func:helpers.scale"]["describe"] == "train → src/train.py → scale: src/helpers.py:1"
    )
    assert sites["script:src/train.py"]["describe"] == "train → src/train.py: src/train.py:1"
    assert manifests["train"]["warnings"] == []
    assert manifests["tool"]["sites"]["script:pkg/tool.py"]["path"] == ["tool", "pkg/tool.py"]
    assert set(manifests["plain"]["entries"]) == {"cmd:plain"}
    assert {"cmd:train", "script:src/train.py", "func:helpers.scale"} <= set(
        manifests["train"]["entries"]
    )
