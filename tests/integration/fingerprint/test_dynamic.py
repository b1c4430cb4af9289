import pathlib

import pytest

from tests.integration.fingerprint import harness

FILES = {
    "pipeline.py": harness.pipeline_py("train"),
    "ops.py": """
        def add(x):
            return x + 1


        def hidden(x):
            return x * 2
        """,
    "plugins.py": """
        REGISTRY = {}


        def register(cls):
            REGISTRY[cls.__name__] = cls
            return cls


        @register
        class Doubler:
            def run(self, x):
                return x * 2
        """,
    "stages.py": """
        import importlib

        import ops
        import plugins


        def train(op: str = "hidden", module: str = "ops") -> None:
            print(getattr(ops, "add")(1))
            print(getattr(ops, op)(2))
            print(eval("1 + 1"))
            exec("x = 1")
            print(importlib.import_module(module))
            print(plugins.REGISTRY["Doubler"]().run(3))
        """,
}


def _warnings(manifests: harness.Manifests) -> list[str]:
    return manifests["train"]["warnings"]


def test_untrackable_patterns_are_reported_with_file_and_line(tmp_path: pathlib.Path):
    project = harness.Project(tmp_path)
    project.write(FILES)

    warnings = _warnings(project.manifests())

    assert warnings == [
        "stages.py:9: getattr() with a computed name on 'ops'; code reached through it is "
        + "not tracked (in stages.train)",
        "stages.py:10: eval() runs code Pivot cannot see; changes are not tracked "
        + "(in stages.train)",
        "stages.py:11: exec() runs code Pivot cannot see; changes are not tracked "
        + "(in stages.train)",
        "stages.py:12: importlib.import_module() with a computed module name; the module it "
        + "imports is not tracked (in stages.train)",
    ]


@pytest.mark.parametrize(
    ("file", "old", "new", "keys"),
    [
        pytest.param("ops.py", "x + 1", "x + 3", {"func:ops.add"}, id="getattr-literal-tracked"),
        pytest.param("ops.py", "x * 2", "x * 3", set(), id="getattr-computed-not-tracked"),
        pytest.param(
            "plugins.py",
            "return x * 2",
            "return x * 3",
            set(),
            id="object-of-invisible-class-not-tracked",
        ),
    ],
)
def test_dynamic_lookups(tmp_path: pathlib.Path, file: str, old: str, new: str, keys: set[str]):
    before, after = harness.edited(tmp_path, FILES, (file, old, new))

    assert harness.changed(before, after, "train") == keys
