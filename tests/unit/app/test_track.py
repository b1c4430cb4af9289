import json
import pathlib

import pytest

from pivot.app import artifacts, track
from pivot.domain import errors
from pivot.ports import content_cache
from tests.fakes.progress import RecordingProgress
from tests.unit.app import artifact_world


@pytest.fixture
def world(tmp_path: pathlib.Path) -> artifact_world.World:
    return artifact_world.World(tmp_path)


def test_tracking_a_file_writes_pvt_and_caches_content(world: artifact_world.World) -> None:
    data = world.write("raw/data.txt", "hello")

    (result,) = world.track("raw/data.txt")

    assert result.action is track.TrackAction.TRACKED
    manifest = json.loads((world.root / "raw/data.txt.pvt").read_text())
    digest = world.hasher.file_digest(data)
    assert manifest == {"schema_version": 1, "path": "data.txt", "hash": digest, "size": 5}
    assert world.cache.has(digest)


def test_tracking_a_directory_caches_every_file(world: artifact_world.World) -> None:
    world.write("images/a.png", "aa")
    world.write("images/sub/b.png", "bbb")

    (result,) = world.track("images")

    assert result.tracked.nfiles == 2
    assert result.tracked.size == 5
    assert world.cache.read_tree(result.tracked.digest).keys() == {"a.png", "sub/b.png"}
    assert all(world.cache.has(d) for d in world.cache.read_tree(result.tracked.digest).values())


def test_retracking_updates_only_when_changed(world: artifact_world.World) -> None:
    world.write("raw/data.txt", "hello")
    world.track("raw/data.txt")

    assert world.track("raw/data.txt")[0].action is track.TrackAction.UNCHANGED

    world.write("raw/data.txt", "hello, world")
    (result,) = world.track("raw/data.txt")

    assert result.action is track.TrackAction.UPDATED
    assert artifacts.read_pvt(world.root / "raw/data.txt.pvt", world.workspace).size == 12


def test_status_reports_clean_modified_missing(world: artifact_world.World) -> None:
    for name in ("a", "b", "c"):
        world.write(f"{name}.txt", name)
    world.track("a.txt", "b.txt", "c.txt")
    world.write("b.txt", "changed")
    (world.root / "c.txt").unlink()

    states = {s.tracked.display(world.root): s.state for s in world.track_service().status()}

    assert states == {"a.txt": "clean", "b.txt": "modified", "c.txt": "missing"}


@pytest.mark.parametrize(
    ("target", "message"),
    [
        ("models/model.txt", "is an output of stage 'train' \\('train:model'\\)"),
        ("data/t", "contains stage outputs \\(placed → data/t/placed.txt\\)"),
        ("nowhere.txt", "no such file or directory"),
        ("../outside.txt", "outside the project root"),
    ],
)
def test_bad_paths_are_refused_and_nothing_is_written(
    world: artifact_world.World, target: str, message: str
) -> None:
    world.record_all()
    world.write("raw/ok.txt", "fine")
    (world.root.parent / "outside.txt").write_text("x")
    before = set(world.cache.iter_digests())

    with pytest.raises(errors.TargetError, match=message):
        world.track("raw/ok.txt", target)

    assert not list(world.root.rglob("*.pvt"))
    assert set(world.cache.iter_digests()) == before


def test_nested_tracking_is_refused(world: artifact_world.World) -> None:
    world.write("raw/a/x.txt", "x")
    world.track("raw")

    with pytest.raises(errors.TargetError, match="inside the tracked directory 'raw'"):
        world.track("raw/a/x.txt")


class _TotalsSeen(RecordingProgress):
    """Records the announced byte total at every step of progress."""

    def __init__(self) -> None:
        super().__init__()
        self.totals_at_advance: list[int] = []

    def advance(self, files: int = 0, nbytes: int = 0) -> None:
        super().advance(files, nbytes)
        self.totals_at_advance.append(self.bytes_total)


@pytest.mark.parametrize("target", ["raw/data.bin", "raw"])
def test_the_bar_knows_its_whole_total_before_it_moves(
    world: artifact_world.World, target: str
) -> None:
    world.write("raw/data.bin", "x" * 5000)
    world.write("raw/other.bin", "y" * 300)
    progress = _TotalsSeen()

    world.track(target, progress=progress)

    # hashing and storing both count: the total is announced once, before the first step
    size = 5000 if target == "raw/data.bin" else 5300
    assert progress.totals_at_advance
    assert set(progress.totals_at_advance) == {2 * size}
    assert progress.done()


def _inodes(root: pathlib.Path) -> dict[str, tuple[int, int]]:
    return {str(p): (p.stat().st_ino, p.stat().st_nlink) for p in root.rglob("*") if p.is_file()}


def test_an_unchanged_retrack_leaves_the_workspace_alone(world: artifact_world.World) -> None:
    world.write("images/a.png", "aa")
    world.write("images/sub/b.png", "bbb")
    world.write("notes.txt", "n")
    world.track("images", "notes.txt")  # copy: the workspace keeps its own files
    before = _inodes(world.root / "images") | _inodes(world.root / "notes.txt")

    results = world.track_service().track(
        world.pipe,
        ["images", "notes.txt"],
        cwd=world.root,
        link_modes=(content_cache.LinkMode.HARDLINK, content_cache.LinkMode.COPY),
    )

    assert [r.action for r in results] == [track.TrackAction.UNCHANGED] * 2
    assert _inodes(world.root / "images") | _inodes(world.root / "notes.txt") == before


def test_a_changed_retrack_links_the_new_version(world: artifact_world.World) -> None:
    world.write("images/a.png", "aa")
    world.track("images")
    world.write("images/b.png", "bbb")
    before = _inodes(world.root / "images")

    (result,) = world.track_service().track(
        world.pipe,
        ["images"],
        cwd=world.root,
        link_modes=(content_cache.LinkMode.HARDLINK, content_cache.LinkMode.COPY),
    )

    assert result.action is track.TrackAction.UPDATED
    assert _inodes(world.root / "images").keys() == {
        str(world.root / "images" / n) for n in ("a.png", "b.png")
    }
    assert not set(_inodes(world.root / "images").values()) & set(before.values())


def test_an_unchanged_retrack_stores_a_member_the_cache_lost(world: artifact_world.World) -> None:
    world.write("images/a.png", "aa")
    world.write("images/b.png", "bbb")
    (first,) = world.track("images")
    lost = world.hasher.bytes_digest(b"bbb")
    world.cache.remove(lost)

    (again,) = world.track("images")

    assert again.action is track.TrackAction.UNCHANGED
    assert world.cache.has(lost)
    assert world.cache.verify(first.tracked.digest)
