import pathlib

import pytest

from pivot.app import fsck, gc
from tests.app import artifact_world


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
