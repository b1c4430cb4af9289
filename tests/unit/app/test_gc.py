import json
import pathlib
import subprocess

import pytest

from pivot.adapters.memory import vcs as memory_vcs
from pivot.adapters.vcs import git_vcs
from pivot.app import fsck, gc
from pivot.domain import errors
from tests.unit.app import artifact_world


@pytest.fixture
def world(tmp_path: pathlib.Path) -> artifact_world.World:
    return artifact_world.World(tmp_path)


def test_gc_removes_exactly_the_unreferenced_objects(world: artifact_world.World) -> None:
    old = world.record("prepare", {"prepare": "old output"})["prepare"]
    world.write("raw/a.txt", "a")
    world.track("raw")
    kept = world.record("prepare", {"prepare": "new"})["prepare"]
    before = set(world.cache.iter_digests())

    report = world.gc().gc(world.pipe, dry_run=True)

    assert report.removed == (old,)
    assert report.bytes_freed == len("old output")
    assert set(world.cache.iter_digests()) == before

    report = world.gc().gc(world.pipe)

    assert report.removed == (old,)
    assert set(world.cache.iter_digests()) == before - {old}
    assert kept in set(world.cache.iter_digests())


def test_gc_shows_the_plan_to_confirm_and_a_no_removes_nothing(
    world: artifact_world.World,
) -> None:
    old = world.record("prepare", {"prepare": "old output"})["prepare"]
    world.record("prepare", {"prepare": "new"})
    before = set(world.cache.iter_digests())
    shown: list[tuple[str, ...]] = []

    def decline(plan: gc.GcReport) -> bool:
        shown.append(plan.removed)
        return False

    report = world.gc().gc(world.pipe, confirm=decline)

    assert shown == [(old,)]
    assert report.declined
    assert set(world.cache.iter_digests()) == before


def test_gc_with_nothing_to_remove_does_not_ask(world: artifact_world.World) -> None:
    world.record("prepare", {"prepare": "only"})

    def refuse(plan: gc.GcReport) -> bool:
        raise AssertionError("asked with nothing to remove")

    assert world.gc().gc(world.pipe, confirm=refuse).removed == ()


def test_referenced_includes_every_pipelines_locks_and_pvt(
    world: artifact_world.World, tmp_path: pathlib.Path
) -> None:
    lock = tmp_path / "sub" / ".pivot" / "stages" / "x.lock"
    lock.parent.mkdir(parents=True)
    lock.write_text('{"outs": {"x": {"hash": "abc123", "path": "x"}}}')
    world.write("d.txt", "d")
    (tracked,) = world.track("d.txt")

    assert world.gc().referenced(world.pipe) == {"abc123", tracked.tracked.digest}


def test_fsck_quarantines_corrupt_blobs(world: artifact_world.World) -> None:
    digests = world.record("train", {"train:model": "m", "train:score": "{}"})
    world.cache.corrupt(digests["train:model"])

    report = fsck.FsckService(cache=world.cache, hasher=world.hasher).fsck()

    assert report.corrupt == (digests["train:model"],)
    assert not world.cache.has(digests["train:model"])
    assert digests["train:model"] in world.cache.quarantined


def _git(root: pathlib.Path, *args: str) -> None:
    subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@t", *args],
        cwd=root,
        check=True,
        capture_output=True,
    )


def test_all_commits_reads_lock_records_and_manifests_of_every_commit(
    tmp_path: pathlib.Path,
) -> None:
    def lock(digest: str) -> str:
        return json.dumps({"outs": {"train": {"hash": digest}}})

    files = {
        "sub/.pivot/stages/train.lock": lock("a" * 32),
        ".pivot/stages/top.lock": lock("b" * 32),
        "data.csv.pvt": json.dumps({"path": "data.csv", "hash": "c" * 32, "size": 1}),
        # Not lock records: outside a `.pivot/stages/` directory, or not `.lock`.
        "x.pivot/stages/fake.lock": lock("d" * 32),
        "notes/stages/other.lock": lock("e" * 32),
        ".pivot/stages/train.json": lock("f" * 32),
    }
    _git(tmp_path, "init", "-q")
    for rel, text in files.items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(text)
    _git(tmp_path, "add", "-A")
    _git(tmp_path, "commit", "-qm", "first")
    (tmp_path / ".pivot/stages/top.lock").write_text(lock("9" * 32))
    _git(tmp_path, "commit", "-qam", "second")

    commits, found = gc.vcs_referenced(git_vcs.GitVcs(tmp_path))

    assert commits == 2
    assert found == {"a" * 32, "b" * 32, "9" * 32, "c" * 32}


def test_all_commits_keeps_what_another_branch_records(world: artifact_world.World) -> None:
    old = world.record("prepare", {"prepare": "old output"})["prepare"]
    world.record("prepare", {"prepare": "new"})
    repo = memory_vcs.MemoryVcs()
    repo.commit({"README": b"start"})
    repo.switch("experiment")
    record = {"outs": {"prepare": {"hash": old}}}
    repo.commit({".pivot/stages/prepare.lock": json.dumps(record).encode()})
    repo.switch("main")
    world.repo = repo

    assert world.gc().gc(world.pipe, dry_run=True).removed == (old,)
    report = world.gc().gc(world.pipe, all_commits=True)

    assert report.removed == ()
    assert report.git_commits == 2
    assert world.cache.has(old)


def test_all_commits_outside_a_repository_removes_nothing(world: artifact_world.World) -> None:
    old = world.record("prepare", {"prepare": "old output"})["prepare"]
    world.record("prepare", {"prepare": "new"})

    with pytest.raises(
        errors.PivotError, match="^--all-commits: not a git repository.*; nothing was removed"
    ):
        world.gc().gc(world.pipe, all_commits=True)
    assert world.cache.has(old)
