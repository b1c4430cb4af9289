import io
import itertools
import os
import pathlib
from collections.abc import Callable

import pytest
from tests import s3_server

from pivot.adapters.memory import remote as memory_remote
from pivot.adapters.remote import directory_remote, obstore_remote
from pivot.domain import errors
from pivot.ports import remote as remote_port

_buckets = itertools.count()


def _memory(tmp_path: pathlib.Path, request: pytest.FixtureRequest) -> remote_port.Remote:
    return memory_remote.MemoryRemote()


def _local(tmp_path: pathlib.Path, request: pytest.FixtureRequest) -> remote_port.Remote:
    return obstore_remote.ObstoreRemote(str(tmp_path / "remote"))


def _directory(tmp_path: pathlib.Path, request: pytest.FixtureRequest) -> remote_port.Remote:
    return directory_remote.DirectoryRemote(str(tmp_path / "remote"))


def _s3(tmp_path: pathlib.Path, request: pytest.FixtureRequest) -> remote_port.Remote:
    endpoint: str = request.getfixturevalue("s3_endpoint")
    bucket = f"contract-{next(_buckets)}"
    s3_server.create_bucket(endpoint, bucket)
    return obstore_remote.ObstoreRemote(
        f"s3://{bucket}/team/cache", endpoint_url=endpoint, allow_http=True, timeout=5
    )


@pytest.fixture(
    params=[_memory, _directory, _local, _s3],
    ids=["memory", "directory", "obstore-local-dir", "s3-moto"],
)
def remote(request: pytest.FixtureRequest, tmp_path: pathlib.Path) -> remote_port.Remote:
    factory: Callable[[pathlib.Path, pytest.FixtureRequest], remote_port.Remote] = request.param
    return factory(tmp_path, request)


class Recorder:
    def __init__(self) -> None:
        self.files = 0
        self.nbytes = 0

    def add_total(self, files: int = 0, nbytes: int = 0) -> None:
        pass

    def advance(self, files: int = 0, nbytes: int = 0) -> None:
        self.files += files
        self.nbytes += nbytes


def _put(remote: remote_port.Remote, key: str, data: bytes) -> None:
    remote.put(key, io.BytesIO(data), len(data))


def test_put_then_get_round_trips_bytes_and_reports_progress(remote: remote_port.Remote) -> None:
    data = bytes(range(256)) * 50_000  # 12.8 MB: multipart on object stores
    up, down = Recorder(), Recorder()

    remote.put("files/ab/cdef", io.BytesIO(data), len(data), up)
    got = b"".join(remote.get("files/ab/cdef", down))

    assert got == data
    assert (up.files, up.nbytes) == (1, len(data))
    assert (down.files, down.nbytes) == (1, len(data))


def test_exists_answers_small_and_large_batches(remote: remote_port.Remote) -> None:
    stored = [f"files/{i:02x}/obj{i}" for i in range(70)]
    for key in stored:
        _put(remote, key, key.encode())
    missing = [f"files/{i:02x}/absent{i}" for i in range(70)]

    assert remote.exists([stored[0], missing[0]]) == {stored[0]}
    assert remote.exists(stored + missing) == set(stored)
    assert remote.exists([]) == set()


def test_list_returns_keys_under_a_prefix(remote: remote_port.Remote) -> None:
    _put(remote, "files/ab/one", b"1")
    _put(remote, "files/cd/two", b"2")
    _put(remote, "runs/sig", b"{}")

    assert sorted(remote.list("files/")) == ["files/ab/one", "files/cd/two"]
    assert list(remote.list("nothing/")) == []


def test_get_of_an_absent_key_is_a_remote_miss(remote: remote_port.Remote) -> None:
    with pytest.raises(errors.RemoteMissError, match="files/zz/absent"):
        b"".join(remote.get("files/zz/absent"))


def test_put_overwrites_and_delete_ignores_absent_keys(remote: remote_port.Remote) -> None:
    _put(remote, "runs/a", b"old")
    _put(remote, "runs/a", b"new")
    _put(remote, "runs/b", b"b")

    remote.delete(["runs/b", "runs/never"])

    assert b"".join(remote.get("runs/a")) == b"new"
    assert sorted(remote.list("runs/")) == ["runs/a"]


def test_url_names_the_remote(remote: remote_port.Remote) -> None:
    assert remote.url


class _FailingSource(io.RawIOBase):
    """Gives some bytes, then fails as a disk or network read would."""

    def __init__(self) -> None:
        self._served = False

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: "bytearray | memoryview") -> int:  # pyright: ignore[reportIncompatibleMethodOverride]
        if self._served:
            raise OSError(5, "Input/output error")
        self._served = True
        buffer[:4] = b"part"
        return 4


def test_a_failed_put_leaves_no_object_visible(remote: remote_port.Remote) -> None:
    with pytest.raises((OSError, errors.PivotError)):
        remote.put("files/ab/broken", io.BufferedReader(_FailingSource()), 1 << 20)

    assert remote.exists(["files/ab/broken"]) == set()
    assert list(remote.list("files/")) == []


def test_a_lent_file_holds_the_object_itself(remote: remote_port.Remote) -> None:
    data = b"lent" * 1000
    _put(remote, "files/ab/cdef", data)

    path = remote.local_file("files/ab/cdef")

    if path is not None:  # a directory remote: the cache may hard-link this very file
        assert pathlib.Path(path).read_bytes() == data
        assert not os.stat(path).st_mode & 0o222
