import pathlib

import pytest

from tests.integration.fingerprint import harness

SAME_MODULE = """
def helper(x):
    return x + 1


def _private(x):
    return x * 2


alias = helper


def countdown(n):
    return 0 if n <= 0 else countdown(n - 1)


def is_even(n):
    return True if n == 0 else is_odd(n - 1)


def is_odd(n):
    return False if n == 0 else is_even(n - 1)


def train() -> None:
    print(alias(1), _private(2), countdown(3), is_even(4))
"""


@pytest.mark.parametrize(
    ("old", "new", "key"),
    [
        pytest.param("return x + 1", "return x + 2", "func:stages.helper", id="via-alias"),
        pytest.param("return x * 2", "return x * 3", "func:stages._private", id="private"),
        pytest.param(
            "else countdown(n - 1)",
            "else countdown(n - 2)",
            "func:stages.countdown",
            id="recursion",
        ),
        pytest.param(
            "else is_even(n - 1)",
            "else is_even(n - 3)",
            "func:stages.is_odd",
            id="mutual-recursion",
        ),
    ],
)
def test_same_module_helper_edit_is_detected(tmp_path: pathlib.Path, old: str, new: str, key: str):
    files = {"pipeline.py": harness.pipeline_py("train"), "stages.py": SAME_MODULE}

    before, after = harness.edited(tmp_path, files, ("stages.py", old, new))

    assert harness.changed(before, after, "train") == {key}


def test_retargeting_an_alias_is_detected(tmp_path: pathlib.Path):
    files = {"pipeline.py": harness.pipeline_py("train"), "stages.py": SAME_MODULE}

    before, after = harness.edited(
        tmp_path, files, ("stages.py", "alias = helper", "alias = _private")
    )

    assert harness.changed(before, after, "train") == {"const:stages.alias", "func:stages.helper"}


CROSS_MODULE = {
    "pipeline.py": harness.pipeline_py("train"),
    "pkg/__init__.py": "from pkg import sub\n",
    "pkg/sub.py": "def chained(x):\n    return x + 1\n",
    "pkg/deep/__init__.py": "",
    "pkg/deep/leaf.py": "from .util import relative\n\n\ndef aliased(x):\n"
    + "    return relative(x) + 2\n",
    "pkg/deep/util.py": "def relative(x):\n    return x + 6\n",
    "star_source.py": "def starred(x):\n    return x + 7\n",
    "mod_a.py": "def imported(x):\n    return x + 3\n",
    "mod_b.py": "def attribute(x):\n    return x + 4\n",
    "mod_c.py": "def in_body(x):\n    return x + 5\n",
    "stages.py": """
        from mod_a import imported
        from star_source import *
        import mod_b
        import pkg
        import pkg.deep.leaf as leaf


        def train() -> None:
            from mod_c import in_body
            print(imported(1), mod_b.attribute(2), pkg.sub.chained(3), leaf.aliased(4), in_body(5))
            print(starred(6))
        """,
}


@pytest.mark.parametrize(
    ("file", "old", "key"),
    [
        pytest.param("mod_a.py", "x + 3", "func:mod_a.imported", id="from-m-import-f"),
        pytest.param("mod_b.py", "x + 4", "func:mod_b.attribute", id="import-m-then-m.f"),
        pytest.param("pkg/sub.py", "x + 1", "func:pkg.sub.chained", id="chain-m.sub.f"),
        pytest.param(
            "pkg/deep/leaf.py", "(x) + 2", "func:pkg.deep.leaf.aliased", id="import-pkg.sub-as-s"
        ),
        pytest.param("mod_c.py", "x + 5", "func:mod_c.in_body", id="import-inside-function"),
        pytest.param(
            "pkg/deep/util.py", "x + 6", "func:pkg.deep.util.relative", id="relative-import"
        ),
        pytest.param("star_source.py", "x + 7", "func:star_source.starred", id="star-import"),
    ],
)
def test_cross_module_helper_edit_is_detected(
    tmp_path: pathlib.Path, file: str, old: str, key: str
):
    before, after = harness.edited(tmp_path, CROSS_MODULE, (file, old, old.replace("x", "x * 2")))

    assert harness.changed(before, after, "train") == {key}


DEEP = {
    "pipeline.py": harness.pipeline_py("uses_deep", "uses_middle", "uses_other"),
    "lib/__init__.py": "",
    "lib/top.py": """
        from lib import middle


        def top(x):
            return middle.middle(x)
        """,
    "lib/middle.py": """
        from lib.bottom import bottom


        def middle(x):
            return bottom(x) + 1


        def shallow(x):
            return x
        """,
    "lib/bottom.py": """
        def bottom(x):
            return x * 10
        """,
    "stages.py": """
        from lib import middle, top


        def uses_deep() -> None:
            print(top.top(1))


        def uses_middle() -> None:
            print(middle.shallow(1))


        def uses_other() -> None:
            print(2)
        """,
}


def test_depth_three_edit_changes_exactly_the_stages_that_reach_it(tmp_path: pathlib.Path):
    before, after = harness.edited(tmp_path, DEEP, ("lib/bottom.py", "x * 10", "x * 11"))

    assert harness.changed(before, after, "uses_deep") == {"func:lib.bottom.bottom"}
    assert harness.changed(before, after, "uses_middle") == set()
    assert harness.changed(before, after, "uses_other") == set()


def test_explain_names_the_call_path_and_location(tmp_path: pathlib.Path):
    project = harness.Project(tmp_path)
    project.write(DEEP)

    site = project.manifests()["uses_deep"]["sites"]["func:lib.bottom.bottom"]

    assert site["describe"] == "uses_deep → top → middle → bottom: lib/bottom.py:1"
