import functools
import pathlib

import pytest

from pivot.adapters.cache import local_content_cache
from pivot.adapters.hashing import xxh3_hasher
from pivot.adapters.memory import remote as memory_remote
from pivot.adapters.workspace import file_workspace_store
from pivot.app import detached_job, stage_job, transfer
from pivot.domain import errors
from pivot.pipeline import Pipeline
from tests.unit.app import detached_funcs


def _project(root: pathlib.Path) -> Pipeline:
    (root / "data" / "parts").mkdir(parents=True)
    (root / "data" / "in.txt").write_text("hello")
    (root / "data" / "parts" / "a").write_text("A")
    (root / "data" / "parts" / "b").write_text("B")
    pipe = Pipeline("p", root=root)
    pipe.register(detached_funcs.summarize)
    return pipe


def _detacher(root: pathlib.Path, remote: memory_remote.MemoryRemote) -> detached_job.Detacher:
    hasher = xxh3_hasher.Xxh3Hasher()
    cache = local_content_cache.LocalContentCache(root / ".pivot" / "cache", hasher)
    workspace = file_workspace_store.FileWorkspaceStore(cache)
    return detached_job.Detacher(
        project_root=root,
        cache=cache,
        hasher=hasher,
        remote=remote,
        open_remote=lambda: remote,
        make_cache=functools.partial(local_content_cache.LocalContentCache, hasher=hasher),
        workspace=workspace,
    )


def test_a_detached_stage_runs_in_scratch_and_returns_through_the_remote(
    tmp_path: pathlib.Path,
) -> None:
    root = tmp_path / "proj"
    st = _project(root).get("summarize")
    remote = memory_remote.MemoryRemote()
    detacher = _detacher(root, remote)
    job = stage_job.job_for(st, detacher.cache, detacher.hasher, detacher.workspace)

    detached = detacher.prepare(job)
    outcome = detached_job.run(detached)
    placed = detacher.finish(job, outcome)

    assert placed.ok, placed.error
    assert (root / "out" / "result.txt").read_text() == "HELLO a,b"
    assert (root / "out" / "pieces" / "a.copy").read_text() == "A"
    ran_in = pathlib.Path((root / "out" / "cwd.txt").read_text())
    assert root not in (ran_in, *ran_in.parents)
    assert not ran_in.exists()  # the scratch directory is gone
    # Everything crossed through the remote: inputs up, outputs (files and manifest) back.
    uploaded = {k for k in remote.objects if k.startswith("files/")}
    assert {transfer.object_key(r.digest) for r in placed.outputs} <= uploaded
    assert {transfer.object_key(d) for _, d in detached.inputs} <= uploaded
    # The client memoises the files it placed, not the worker's scratch paths.
    stamped = {pathlib.Path(p) for r in placed.outputs for p, _, _ in r.stamps}
    assert root / "out" / "result.txt" in stamped
    assert root / "out" / "pieces" / "b.copy" in stamped


def test_a_missing_dependency_is_named_before_anything_is_sent(tmp_path: pathlib.Path) -> None:
    root = tmp_path / "proj"
    st = _project(root).get("summarize")
    (root / "data" / "in.txt").unlink()
    remote = memory_remote.MemoryRemote()
    detacher = _detacher(root, remote)

    with pytest.raises(errors.PivotError, match=r"data/in\.txt"):
        detacher.prepare(stage_job.job_for(st, detacher.cache, detacher.hasher, detacher.workspace))
    assert remote.objects == {}
