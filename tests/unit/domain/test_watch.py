import pathlib

from pivot.domain import watch

ROOT = pathlib.Path("/proj")


def test_a_watch_set_counts_its_files_and_dep_directories_but_never_outputs() -> None:
    found = watch.WatchSet(
        ROOT,
        files=frozenset({ROOT / "stages.py", ROOT / "raw.txt"}),
        dirs=(ROOT / "images",),
        outputs=(ROOT / "out", ROOT / "model.pkl"),
    )
    assert found.matters(ROOT / "stages.py")
    assert found.matters(ROOT / "images" / "a" / "1.png")
    assert not found.matters(ROOT / "notes.md")
    assert not found.matters(ROOT / "model.pkl")
    assert not found.matters(ROOT / "out" / "part-0.csv")
    assert not found.matters(ROOT / ".pivot" / "stages" / "train.lock")
    assert not found.matters(ROOT / "__pycache__" / "stages.cpython-311.pyc")
    assert not found.matters(pathlib.Path("/elsewhere/stages.py"))
    assert found.size == 3


def test_while_the_pipeline_cannot_load_every_project_file_but_outputs_counts() -> None:
    found = watch.Everything(ROOT, outputs=(ROOT / "model.pkl",))
    assert found.matters(ROOT / "stages.py")
    assert found.matters(ROOT / "notes.md")
    assert not found.matters(ROOT / "model.pkl")
    assert not found.matters(ROOT / ".git" / "index")
    assert not found.matters(ROOT / "stages.py~")
