import pathlib

import pytest

from tests.integration.fingerprint import harness

STAR_REEXPORT = {
    "pipeline.py": harness.pipeline_py("train"),
    "stages.py": """
        from features import *


        def train() -> None:
            print(lowercase("A"))
        """,
    "features/__init__.py": """
        from .text import *
        """,
    "features/text.py": """
        def lowercase(s):
            return s.lower()
        """,
}


def test_star_import_reexported_through_a_package_is_followed(tmp_path: pathlib.Path):
    before, after = harness.edited(
        tmp_path, STAR_REEXPORT, ("features/text.py", "s.lower()", "s.casefold()")
    )

    assert harness.changed(before, after, "train") == {"func:features.text.lowercase"}
    assert before["train"]["warnings"] == []


GUARDED = {
    "pipeline.py": harness.pipeline_py("train"),
    "stages.py": """
        import config


        def train() -> None:
            print(config.SIZE, config.step(1), config.scaled(2), config.COUNT)
        """,
    "config.py": """
        USE_BIG = True
        FAST = True
        ROUNDS = 3

        if USE_BIG:
            SIZE = 100
        else:
            SIZE = 10

        if FAST:
            def step(x):
                return x + 1
        else:
            def step(x):
                return x + 2

        if FAST:
            from fast_impl import scaled
        else:
            from slow_impl import scaled

        COUNT = 0
        for _ in range(ROUNDS):
            COUNT += 1
        """,
    "fast_impl.py": """
        def scaled(x):
            return x * 2
        """,
    "slow_impl.py": """
        def scaled(x):
            return x * 2
        """,
}


@pytest.mark.parametrize(
    ("old", "new", "keys"),
    [
        pytest.param(
            "USE_BIG = True", "USE_BIG = False", {"const:config.USE_BIG"}, id="if-guards-constant"
        ),
        # FAST guards both a function and an import: one flag, one changed entry.
        pytest.param(
            "FAST = True", "FAST = False", {"const:config.FAST"}, id="if-guards-function-and-import"
        ),
        pytest.param("ROUNDS = 3", "ROUNDS = 4", {"const:config.ROUNDS"}, id="for-guards-constant"),
    ],
)
def test_module_level_control_flow_is_part_of_what_it_guards(
    tmp_path: pathlib.Path, old: str, new: str, keys: set[str]
):
    before, after = harness.edited(tmp_path, GUARDED, ("config.py", old, new))

    assert harness.changed(before, after, "train") == keys
    assert before["train"]["warnings"] == []


def test_a_guard_reaches_the_function_and_import_it_guards(tmp_path: pathlib.Path):
    project = harness.Project(tmp_path)
    project.write(GUARDED)

    entries = project.manifests()["train"]["entries"]

    assert {"const:config.FAST", "func:fast_impl.scaled", "func:slow_impl.scaled"} <= set(entries)


GLOBAL_SET = {
    "pipeline.py": harness.pipeline_py("train"),
    "stages.py": """
        import config


        def train() -> None:
            print(config.LEVEL)
        """,
    "config.py": """
        LEVEL = 1


        def configure():
            global LEVEL
            LEVEL = 3


        def unrelated():
            return 5


        configure()
        """,
}


@pytest.mark.parametrize(
    ("old", "new", "keys"),
    [
        pytest.param("LEVEL = 3", "LEVEL = 4", {"const:config.LEVEL"}, id="assignment-edited"),
        pytest.param("return 5", "return 6", set(), id="unrelated-function-edited"),
    ],
)
def test_a_global_assigned_by_a_function_includes_that_function(
    tmp_path: pathlib.Path, old: str, new: str, keys: set[str]
):
    before, after = harness.edited(tmp_path, GLOBAL_SET, ("config.py", old, new))

    assert harness.changed(before, after, "train") == keys


UNTRACKABLE = {
    "pipeline.py": harness.pipeline_py("train"),
    "stages.py": """
        import plugins
        import registry


        def pick(name):
            return globals()[name]


        def train() -> None:
            print(pick("train"), registry.ITEMS)
        """,
    "registry.py": """
        ITEMS = []
        """,
    "plugins.py": """
        import registry

        registry.ITEMS.append("p")
        """,
}


def test_untrackable_module_level_patterns_are_warned_with_file_and_line(
    tmp_path: pathlib.Path,
):
    project = harness.Project(tmp_path)
    project.write(UNTRACKABLE)

    warnings = project.manifests()["train"]["warnings"]

    assert warnings == [
        "stages.py:1: module 'plugins' is imported only for its side effects; "
        + "changes to it are not tracked",
        "stages.py:6: globals() lookup; code reached through it is not tracked "
        + "(in stages.pick)",
    ]
