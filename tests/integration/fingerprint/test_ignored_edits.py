import pathlib

import pytest

from tests.integration.fingerprint import (
    harness,
    test_constants_classes,
    test_helpers,
    test_stage_code,
    test_wrappers_loaders,
)

Edit = tuple[str, str, str]

STAGE_EDITS: list[Edit] = [
    ("stages.py", '"""Train the model."""', '"""Train the model, better documented."""'),
    ("stages.py", "# the body", "# a different comment\n    # and another one"),
    ("stages.py", "return x + 1", "return (x +\n            1)  # wrapped"),
    ("stages.py", "def helper(x):", '\n\ndef helper(x):\n    """Add one."""'),
    ("stages.py", '"never reached"', "'never reached'"),
    ("stages.py", "import pathlib", '"""Module docstring."""\n# header comment\nimport pathlib'),
    ("stages.py", "total = inner(helper(rows)) * scale", "total = (inner(helper(rows,)) * scale)"),
]

HELPER_EDITS: list[Edit] = [
    ("lib/bottom.py", "    return x * 10", '    """Ten times."""\n    # scale up\n    return x*10'),
    ("lib/middle.py", "return bottom(x) + 1", "return bottom(\n        x,\n    ) + 1  # plus one"),
    ("lib/top.py", "from lib import middle", "# imports\nfrom lib import middle\n\n\n"),
]

CONSTANT_EDITS: list[Edit] = [
    ("config.py", '"tags": ["x"]}', '"tags": [\n        "x",\n    ],\n}  # options'),
    ("config.py", "RATE = 0.5", "RATE = 0.50  # the rate"),
    ("ops.py", '{"add": add, "sub": sub}', "{'add': add, 'sub': sub,}"),
]

CLASS_EDITS: list[Edit] = [
    ("models.py", "class Model(Base):", 'class Model(Base):\n    """A model."""\n'),
    ("models.py", "def fit(self):", "def fit(self):  # fit it\n        # really"),
    ("models.py", "depth: int = 3", 'depth: int = 3\n    """How deep."""'),
    ("base.py", 'return "base"', "return 'base'"),
]

PARAMS_EDITS: list[Edit] = [
    ("stages.py", "lr: float = 0.01", "lr: float = 0.01  # learning rate"),
    ("checks.py", 'raise ValueError("must be positive")', "raise ValueError('must be positive')"),
]

LOADER_EDITS: list[Edit] = [
    ("my_loaders.py", "return path.read_text()", '"""Read."""\n        return path.read_text()'),
    ("codecs_util.py", "return text.upper()", "return (text\n            .upper())"),
]


@pytest.mark.parametrize(
    ("files", "edits"),
    [
        pytest.param(test_stage_code.FILES, STAGE_EDITS, id="stage"),
        pytest.param(test_helpers.DEEP, HELPER_EDITS, id="helpers"),
        pytest.param(test_constants_classes.CONSTANTS, CONSTANT_EDITS, id="constants"),
        pytest.param(test_constants_classes.CLASSES, CLASS_EDITS, id="classes"),
        pytest.param(test_constants_classes.PARAMS, PARAMS_EDITS, id="params"),
        pytest.param(test_wrappers_loaders.LOADERS, LOADER_EDITS, id="loaders"),
    ],
)
def test_comments_docstrings_and_formatting_change_nothing(
    tmp_path: pathlib.Path, files: dict[str, str], edits: list[Edit]
):
    before, after = harness.edited(tmp_path, files, *edits)

    assert {name: m["entries"] for name, m in after.items()} == {
        name: m["entries"] for name, m in before.items()
    }


def test_editing_an_unreached_function_changes_nothing(tmp_path: pathlib.Path):
    before, after = harness.edited(
        tmp_path, test_stage_code.FILES, ("stages.py", 'return "never reached"', "return 42")
    )

    assert after["train"]["entries"] == before["train"]["entries"]
