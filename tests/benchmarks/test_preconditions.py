import os
import pathlib

from benchmarks import preconditions


class FakeTime:
    """A clock that only moves when told to, or when slept on."""

    def __init__(self, now: float) -> None:
        self.now = now
        self.slept: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def _tree(root: pathlib.Path) -> pathlib.Path:
    (root / "d").mkdir(parents=True)
    (root / "d" / "f").write_text("x")
    os.chmod(root / "d", 0o555)  # read-only, as cache directories are
    return root


def test_settle_waits_until_the_last_deletion_is_old_enough(tmp_path: pathlib.Path) -> None:
    time = FakeTime(1000.0)
    deletions = preconditions.Deletions(tmp_path / "stamp", clock=time.clock, sleep=time.sleep)
    deletions.remove(_tree(tmp_path / "old"))
    time.now += 30

    first = deletions.settle(100)
    second = deletions.settle(100)

    assert not (tmp_path / "old").exists()
    assert (first, second) == (70, 0)
    assert time.slept == [70]
    assert time.now == 1100


def test_the_next_run_knows_when_the_last_one_deleted(tmp_path: pathlib.Path) -> None:
    time = FakeTime(1000.0)
    stamp = tmp_path / "stamp"
    preconditions.Deletions(stamp, clock=time.clock, sleep=time.sleep).remove(_tree(tmp_path / "t"))
    time.now += 50

    later = preconditions.Deletions(stamp, clock=time.clock, sleep=time.sleep)

    assert later.settle(360) == 310


def test_nothing_to_delete_is_not_a_deletion(tmp_path: pathlib.Path) -> None:
    time = FakeTime(1000.0)
    deletions = preconditions.Deletions(tmp_path / "stamp", clock=time.clock, sleep=time.sleep)

    deletions.remove(tmp_path / "absent")

    assert deletions.settle(360) == 0
    assert not (tmp_path / "stamp").exists()


def test_aside_keeps_each_tree_whole_under_its_root(tmp_path: pathlib.Path) -> None:
    aside = preconditions.Aside(tmp_path / "aside")
    for i in range(2):
        (tmp_path / "p" / "data").mkdir(parents=True)
        (tmp_path / "p" / "data" / "f").write_text(str(i))
        inode = (tmp_path / "p" / "data" / "f").stat().st_ino
        aside.put(tmp_path / "p" / "data")
        assert not (tmp_path / "p" / "data").exists()
        assert inode in {p.stat().st_ino for p in (tmp_path / "aside").rglob("f")}
    aside.put(tmp_path / "p" / "data")  # absent: nothing to move

    kept = sorted((p.parent.name, p.read_text()) for p in (tmp_path / "aside").rglob("f"))
    assert kept == [("0000-data", "0"), ("0001-data", "1")]


def test_warm_reads_every_file_but_the_huge_ones(tmp_path: pathlib.Path) -> None:
    (tmp_path / "a" / "b").mkdir(parents=True)
    (tmp_path / "a" / "one").write_bytes(b"1" * 10)
    (tmp_path / "a" / "b" / "two").write_bytes(b"2" * 3000)
    with open(tmp_path / "a" / "huge", "wb") as f:
        f.truncate(preconditions.WARM_MAX_BYTES + 1)
    (tmp_path / "a" / "dangling").symlink_to(tmp_path / "nowhere")

    assert preconditions.warm(tmp_path / "a") == (2, 3010)


def test_a_filesystem_without_a_block_device_skips_no_inodes() -> None:
    assert preconditions.skips_recent_inodes(pathlib.Path("/proc")) is False
