import pathlib
import sys

import pytest

from benchmarks import measure

STRACE = """\
4242  write(5</p/.pivot/stages/s0001.lock.tmp>, ""..., 300) = 300
4242  write(5</p/.pivot/stages/s0002.lock.tmp>, ""..., 310) = 310
4243  write(1<pipe:[123]>, ""..., 12) = 12
4243  pwrite64(7</p/.pivot/state.lmdb/data.mdb>, ""..., 4096, 8192) = 4096
4244  write(3</q/dvc.lock>, ""..., 5000) = 5000
4244  write(3</q/dvc.lock>, ""..., 5000 <unfinished ...>
4245  write(4</p/.pivot/stages/s0003.lock.tmp>, ""..., 90 <unfinished ...>
4242  write(1<pipe:[9]>, ""..., 7) = 7
4245  <... write resumed>)              = 90
4244  <... write resumed>) = 5000
"""


def test_strace_bytes_counts_only_matching_files() -> None:
    assert measure.parse_strace_bytes(STRACE, lambda p: "/.pivot/stages/" in p) == 700
    assert measure.parse_strace_bytes(STRACE, lambda p: p.endswith("dvc.lock")) == 10000
    assert measure.parse_strace_bytes(STRACE, lambda p: "state.lmdb" in p) == 4096


def test_count_changed_counts_new_and_rewritten_outputs() -> None:
    before = {"a.txt": 1, "b.txt": 2}
    after = {"a.txt": 1, "b.txt": 3, "c.txt": 4}

    assert measure.count_changed(before, after) == 2
    assert measure.count_changed(after, after) == 0


def test_output_mtimes_lists_stage_outputs_only(tmp_path: pathlib.Path) -> None:
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "s0000.txt").write_text("x")
    (tmp_path / "out" / ".gitignore").write_text("/s0000.txt\n")

    assert list(measure.output_mtimes(tmp_path)) == ["s0000.txt"]
    assert measure.output_mtimes(tmp_path / "missing") == {}


def test_failed_command_reports_its_last_line(tmp_path: pathlib.Path) -> None:
    command = [sys.executable, "-c", "import sys; print('first'); sys.exit('boom: fix it')"]

    with pytest.raises(measure.CommandFailedError) as caught:
        measure.timed(command, tmp_path, {})

    assert caught.value.returncode == 1
    assert "boom: fix it" in caught.value.short


@pytest.mark.skipif(not measure.strace_available(), reason="strace not installed")
def test_bytes_written_follows_child_processes(tmp_path: pathlib.Path) -> None:
    child = "import pathlib; pathlib.Path('x.lock').write_text('a' * 1000)"
    parent = f"import subprocess, sys; subprocess.run([sys.executable, '-c', {child!r}])"

    written = measure.bytes_written(
        [sys.executable, "-c", parent], tmp_path, {}, lambda p: p.endswith(".lock")
    )

    assert written == 1000
