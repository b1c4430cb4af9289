import os
import pathlib
import stat

import pytest

from pivot.adapters.memory import state_store
from pivot.app import checkout, digests
from pivot.domain import errors
from pivot.ports import content_cache
from pivot.ports import state_store as state_store_port
from tests.fakes.progress import RecordingProgress
from tests.unit.app import artifact_world

LinkMode = content_cache.LinkMode


@pytest.fixture
def world(tmp_path: pathlib.Path) -> artifact_world.World:
    w = artifact_world.World(tmp_path)
    w.record_all()
    return w


def test_restores_deleted_outputs(world: artifact_world.World) -> None:
    for rel in ("clean.txt", "models/model.txt", "data/t/placed.txt"):
        (world.root / rel).unlink()

    result = world.checkout()

    assert [label for label, _ in result.restored] == [
        "prepare → clean.txt",
        "train:model → models/model.txt",
        "placed → data/t/placed.txt",
    ]
    assert (world.root / "models/model.txt").read_text() == "model"
    assert (world.root / "data/t/placed.txt").read_text() == "placed"


def test_only_named_targets_are_restored(world: artifact_world.World) -> None:
    (world.root / "clean.txt").unlink()
    (world.root / "models/model.txt").unlink()

    world.checkout("train:model")

    assert (world.root / "models/model.txt").exists()
    assert not (world.root / "clean.txt").exists()


def test_modified_outputs_are_not_overwritten_without_force(
    world: artifact_world.World,
) -> None:
    (world.root / "clean.txt").write_text("hand edited, longer")
    (world.root / "models/model.txt").unlink()

    with pytest.raises(errors.PivotError, match="prepare → clean.txt \\(modified"):
        world.checkout()

    assert (world.root / "clean.txt").read_text() == "hand edited, longer"
    assert not (world.root / "models/model.txt").exists()

    world.checkout(only_missing=True)
    assert (world.root / "clean.txt").read_text() == "hand edited, longer"
    assert (world.root / "models/model.txt").read_text() == "model"

    world.checkout(force=True)
    assert (world.root / "clean.txt").read_text() == "CLEAN"


def test_corrupt_object_is_never_checked_out(world: artifact_world.World) -> None:
    model = world.root / "models/model.txt"
    digest = world.hasher.file_digest(model)
    world.cache.corrupt(digest)
    model.unlink()
    (world.root / "clean.txt").unlink()

    with pytest.raises(errors.CacheCorruptError, match=f"train:model.*{digest} is corrupt"):
        world.checkout()

    assert not model.exists()
    assert (world.root / "clean.txt").read_text() == "CLEAN"


def test_tracked_directory_restores(world: artifact_world.World) -> None:
    world.write("raw/a.txt", "a")
    world.write("raw/b/c.txt", "c")
    world.track("raw")
    (world.root / "raw/a.txt").unlink()

    result = world.checkout("raw")

    assert [label for label, _ in result.restored] == ["raw"]
    assert (world.root / "raw/a.txt").read_text() == "a"
    assert (world.root / "raw/b/c.txt").read_text() == "c"


def test_copy_mode_gives_writable_files(world: artifact_world.World) -> None:
    (world.root / "clean.txt").unlink()

    world.checkout("prepare", mode=LinkMode.COPY)

    mode = os.stat(world.root / "clean.txt").st_mode
    assert mode & stat.S_IWUSR


def test_link_order_puts_the_chosen_mode_first() -> None:
    assert checkout.link_order(LinkMode.SYMLINK, checkout.DEFAULT_MODES) == (
        LinkMode.SYMLINK,
        LinkMode.REFLINK,
        LinkMode.COPY,
    )
    assert checkout.link_order(None, (LinkMode.COPY,)) == (LinkMode.COPY,)


def test_unknown_target_changes_nothing(world: artifact_world.World) -> None:
    (world.root / "clean.txt").unlink()

    with pytest.raises(errors.TargetError):
        world.checkout("prepare", "nope")

    assert not (world.root / "clean.txt").exists()


def test_tracked_directory_with_new_files_is_a_conflict(world: artifact_world.World) -> None:
    world.write("raw/a.txt", "a")
    world.track("raw")
    (world.root / "raw/a.txt").unlink()
    world.write("raw/new.txt", "mine")

    with pytest.raises(errors.PivotError, match="raw \\(modified"):
        world.checkout("raw")

    assert (world.root / "raw/new.txt").read_text() == "mine"


def test_checkout_trusts_the_cache_and_verify_rehashes_every_object(
    world: artifact_world.World, progress: RecordingProgress
) -> None:
    (world.root / "clean.txt").unlink()
    world.checkout("prepare", progress=progress)
    assert (progress.nbytes, progress.files) == (0, 1)
    assert progress.done()

    (world.root / "clean.txt").unlink()
    verified = RecordingProgress()
    world.checkout("prepare", progress=verified, verify=True)
    assert (verified.nbytes, verified.files) == (len("CLEAN"), 1)
    assert verified.done()


def test_silent_corruption_is_caught_by_verify_and_nothing_is_placed(
    world: artifact_world.World,
) -> None:
    model = world.root / "models/model.txt"
    digest = world.hasher.file_digest(model)
    world.cache.corrupt(digest, silently=True)
    model.unlink()

    with pytest.raises(errors.CacheCorruptError, match=f"train:model.*{digest} is corrupt"):
        world.checkout("train:model", verify=True)
    assert not model.exists()


def test_restored_files_are_memoised_so_the_next_check_does_not_re_read_them(
    world: artifact_world.World,
) -> None:
    recorded = world.record("train", {"train:model": "model v2", "train:score": '{"acc": 2.0}'})
    (world.root / "models/model.txt").unlink()
    state = state_store.MemoryStateStore()
    service = checkout.CheckoutService(
        project_root=world.root,
        locks=world.locks,
        digest_service=digests.DigestService(state, world.hasher, world.workspace),
        cache=world.cache,
        workspace=world.workspace,
    )

    service.checkout(world.pipe, checkout.CheckoutOptions(targets=()), cwd=world.root)

    model = world.root / "models/model.txt"
    stamp = state_store_port.FileStamp.of(os.stat(model))
    assert state.lookup_hash(str(model), stamp) == recorded["train:model"]
