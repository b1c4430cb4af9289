import pathlib

import pytest

from tests.integration.fingerprint import harness

CONSTANTS = {
    "pipeline.py": harness.pipeline_py("train"),
    "config.py": """
        RATE = 0.5
        NAME = "model"
        SHAPE = (3, 4)
        COLUMNS = ["a", "b"]
        OPTIONS = {"depth": 3, "tags": ["x"]}
        DERIVED = RATE * 2
        """,
    "ops.py": """
        def add(x):
            return x + 1


        def sub(x):
            return x - 1


        DISPATCH = {"add": add, "sub": sub}
        """,
    "stages.py": """
        import config
        import ops
        from config import NAME, SHAPE


        def train() -> None:
            print(config.RATE, NAME, SHAPE, config.COLUMNS, config.OPTIONS, config.DERIVED)
            print(ops.DISPATCH["add"](1))
        """,
}


@pytest.mark.parametrize(
    ("file", "old", "new", "keys"),
    [
        pytest.param(
            "config.py", "RATE = 0.5", "RATE = 0.6", {"const:config.RATE"}, id="number-via-m.CONST"
        ),
        pytest.param(
            "config.py", '"model"', '"other"', {"const:config.NAME"}, id="string-via-from-import"
        ),
        pytest.param("config.py", "(3, 4)", "(3, 5)", {"const:config.SHAPE"}, id="tuple"),
        pytest.param("config.py", '["a", "b"]', '["a", "c"]', {"const:config.COLUMNS"}, id="list"),
        pytest.param("config.py", '"depth": 3', '"depth": 4', {"const:config.OPTIONS"}, id="dict"),
        pytest.param(
            "config.py", "RATE * 2", "RATE * 3", {"const:config.DERIVED"}, id="computed-constant"
        ),
        pytest.param(
            "ops.py",
            "return x + 1",
            "return x + 2",
            {"func:ops.add"},
            id="function-in-dispatch-table",
        ),
        pytest.param(
            "ops.py",
            '"sub": sub}',
            '"sub": sub, "neg": add}',
            {"const:ops.DISPATCH"},
            id="dispatch-table-itself",
        ),
    ],
)
def test_constant_edit_is_detected(
    tmp_path: pathlib.Path, file: str, old: str, new: str, keys: set[str]
):
    before, after = harness.edited(tmp_path, CONSTANTS, (file, old, new))

    assert harness.changed(before, after, "train") == keys


def test_a_constant_used_by_a_constant_is_reached(tmp_path: pathlib.Path):
    project = harness.Project(tmp_path)
    project.write(CONSTANTS)

    site = project.manifests()["train"]["sites"]["const:config.RATE"]

    # Reached directly too (config.RATE), so the shortest path is the direct one.
    assert site["describe"] == "train → RATE: config.py:1"


CLASSES = {
    "pipeline.py": harness.pipeline_py("train"),
    "base.py": """
        class Base:
            def describe(self):
                return "base"
        """,
    "models.py": """
        import dataclasses

        from base import Base


        class Model(Base):
            kind = "linear"

            def __init__(self, size):
                self.size = size

            def fit(self):
                return self.size * 2

            @property
            def area(self):
                return self.size ** 2


        @dataclasses.dataclass
        class Config:
            depth: int = 3
            tags: list[str] = dataclasses.field(default_factory=list)
        """,
    "stages.py": """
        from models import Config, Model


        def train() -> None:
            model = Model(Config().depth)
            print(model.fit(), model.area, model.describe())
        """,
}


@pytest.mark.parametrize(
    ("file", "old", "new", "key"),
    [
        pytest.param(
            "models.py", "self.size * 2", "self.size * 3", "class:models.Model", id="method"
        ),
        pytest.param(
            "models.py", "self.size ** 2", "self.size ** 3", "class:models.Model", id="property"
        ),
        pytest.param(
            "models.py",
            'kind = "linear"',
            'kind = "tree"',
            "class:models.Model",
            id="class-attribute",
        ),
        pytest.param(
            "base.py", 'return "base"', 'return "root"', "class:base.Base", id="user-base-class"
        ),
        pytest.param(
            "models.py",
            "depth: int = 3",
            "depth: int = 4",
            "class:models.Config",
            id="dataclass-default",
        ),
        pytest.param(
            "models.py",
            "default_factory=list",
            "default_factory=tuple",
            "class:models.Config",
            id="dataclass-default-factory",
        ),
    ],
)
def test_class_edit_is_detected(tmp_path: pathlib.Path, file: str, old: str, new: str, key: str):
    before, after = harness.edited(tmp_path, CLASSES, (file, old, new))

    assert harness.changed(before, after, "train") == {key}


PARAMS = {
    "pipeline.py": harness.pipeline_py("train"),
    "checks.py": """
        def positive(value):
            if value <= 0:
                raise ValueError("must be positive")
            return value
        """,
    "stages.py": """
        import pydantic

        from pivot.stage_def import StageParams

        import checks


        class TrainParams(StageParams):
            lr: float = 0.01
            epochs: int = 10

            @pydantic.field_validator("lr")
            @classmethod
            def _check_lr(cls, value):
                return checks.positive(value)


        def train(params: TrainParams) -> None:
            print(params.lr * params.epochs)
        """,
}


@pytest.mark.parametrize(
    ("file", "old", "new", "key"),
    [
        pytest.param(
            "stages.py",
            "epochs: int = 10",
            "epochs: int = 20",
            "class:stages.TrainParams",
            id="field-default",
        ),
        pytest.param(
            "stages.py",
            "return checks.positive(value)",
            "return checks.positive(value) * 1",
            "class:stages.TrainParams",
            id="validator",
        ),
        pytest.param(
            "checks.py", "value <= 0", "value < 0", "func:checks.positive", id="helper-of-validator"
        ),
    ],
)
def test_stage_params_edit_is_detected(
    tmp_path: pathlib.Path, file: str, old: str, new: str, key: str
):
    before, after = harness.edited(tmp_path, PARAMS, (file, old, new))

    assert harness.changed(before, after, "train") == {key}
