import io
import json
import pathlib
from collections.abc import Collection
from typing import BinaryIO

import pytest

from pivot.adapters.hashing import xxh3_hasher
from pivot.adapters.memory import content_cache, remote, splitter, state_store
from pivot.adapters.workspace import file_workspace_store
from pivot.app import artifacts, run_cache, transfer
from pivot.domain import lock
from pivot.ports import progress as progress_port
from tests.fakes import progress as fake_progress
from tests.unit.app import artifact_world


class RecordingRemote(remote.MemoryRemote):
    """A memory remote that remembers the order of uploads."""

    def __init__(self) -> None:
        super().__init__()
        self.puts: list[str] = []

    def put(
        self,
        key: str,
        source: BinaryIO,
        size: int,
        progress: progress_port.Progress = progress_port.NULL,
    ) -> None:
        super().put(key, source, size, progress)
        self.puts.append(key)

    def exists(self, keys: Collection[str]) -> set[str]:
        return super().exists(keys)


@pytest.fixture
def world(tmp_path: pathlib.Path) -> artifact_world.World:
    w = artifact_world.World(tmp_path)
    w.record_all()
    return w


@pytest.fixture
def shared() -> RecordingRemote:
    return RecordingRemote()


def _service(
    world: artifact_world.World,
    rem: RecordingRemote,
    state: state_store.MemoryStateStore | None = None,
) -> transfer.TransferService:
    return transfer.TransferService(
        project_root=world.root,
        locks=world.locks,
        cache=world.cache,
        hasher=world.hasher,
        state=state or state_store.MemoryStateStore(),
        remote_=rem,
        remote_name="origin",
        workspace=world.workspace,
    )


def _fresh_cache(world: artifact_world.World) -> None:
    """As on a teammate's clone: same lock records, empty cache."""
    world.cache = content_cache.MemoryContentCache()
    world.workspace = file_workspace_store.FileWorkspaceStore(world.cache)


def _opts(*targets: str, **kw: object) -> transfer.TransferOptions:
    return transfer.TransferOptions(targets=targets, **kw)  # pyright: ignore[reportArgumentType]


def test_push_uploads_every_cached_output_once(
    world: artifact_world.World, shared: RecordingRemote
) -> None:
    first = _service(world, shared).push(world.pipe, _opts(), cwd=world.root)
    second = _service(world, shared).push(world.pipe, _opts(), cwd=world.root)

    stored = sorted(world.cache.iter_digests())
    assert sorted(shared.list("files/")) == sorted(transfer.object_key(d) for d in stored)
    assert (first.files, first.already, first.failures) == (len(stored), 0, ())
    assert (second.files, second.already) == (0, len(stored))


def test_push_reports_the_bytes_it_sent_and_its_progress_adds_up(
    world: artifact_world.World, shared: RecordingRemote
) -> None:
    progress = fake_progress.RecordingProgress()

    report = _service(world, shared).push(world.pipe, _opts(), cwd=world.root, progress=progress)

    sizes = [len(b"".join(shared.get(key))) for key in shared.list("files/")]
    manifests = [k for k in shared.list("files/") if k.endswith(".dir")]
    sent = sum(sizes) - sum(len(b"".join(shared.get(k))) for k in manifests)
    assert report.nbytes == sent > 0
    assert progress.done()
    assert (progress.files, progress.nbytes) == (len(sizes) - len(manifests), sent)


def test_push_dry_run_counts_and_uploads_nothing(
    world: artifact_world.World, shared: RecordingRemote
) -> None:
    report = _service(world, shared).push(world.pipe, _opts(dry_run=True), cwd=world.root)

    assert report.files == len(list(world.cache.iter_digests()))
    assert shared.objects == {}


def test_fetch_brings_back_only_the_targets(
    world: artifact_world.World, shared: RecordingRemote
) -> None:
    _service(world, shared).push(world.pipe, _opts(), cwd=world.root)
    model = json.loads(json.dumps(world.locks.read(world.pipe.stages["train"])))["outs"]
    _fresh_cache(world)

    report = _service(world, shared).fetch(world.pipe, _opts("train:model"), cwd=world.root)

    assert report.files == 1
    assert list(world.cache.iter_digests()) == [model["train:model"]["hash"]]
    assert world.cache.verify(model["train:model"]["hash"])


