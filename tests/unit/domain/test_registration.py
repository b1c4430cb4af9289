import pathlib

import pytest

from pivot.domain import errors, identity, paths
from pivot.pipeline import Pipeline
from tests.unit.domain import stage_funcs


def test_pipeline_infers_root_from_callers_file() -> None:
    pipe = Pipeline("p")

    assert pipe.root == pathlib.Path(__file__).resolve().parent
    assert pipe.state_dir == pipe.root / ".pivot"


def test_pipeline_name_defaults_to_directory_name(tmp_path: pathlib.Path) -> None:
    assert Pipeline(root=tmp_path).name == tmp_path.name


def test_register_binds_deps_outs_and_params(tmp_path: pathlib.Path) -> None:
    pipe = Pipeline("p", root=tmp_path)

    st = pipe.register(stage_funcs.train, params={"lr": 0.5})

    assert pipe.list_stages() == ["train"]
    assert pipe.get("train") is st
    assert [d.paths for d in st.deps] == [(tmp_path / "data/train.csv",)]
    assert {str(st.out_identity(o)): o.path for o in st.outs} == {
        "train:model": tmp_path / "models/model.pkl",
        "train:score": tmp_path / "metrics.json",
    }
    assert [o.cached for o in st.outs] == [True, False]
    assert st.params_dict() == {"lr": 0.5, "epochs": 10}


def test_output_without_path_is_placed_under_data(tmp_path: pathlib.Path) -> None:
    pipe = Pipeline("p", root=tmp_path)

    st = pipe.register(stage_funcs.placed)

    assert st.outs[0].path == tmp_path / "data/p/placed.txt"
    assert st.out_identity(st.outs[0]) == identity.ArtifactIdentity("placed")


def test_overrides_replace_annotated_paths(tmp_path: pathlib.Path) -> None:
    pipe = Pipeline("p", root=tmp_path)

    st = pipe.register(
        stage_funcs.train,
        dep_path_overrides={"data": "other.csv"},
        out_path_overrides={"model": "m.pkl"},
    )

    assert st.deps[0].paths == (tmp_path / "other.csv",)
    assert st.outs[0].path == tmp_path / "m.pkl"


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"dep_path_overrides": {"nope": "x"}}, "dep_path_overrides names 'nope'"),
        ({"out_path_overrides": {"nope": "x"}}, "out_path_overrides names 'nope'"),
        ({"params": {"lr": "fast"}}, "invalid params for TrainParams: lr"),
        ({"params": {"momentum": 1}}, "momentum"),
        ({"name": "a:b"}, "invalid stage name"),
    ],
)
def test_bad_registration_arguments(
    tmp_path: pathlib.Path, kwargs: dict[str, object], message: str
) -> None:
    with pytest.raises(errors.StageDefinitionError, match=message):
        Pipeline("p", root=tmp_path).register(stage_funcs.train, **kwargs)  # pyright: ignore[reportArgumentType]


@pytest.mark.parametrize(
    ("func", "message"),
    [
        (lambda: None, "a lambda cannot be a stage"),
        (stage_funcs.make_closure(), "inside another function"),
        (stage_funcs.escapes, "pipeline directory or one of its parents"),
        (stage_funcs.absolute, "absolute path"),
        (stage_funcs.placeholder, "PlaceholderDep argument\\(s\\) 'data' need a path"),
        (stage_funcs.untyped, "argument 'data' has no annotation"),
        (stage_funcs.unresolvable, "cannot resolve the type hints"),
    ],
)
def test_rejected_stage_functions(tmp_path: pathlib.Path, func: object, message: str) -> None:
    with pytest.raises(errors.StageDefinitionError, match=message):
        Pipeline("p", root=tmp_path).register(func, name="s")  # pyright: ignore[reportArgumentType]


def test_main_module_function_is_rejected(tmp_path: pathlib.Path) -> None:
    func = stage_funcs.make_closure()
    func.__module__ = "__main__"  # pyright: ignore[reportAttributeAccessIssue]
    func.__qualname__ = "inner"  # pyright: ignore[reportAttributeAccessIssue]

    with pytest.raises(errors.StageDefinitionError, match="__main__"):
        Pipeline("p", root=tmp_path).register(func, name="s")  # pyright: ignore[reportArgumentType]


def test_placeholder_filled_by_override(tmp_path: pathlib.Path) -> None:
    st = Pipeline("p", root=tmp_path).register(
        stage_funcs.placeholder, dep_path_overrides={"data": "in.csv"}
    )

    assert st.deps[0].paths == (tmp_path / "in.csv",)


def test_duplicate_stage_name_is_rejected(tmp_path: pathlib.Path) -> None:
    pipe = Pipeline("p", root=tmp_path)
    pipe.register(stage_funcs.prepare)

    with pytest.raises(errors.StageDefinitionError, match="registered twice"):
        pipe.register(stage_funcs.prepare)


def test_unknown_stage_suggests_close_name(tmp_path: pathlib.Path) -> None:
    pipe = Pipeline("p", root=tmp_path)
    pipe.register(stage_funcs.train)

    with pytest.raises(errors.StageNotFoundError, match="did you mean 'train'"):
        pipe.get("trian")


@pytest.mark.parametrize(
    ("text", "expected"),
    [("train", ("train", None)), ("train:model", ("train", "model")), ("a/b@x:k", ("a/b@x", "k"))],
)
def test_identity_round_trip(text: str, expected: tuple[str, str | None]) -> None:
    parsed = identity.ArtifactIdentity.parse(text)

    assert (parsed.producer, parsed.key) == expected
    assert str(parsed) == text


def test_directory_output_without_path_is_placed_without_extension(
    tmp_path: pathlib.Path,
) -> None:
    st = Pipeline("p", root=tmp_path).register(stage_funcs.placed_directory)

    assert st.outs[0].path == tmp_path / "data/p/placed_directory"


@pytest.mark.parametrize(
    ("path", "base", "expected"),
    [
        ("/p/a/b.txt", "/p", "a/b.txt"),
        ("/p/a", "/p/a", "."),
        ("/pa/x", "/p", "../pa/x"),
        ("/q/x", "/p/r", "../../q/x"),
        ("/x", "/", "x"),
    ],
)
def test_relative_paths(path: str, base: str, expected: str) -> None:
    assert paths.relative(pathlib.Path(path), pathlib.Path(base)) == expected
