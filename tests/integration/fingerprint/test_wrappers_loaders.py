import pathlib

import pytest

from tests.integration.fingerprint import harness

WRAPPERS = {
    "pipeline.py": harness.pipeline_py("train", "decorated"),
    "decorators.py": """
        import functools


        def logged(fn):
            @functools.wraps(fn)
            def wrapper(*args, **kwargs):
                print("calling")
                return fn(*args, **kwargs)

            return wrapper


        def timed(fn):
            @functools.wraps(fn)
            def wrapper(*args, **kwargs):
                print("timing")
                return fn(*args, **kwargs)

            return wrapper
        """,
    "stages.py": """
        import functools

        from decorators import logged, timed


        def scale(x, factor):
            return x * factor


        double = functools.partial(scale, factor=2)


        @logged
        def wrapped_helper(x):
            return x + 1


        def train() -> None:
            triple = functools.partial(scale, factor=3)
            print(double(1), triple(1), wrapped_helper(2))


        @timed
        def decorated() -> None:
            print("stage")
        """,
}


@pytest.mark.parametrize(
    ("file", "old", "new", "key"),
    [
        pytest.param(
            "stages.py",
            "return x * factor",
            "return x * factor + 0",
            "func:stages.scale",
            id="partial-target",
        ),
        pytest.param(
            "stages.py", "factor=2", "factor=4", "const:stages.double", id="partial-arguments"
        ),
        pytest.param(
            "stages.py",
            "return x + 1",
            "return x + 2",
            "func:stages.wrapped_helper",
            id="wraps-decorated-helper",
        ),
        pytest.param(
            "decorators.py",
            'print("calling")',
            'print("called")',
            "func:decorators.logged",
            id="decorator-of-helper",
        ),
    ],
)
def test_wrapped_helper_edit_is_detected(
    tmp_path: pathlib.Path, file: str, old: str, new: str, key: str
):
    before, after = harness.edited(tmp_path, WRAPPERS, (file, old, new))

    assert harness.changed(before, after, "train") == {key}


def test_user_decorator_on_the_stage_is_tracked(tmp_path: pathlib.Path):
    before, after = harness.edited(
        tmp_path,
        WRAPPERS,
        (
            "decorators.py",
            'print("timing")',
            'print("timed")',
        ),
    )

    assert harness.changed(before, after, "decorated") == {"func:decorators.timed"}
    assert harness.changed(before, after, "train") == set()


LOADERS = {
    "pipeline.py": harness.pipeline_py("train"),
    "codecs_util.py": """
        def encode(text):
            return text.upper()
        """,
    "my_loaders.py": """
        import dataclasses
        import pathlib

        from pivot import loaders

        import codecs_util


        @dataclasses.dataclass(frozen=True)
        class Upper(loaders.Loader[str]):
            suffix: str = "!"

            def load(self, path: pathlib.Path) -> str:
                return path.read_text()

            def save(self, value: str, path: pathlib.Path) -> None:
                path.write_text(codecs_util.encode(value) + self.suffix)
        """,
    "stages.py": """
        import pathlib
        from typing import Annotated

        from pivot import loaders, outputs

        from my_loaders import Upper


        def train(
            raw: Annotated[str, outputs.Dep("raw.txt", Upper())],
        ) -> Annotated[dict, outputs.Out("out.json", loaders.JSON(indent=2))]:
            return {"n": len(raw)}
        """,
}


@pytest.mark.parametrize(
    ("file", "old", "new", "key"),
    [
        pytest.param(
            "my_loaders.py",
            "return path.read_text()",
            "return path.read_text().strip()",
            "loader:my_loaders.Upper",
            id="user-loader-load",
        ),
        pytest.param(
            "my_loaders.py",
            "+ self.suffix)",
            "+ self.suffix + '?')",
            "loader:my_loaders.Upper",
            id="user-loader-save",
        ),
        pytest.param(
            "codecs_util.py",
            "text.upper()",
            "text.lower()",
            "func:codecs_util.encode",
            id="helper-of-loader",
        ),
    ],
)
def test_loader_edit_is_detected(tmp_path: pathlib.Path, file: str, old: str, new: str, key: str):
    before, after = harness.edited(tmp_path, LOADERS, (file, old, new))

    assert harness.changed(before, after, "train") == {key}


@pytest.mark.parametrize(
    ("old", "new", "key"),
    [
        pytest.param("Upper())", 'Upper(suffix="?"))', "loader:my_loaders.Upper", id="user"),
        pytest.param("indent=2", "indent=4", "loader:pivot.loaders.JSON", id="builtin"),
    ],
)
def test_loader_configuration_edit_is_detected(
    tmp_path: pathlib.Path, old: str, new: str, key: str
):
    before, after = harness.edited(tmp_path, LOADERS, ("stages.py", old, new))

    # The loader's class did not change: its entry changed through its field values.
    assert harness.changed(before, after, "train") == {"stage:stages.train", key}