def test_fetch_with_deps_adds_what_the_stage_reads(
    world: artifact_world.World, shared: RecordingRemote
) -> None:
    clean = world.record("prepare", {"prepare": "CLEAN"})["prepare"]
    record = world.locks.read(world.pipe.stages["train"])
    assert record is not None
    deps = {"clean.txt": clean, "raw/data.txt": "0" * 32}
    world.locks.write(world.pipe.stages["train"], lock.LockRecord(**{**record, "deps": deps}))
    _service(world, shared).push(world.pipe, _opts(), cwd=world.root)
    _fresh_cache(world)

    without = _service(world, shared).fetch(world.pipe, _opts("train"), cwd=world.root)
    has_clean_before = world.cache.has(clean)
    with_deps = _service(world, shared).fetch(
        world.pipe, _opts("train", with_deps=True), cwd=world.root
    )

    assert not has_clean_before
    assert world.cache.has(clean)
    assert without.failures == ()
    assert with_deps.failures == ()  # raw/data.txt is in git, not in any cache: not a failure


def test_corrupt_remote_object_is_named_and_never_stored(
    world: artifact_world.World, shared: RecordingRemote
) -> None:
    _service(world, shared).push(world.pipe, _opts(), cwd=world.root)
    record = world.locks.read(world.pipe.stages["train"])
    assert record is not None
    digest = record["outs"]["train:model"]["hash"]
    shared.objects[transfer.object_key(digest)] = b"bit-flipped"
    _fresh_cache(world)

    report = _service(world, shared).fetch(world.pipe, _opts(), cwd=world.root)

    assert [f.label for f in report.failures] == ["train:model → models/model.txt"]
    assert digest in report.failures[0].reason
    assert not world.cache.has(digest)


def test_directory_manifest_goes_up_after_its_files_and_comes_back_verified(
    world: artifact_world.World, shared: RecordingRemote
) -> None:
    world.write("images/a.png", "a")
    world.write("images/sub/b.png", "b")
    [tracked] = world.track("images")
    digest = artifacts.read_pvt(world.root / "images.pvt", world.workspace).digest
    _service(world, shared).push(world.pipe, _opts("images"), cwd=world.root)
    _fresh_cache(world)

    report = _service(world, shared).fetch(world.pipe, _opts("images.pvt"), cwd=world.root)

    assert tracked is not None
    assert shared.puts[-1] == transfer.object_key(digest)
    assert len(shared.puts) == 3
    assert report.files == 3  # two files, then the manifest
    assert world.cache.verify(digest)


def test_push_uploads_run_cache_entries_whose_outputs_are_there(
    world: artifact_world.World, shared: RecordingRemote
) -> None:
    state = state_store.MemoryStateStore()
    model = world.record("prepare", {"prepare": "CLEAN"})["prepare"]
    good = json.dumps({"prepare": {"hash": model, "path": "clean.txt"}}).encode()
    orphan = json.dumps({"prepare": {"hash": "f" * 32, "path": "clean.txt"}}).encode()
    state.put_many(run_cache.NAMESPACE, [("sig-good", good), ("sig-orphan", orphan)])

    report = _service(world, shared, state).push(world.pipe, _opts(), cwd=world.root)

    assert report.run_entries == 1
    assert sorted(shared.list("runs/")) == ["runs/sig-good"]
    assert b"".join(shared.get("runs/sig-good")) == good


def test_status_counts_both_directions(
    world: artifact_world.World, shared: RecordingRemote
) -> None:
    service = _service(world, shared)
    before = service.status(world.pipe, cwd=world.root)
    service.push(world.pipe, _opts("prepare"), cwd=world.root)
    world.cache.remove(world.record("prepare", {"prepare": "CLEAN"})["prepare"])

    after = service.status(world.pipe, cwd=world.root)

    total = before.to_push
    assert (before.to_pull, before.missing) == (0, 0)
    assert (after.to_push, after.to_pull, after.in_sync) == (total - 1, 1, 0)


def test_missing_local_object_is_a_push_failure(
    world: artifact_world.World, shared: RecordingRemote
) -> None:
    digest = world.record("prepare", {"prepare": "CLEAN"})["prepare"]
    world.cache.remove(digest)

    report = _service(world, shared).push(world.pipe, _opts("prepare"), cwd=world.root)

    assert [f.label for f in report.failures] == ["prepare → clean.txt"]
    assert shared.objects == {}


