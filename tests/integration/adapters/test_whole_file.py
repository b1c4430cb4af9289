import os
import pathlib
from collections.abc import Callable

import pytest

from pivot.adapters import whole_file


def _writer(data: bytes) -> Callable[[int], None]:
    def fill(fd: int) -> None:
        os.write(fd, data)

    return fill


def _failing(fd: int) -> None:
    os.write(fd, b"half")
    raise OSError(5, "Input/output error")


def test_creates_the_file_and_its_directory_with_the_mode(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "ab" / "cdef"

    assert whole_file.create(str(path), _writer(b"bytes"), 0o444)

    assert path.read_bytes() == b"bytes"
    assert path.stat().st_mode & 0o777 == 0o444
    assert os.listdir(path.parent) == ["cdef"]


def test_an_existing_file_is_left_alone_unless_replaced(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "obj"
    path.write_bytes(b"first")

    kept = whole_file.create(str(path), _writer(b"second"), 0o444)
    assert path.read_bytes() == b"first"
    replaced = whole_file.create(str(path), _writer(b"third"), 0o444, replace=True)

    assert (kept, replaced) == (False, True)
    assert path.read_bytes() == b"third"
    assert os.listdir(tmp_path) == ["obj"]


def test_a_failed_fill_leaves_nothing(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "obj"

    with pytest.raises(OSError, match="Input/output error"):
        whole_file.create(str(path), _failing, 0o444)

    assert os.listdir(tmp_path) == []


def test_without_unnamed_files_a_hidden_temp_is_renamed_in(
    tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(whole_file, "_UNNAMED", False)
    path = tmp_path / "sub" / "obj"

    created = whole_file.create(str(path), _writer(b"bytes"), 0o444)
    with pytest.raises(OSError, match="Input/output error"):
        whole_file.create(str(tmp_path / "sub" / "other"), _failing, 0o444)

    assert created
    assert path.read_bytes() == b"bytes"
    assert os.listdir(path.parent) == ["obj"]


def _refusing_linkat(*args: object) -> int:
    import ctypes
    import errno

    ctypes.set_errno(errno.ENOENT)  # what kernels before 6.10 say to unprivileged callers
    return -1


@pytest.mark.parametrize("linkat", ["kernel", "refused", "absent"])
def test_the_unnamed_file_is_named_by_whichever_link_the_kernel_allows(
    tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch, linkat: str
) -> None:
    if linkat != "kernel":
        monkeypatch.setattr(
            whole_file, "_FLINK", [_refusing_linkat if linkat == "refused" else None]
        )
    path = tmp_path / "obj"

    created = whole_file.create(str(path), _writer(b"bytes"), 0o444)
    kept = whole_file.create(str(path), _writer(b"other"), 0o444)
    replaced = whole_file.create(str(path), _writer(b"third"), 0o444, replace=True)

    assert (created, kept, replaced) == (True, False, True)
    assert path.read_bytes() == b"third"
    assert os.listdir(tmp_path) == ["obj"]
    if linkat == "refused":  # asked once: the /proc link from then on
        assert whole_file._FLINK == [None]  # pyright: ignore[reportPrivateUsage]
