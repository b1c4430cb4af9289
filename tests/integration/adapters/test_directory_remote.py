import io
import os
import pathlib

from pivot.adapters.remote import directory_remote


def test_leftovers_of_a_killed_upload_are_not_objects(tmp_path: pathlib.Path) -> None:
    remote = directory_remote.DirectoryRemote(str(tmp_path))
    remote.put("files/ab/cdef", io.BytesIO(b"whole"), 5)
    # What a SIGKILL between create and rename leaves: a hidden, empty temp file.
    (tmp_path / "files/ab/.0123.pivot-put-abcdef").write_bytes(b"")

    assert list(remote.list("files/")) == ["files/ab/cdef"]
    keys = [f"files/ab/{n}" for n in ["cdef", "0123", *(f"x{i}" for i in range(100))]]
    assert remote.exists(keys) == {"files/ab/cdef"}
    assert remote.exists(["files/ab/0123"]) == set()


def test_objects_are_read_only_copies_of_the_source_file(
    tmp_path: pathlib.Path,
) -> None:
    source = tmp_path / "source.bin"
    source.write_bytes(os.urandom(3 << 20))
    remote = directory_remote.DirectoryRemote(str(tmp_path / "remote"))

    with source.open("rb") as f:
        remote.put("files/12/3456", f, source.stat().st_size)

    stored = tmp_path / "remote/files/12/3456"
    assert stored.read_bytes() == source.read_bytes()
    assert stored.stat().st_mode & 0o777 == 0o444
    assert b"".join(remote.get("files/12/3456")) == source.read_bytes()


def test_lends_its_files_unless_told_not_to(tmp_path: pathlib.Path) -> None:
    lending = directory_remote.DirectoryRemote(str(tmp_path / "remote"))
    copying = directory_remote.DirectoryRemote(str(tmp_path / "remote"), hardlink=False)
    lending.put("files/12/3456", io.BytesIO(b"bytes"), 5)

    assert lending.local_file("files/12/3456") == str(tmp_path / "remote/files/12/3456")
    assert copying.local_file("files/12/3456") is None