def test_memory_remote_reads_whole_sources() -> None:
    rem = remote.MemoryRemote()
    rem.put("files/ab/c", io.BytesIO(b"xyz"), 3)
    assert b"".join(rem.get("files/ab/c")) == b"xyz"


def _many_on_remote(shared: RecordingRemote, count: int) -> dict[str, bytes]:
    hasher = xxh3_hasher.Xxh3Hasher()
    blobs = {
        hasher.bytes_digest(data): data for data in (f"object {i}\n".encode() for i in range(count))
    }
    for digest, data in blobs.items():
        shared.put(transfer.object_key(digest), io.BytesIO(data), len(data))
    return blobs


def test_many_objects_move_in_slices_when_there_is_a_splitter(
    world: artifact_world.World, shared: RecordingRemote
) -> None:
    blobs = _many_on_remote(shared, 1200)
    bad = next(iter(blobs))
    shared.objects[transfer.object_key(bad)] = b"flipped"
    cut = splitter.SlicingSplitter()
    service = _service(world, shared)
    service._splitter = cut  # pyright: ignore[reportPrivateUsage]
    progress = fake_progress.RecordingProgress()
    _fresh_cache(world)
    service._cache = world.cache  # pyright: ignore[reportPrivateUsage]

    report = service.fetch_objects(
        {d: f"obj{i}" for i, d in enumerate(blobs)}, jobs=2, progress=progress
    )

    assert cut.slices == [600, 600]
    assert report.files == 1199
    assert [f.label for f in report.failures] == ["obj0"]
    assert sorted(world.cache.iter_digests()) == sorted(d for d in blobs if d != bad)
    assert progress.files == progress.files_total == 1200  # every object tried, once


def test_one_job_or_few_objects_use_no_splitter(
    world: artifact_world.World, shared: RecordingRemote
) -> None:
    blobs = _many_on_remote(shared, 1200)
    cut = splitter.SlicingSplitter()
    service = _service(world, shared)
    service._splitter = cut  # pyright: ignore[reportPrivateUsage]
    _fresh_cache(world)
    service._cache = world.cache  # pyright: ignore[reportPrivateUsage]
    digests = list(blobs)

    one_job = service.fetch_objects({d: d for d in digests[:700]}, jobs=1)
    few = service.fetch_objects({d: d for d in digests[700:]}, jobs=2)

    assert cut.slices == []
    assert (one_job.files, few.files) == (700, 500)


def test_push_from_a_clone_without_the_data_counts_what_the_remote_has(
    world: artifact_world.World, shared: RecordingRemote
) -> None:
    first = _service(world, shared).push(world.pipe, _opts(), cwd=world.root)
    lost = next(k for k in shared.list("files/") if not k.endswith(".dir"))
    del shared.objects[lost]
    _fresh_cache(world)  # a teammate's clone that pulled nothing
    shared.puts.clear()

    again = _service(world, shared).push(world.pipe, _opts(), cwd=world.root)

    assert shared.puts == []
    assert again.files == 0
    assert again.already == first.files - 1
    assert [f.reason for f in again.failures] == [
        f"{transfer.digest_of(lost)} is in neither the local cache nor the remote"
    ]


def test_a_fetched_directory_counts_its_manifest_in_the_progress_as_in_the_report(
    world: artifact_world.World, shared: RecordingRemote
) -> None:
    hasher = xxh3_hasher.Xxh3Hasher()
    blobs = _many_on_remote(shared, 3)
    manifest = {f"f{i}.txt": d for i, d in enumerate(blobs)}
    tree = hasher.tree_digest(manifest.items())
    data = json.dumps(manifest, sort_keys=True).encode()
    shared.put(transfer.object_key(tree), io.BytesIO(data), len(data))
    _fresh_cache(world)
    service = _service(world, shared)
    progress = fake_progress.RecordingProgress()

    report = service.fetch_objects({tree: "images"}, jobs=2, progress=progress)

    assert report.files == 4
    assert (progress.files, progress.files_total) == (4, 4)
    assert progress.nbytes == sum(map(len, blobs.values())) + len(data)
