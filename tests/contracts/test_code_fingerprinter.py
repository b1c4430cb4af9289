"""The `CodeFingerprinter` port: a stage's code manifest is the same in every process for the same
source; an edit to code the stage reaches changes it, a comment does not; `inputs()` names every
file the manifests relied on, with the stamp it was read at.

The AST fingerprinter runs in fresh interpreters (the promise is about processes), with an
in-memory state store and with an LMDB one shared by every run (manifests cached by file stamp).
The fake in `tests/fakes/` models source as its `versions` table (no files, no comments).
What the AST walk reaches and ignores, case by case, is `tests/integration/fingerprint/`
(README matrix)."""

import json
import os
import pathlib
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from typing import Protocol

import pytest
from tests.fakes import code_fingerprinter as fake_fingerprinter

from pivot.domain import stage
from pivot.ports import state_store

Stamps = dict[str, state_store.FileStamp | None]

FILES = {
    "pipeline.py": """
        from pivot.pipeline import Pipeline
        import stages

        pipeline = Pipeline("fp")
        pipeline.register(stages.train)
        """,
    "stages.py": """
        import helpers


        def train() -> None:
            print(helpers.scale(2))
        """,
    "helpers.py": """
        def scale(x):
            # double it
            return x * 2


        def unreached(x):
            return x - 1
        """,
}

_COMPUTE = """
import json, os, pathlib, sys
from pivot.adapters.discovery import python_source
from pivot.adapters.fingerprint import ast_fingerprinter
from pivot.adapters.memory import state_store
from pivot.adapters.state import lmdb_state_store

root = pathlib.Path(sys.argv[1])
os.chdir(root)
state = (
    lmdb_state_store.LmdbStateStore(pathlib.Path(sys.argv[2]))
    if len(sys.argv) > 2
    else state_store.MemoryStateStore()
)
fp = ast_fingerprinter.AstFingerprinter(state, root)
train = python_source.PythonPipelineSource().load(root).stages["train"]
entries = dict(fp.fingerprint(train).entries)
inputs = {p: None if s is None else list(s) for p, s in fp.inputs().items()}
print(json.dumps({"entries": entries, "inputs": inputs}))
"""


class Subject(Protocol):
    """One adapter and the source it fingerprints."""

    relied_on: tuple[pathlib.Path, ...]
    """Files the stage's code is in: each must be among `inputs()`."""

    def manifest(self) -> tuple[dict[str, str], Stamps]:
        """The stage's manifest entries and the adapter's `inputs()`, from a new process."""
        ...

    def edit(self, old: str, new: str) -> None:
        """Change the helper the stage calls."""
        ...


class AstSubject:
    def __init__(self, tmp: pathlib.Path, cached: bool) -> None:
        self.root = tmp / "project"
        self.root.mkdir()
        for name, text in FILES.items():
            (self.root / name).write_text(textwrap.dedent(text).lstrip("\n"))
        # Files written a moment ago are never cached: age them, so the LMDB runs hit the cache.
        past = time.time() - 60
        for path in self.root.iterdir():
            os.utime(path, (past, past))
        self.state = [str(tmp / "state")] if cached else []
        self.relied_on = (self.root / "stages.py", self.root / "helpers.py")

    def manifest(self) -> tuple[dict[str, str], Stamps]:
        env = {k: v for k, v in os.environ.items() if k != "PYTHONHASHSEED"}
        done = subprocess.run(
            [sys.executable, "-c", _COMPUTE, str(self.root), *self.state],
            capture_output=True,
            text=True,
            env=env,
            check=False,
        )
        assert done.returncode == 0, done.stderr
        out = json.loads(done.stdout)
        stamps: Stamps = {
            p: None if s is None else state_store.FileStamp(*s) for p, s in out["inputs"].items()
        }
        return out["entries"], stamps

    def edit(self, old: str, new: str) -> None:
        path = self.root / "helpers.py"
        text = path.read_text()
        assert text.count(old) == 1
        path.write_text(text.replace(old, new))


def _train() -> None:
    pass


class FakeSubject:
    relied_on: tuple[pathlib.Path, ...] = ()

    def __init__(self) -> None:
        self.source = {"return x * 2": "v1"}
        self.versions: dict[str, str] = {}

    def manifest(self) -> tuple[dict[str, str], Stamps]:
        fake = fake_fingerprinter.FakeFingerprinter()  # a new process: nothing shared but source
        fake.versions = dict(self.versions)
        st = stage.Stage("train", _train, "fp", pathlib.Path("."), deps=(), outs=())
        return dict(fake.fingerprint(st).entries), fake.inputs()

    def edit(self, old: str, new: str) -> None:
        if old.lstrip().startswith("#"):
            return  # the fake's source has no comments
        self.versions["train"] = f"v{len(self.versions) + 2}"


ADAPTERS = ["ast", "ast-lmdb", "fake"]


@pytest.fixture(params=ADAPTERS)
def subject(request: pytest.FixtureRequest, tmp_path: pathlib.Path) -> Iterator[Subject]:
    if request.param == "fake":
        yield FakeSubject()
    else:
        yield AstSubject(tmp_path, cached=request.param == "ast-lmdb")


def test_the_same_source_gives_the_same_manifest_in_every_process(subject: Subject) -> None:
    first, _ = subject.manifest()
    second, _ = subject.manifest()

    assert first
    assert second == first


def test_an_edit_to_a_reached_helper_changes_the_manifest(subject: Subject) -> None:
    before, _ = subject.manifest()
    subject.edit("return x * 2", "return x * 3")

    after, _ = subject.manifest()

    assert after != before
    assert after.keys() == before.keys()


def test_a_comment_edit_does_not_change_the_manifest(subject: Subject) -> None:
    before, _ = subject.manifest()
    subject.edit("# double it", "# twice as much, as the paper says")

    after, _ = subject.manifest()

    assert after == before


def test_inputs_name_the_files_relied_on_with_their_current_stamps(subject: Subject) -> None:
    _, inputs = subject.manifest()

    for path in subject.relied_on:
        assert str(path) in inputs, sorted(inputs)
    for path, stamp in inputs.items():
        expected = state_store.FileStamp.of(os.stat(path)) if os.path.exists(path) else None
        assert stamp == expected, path


def test_inputs_show_an_edit_as_a_changed_stamp(subject: Subject) -> None:
    _, before = subject.manifest()
    subject.edit("return x * 2", "return x * 20")

    _, after = subject.manifest()

    for path in subject.relied_on:
        assert (after[str(path)] != before[str(path)]) == path.name.startswith("helpers")
