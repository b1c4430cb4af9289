import json
import pathlib
from typing import Annotated

import pytest

from pivot import loaders, outputs
from pivot.adapters.hashing import xxh3_hasher
from pivot.adapters.lock import json_lock_store
from pivot.adapters.memory import content_cache, state_store, vcs
from pivot.adapters.tables import streaming_differ
from pivot.adapters.workspace import file_workspace_store
from pivot.app import data_diff, digests
from pivot.domain import errors, paths
from pivot.pipeline import Pipeline


def table() -> Annotated[pathlib.Path, outputs.Out("table.csv", loaders.PathOnly())]:
    return pathlib.Path("table.csv")


class World:
    def __init__(self, root: pathlib.Path) -> None:
        self.root = root
        self.repo = vcs.MemoryVcs()
        self.cache = content_cache.MemoryContentCache()
        self.hasher = xxh3_hasher.Xxh3Hasher()
        self.pipe = Pipeline("t", root=root)
        self.pipe.register(table)
        self.service = data_diff.DataDiffService(
            project_root=root,
            cwd=root,
            repo=self.repo,
            cache=self.cache,
            digest_service=digests.DigestService(
                state_store.MemoryStateStore(),
                self.hasher,
                file_workspace_store.FileWorkspaceStore(self.cache),
            ),
            differ=streaming_differ.StreamingDiffer(),
            lock_path_of=json_lock_store.lock_path,
            workspace=file_workspace_store.FileWorkspaceStore(self.cache),
        )

    def commit_table(self, text: str, *, cached: bool = True) -> str:
        """Write table.csv, record it in a committed lock file; returns its digest."""
        path = self.root / "table.csv"
        path.write_text(text)
        digest = self.hasher.file_digest(path)
        if cached:
            self.cache.put_file(path, digest)
        st = self.pipe.stages["table"]
        lock = {"outs": {"table": {"path": "table.csv", "hash": digest}}}
        rel = paths.relative(json_lock_store.lock_path(st), self.root)
        self.repo.commit({rel: json.dumps(lock).encode()})
        return digest


def test_diff_reads_the_revision_version_from_the_cache(tmp_path: pathlib.Path) -> None:
    world = World(tmp_path)
    world.commit_table("id,v\n1,a\n2,b\n")
    (tmp_path / "table.csv").write_text("id,v\n1,a\n2,c\n3,d\n")

    report = world.service.diff(world.pipe, ["table.csv"], key=("id",))

    (file,) = report.files
    assert (file.target, file.state) == ("table", "changed")
    assert file.diff is not None
    assert (file.diff.added, file.diff.removed, file.diff.modified) == (1, 0, 1)


def test_unchanged_and_new_files_are_reported_without_diffing(tmp_path: pathlib.Path) -> None:
    world = World(tmp_path)
    world.commit_table("id\n1\n")

    assert world.service.diff(world.pipe, []).files[0].state == "unchanged"
    assert world.service.diff(world.pipe, [], rev="HEAD").files[0].diff is None


def test_missing_cache_object_names_it(tmp_path: pathlib.Path) -> None:
    world = World(tmp_path)
    digest = world.commit_table("id\n1\n", cached=False)
    (tmp_path / "table.csv").write_text("id\n2\n")

    with pytest.raises(errors.CacheMissError, match=f"'table' at HEAD: its cache object {digest}"):
        world.service.diff(world.pipe, ["table"])


def test_unknown_revision_is_an_error(tmp_path: pathlib.Path) -> None:
    world = World(tmp_path)
    world.commit_table("id\n1\n")

    with pytest.raises(errors.RevisionNotFoundError, match="nope"):
        world.service.diff(world.pipe, [], rev="nope")
