import pathlib

import pytest

from tests.integration.fingerprint import harness

STAGES = '''
import pathlib


def helper(x):
    return x + 1


def unrelated():
    return "never reached"


def train(rows: int = 3, scale: float = 1.0) -> None:
    """Train the model."""
    # the body
    def inner(y):
        return y * 2

    total = inner(helper(rows)) * scale
    pathlib.Path("out.txt").write_text(str(total))
'''

FILES = {"pipeline.py": harness.pipeline_py("train"), "stages.py": STAGES}


@pytest.mark.parametrize(
    ("old", "new"),
    [
        pytest.param("total = inner(", "total = 1 + inner(", id="body"),
        pytest.param("scale: float = 1.0)", "scale: float = 1.0, seed: int = 0)", id="signature"),
        pytest.param("rows: int = 3", "rows: int = 4", id="default"),
        pytest.param("scale: float = 1.0", "scale: int = 1.0", id="annotation"),
        pytest.param("return y * 2", "return y * 3", id="nested-function"),
    ],
)
def test_stage_edit_changes_only_the_stage_entry(tmp_path: pathlib.Path, old: str, new: str):
    before, after = harness.edited(tmp_path, FILES, ("stages.py", old, new))

    assert harness.changed(before, after, "train") == {"stage:stages.train"}


def test_stage_entry_names_the_stage_and_its_location(tmp_path: pathlib.Path):
    project = harness.Project(tmp_path)
    project.write(FILES)

    site = project.manifests()["train"]["sites"]["stage:stages.train"]

    assert site["describe"] == "train: stages.py:12"


def test_stage_defined_in_pipeline_py_is_tracked(tmp_path: pathlib.Path):
    pipeline = """
    from pivot.pipeline import Pipeline

    LIMIT = 3


    def train() -> None:
        print(list(range(LIMIT)))


    pipeline = Pipeline("fp")
    pipeline.register(train)
    """
    before, after = harness.edited(
        tmp_path, {"pipeline.py": pipeline}, ("pipeline.py", "LIMIT = 3", "LIMIT = 4")
    )

    assert set(before["train"]["entries"]) == {"stage:pipeline.train", "const:pipeline.LIMIT"}
    assert harness.changed(before, after, "train") == {"const:pipeline.LIMIT"}


def test_postponed_annotations_still_reach_the_classes_they_name(tmp_path: pathlib.Path):
    files = {
        "pipeline.py": harness.pipeline_py("train"),
        "shapes.py": "class Point:\n    dims = 2\n",
        "stages.py": """
            from __future__ import annotations

            import shapes


            def train(origin: shapes.Point | None = None) -> None:
                print(origin)
            """,
    }

    before, after = harness.edited(tmp_path, files, ("shapes.py", "dims = 2", "dims = 3"))

    assert harness.changed(before, after, "train") == {"class:shapes.Point"}
