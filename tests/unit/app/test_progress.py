import pathlib

import pytest

from pivot.app import fsck
from tests.fakes.progress import RecordingProgress
from tests.unit.app import artifact_world


@pytest.fixture
def world(tmp_path: pathlib.Path) -> artifact_world.World:
    return artifact_world.World(tmp_path)


def test_track_reports_every_file_and_byte_it_hashes_then_stores(
    world: artifact_world.World, progress: RecordingProgress
) -> None:
    world.write("images/a.png", "aa")
    world.write("images/sub/b.png", "bbb")
    world.write("big.bin", "x" * (3 << 20))

    world.track("images", "big.bin", progress=progress)

    # Every byte twice: hashed, then copied into the cache.
    assert (progress.files_total, progress.bytes_total) == (3, 2 * (5 + (3 << 20)))
    assert progress.done()


def test_track_counts_memoised_files_as_done(
    world: artifact_world.World, progress: RecordingProgress
) -> None:
    world.write("images/a.png", "aa")
    service = world.track_service()
    service.track(world.pipe, ["images"], cwd=world.root)

    service.track(world.pipe, ["images"], cwd=world.root, progress=progress)

    assert (progress.files, progress.nbytes) == (1, 2 + 2)  # memo hit; object already stored
    assert progress.done()


def test_checkout_reports_files_placed_and_bytes_verified(
    world: artifact_world.World, progress: RecordingProgress
) -> None:
    world.write("images/a.png", "aa")
    world.write("images/sub/b.png", "bbb")
    world.track("images")
    for rel in ("images/a.png", "images/sub/b.png"):
        (world.root / rel).unlink()

    world.checkout("images", progress=progress)

    assert (progress.files, progress.nbytes) == (2, 0)
    assert progress.done()

    for rel in ("images/a.png", "images/sub/b.png"):
        (world.root / rel).unlink()
    verified = RecordingProgress()
    world.checkout("images", progress=verified, verify=True)

    assert (verified.files, verified.nbytes) == (2, 5)
    assert verified.done()


def test_cache_verify_reports_every_object(
    world: artifact_world.World, progress: RecordingProgress
) -> None:
    world.write("images/a.png", "aa")
    world.write("images/b.png", "bbbb")
    world.track("images")

    fsck.FsckService(cache=world.cache, hasher=world.hasher).fsck(progress=progress)

    assert (progress.files, progress.nbytes) == (2, 6)
    assert progress.done()


def test_gc_reports_each_object_removed(
    world: artifact_world.World, progress: RecordingProgress
) -> None:
    world.record("prepare", {"prepare": "old output"})
    world.record("prepare", {"prepare": "new"})

    report = world.gc().gc(world.pipe, progress=progress)

    assert progress.files == len(report.removed) == 1
    assert progress.done()
