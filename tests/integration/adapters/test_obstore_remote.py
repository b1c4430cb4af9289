import io
import itertools
from collections.abc import Callable

import pytest
from tests import bad_endpoints, s3_server

from pivot.adapters.remote import obstore_remote
from pivot.domain import errors

_buckets = itertools.count()
_KEYS = [f"files/{i:02x}/obj{i}" for i in range(70)]

Operation = Callable[[obstore_remote.ObstoreRemote], object]

OPERATIONS: dict[str, Operation] = {
    "exists-heads": lambda r: r.exists(_KEYS[:3]),
    "exists-listing": lambda r: r.exists(_KEYS),
    "list": lambda r: list(r.list("files/")),
    "put": lambda r: r.put("files/ab/small", io.BytesIO(b"x" * 100), 100),
    "put-multipart": lambda r: r.put("files/ab/large", io.BytesIO(b"x" * (9 << 20)), 9 << 20),
    "get": lambda r: b"".join(r.get("files/ab/cdef")),
    "delete": lambda r: r.delete(["files/ab/cdef"]),
}


@pytest.mark.timeout(120)  # the guard: a hang fails the test instead of stalling the run
@pytest.mark.parametrize("operation", OPERATIONS.values(), ids=OPERATIONS.keys())
def test_a_server_that_never_answers_fails_naming_the_endpoint_and_the_bound(
    black_hole: str, operation: Operation
) -> None:
    remote = obstore_remote.ObstoreRemote(
        "s3://some-bucket/p", endpoint_url=black_hole, allow_http=True, timeout=1, name="origin"
    )

    with pytest.raises(errors.RemoteError) as caught:
        operation(remote)

    message = str(caught.value)
    assert not isinstance(caught.value, errors.RemoteMissError)
    assert f"cannot reach remote s3://some-bucket/p (endpoint {black_hole})" in message
    if operation in (OPERATIONS["put"], OPERATIONS["put-multipart"]):
        assert "no answer within 5s (an upload: 5 × remotes.origin.timeout)" in message
    else:
        assert "no answer within 1s (remotes.origin.timeout)" in message
    assert "\n" not in message


@pytest.mark.parametrize("operation", OPERATIONS.values(), ids=OPERATIONS.keys())
def test_a_missing_bucket_is_named_by_every_operation(
    s3_endpoint: str, operation: Operation
) -> None:
    remote = obstore_remote.ObstoreRemote(
        "s3://never-created/p", endpoint_url=s3_endpoint, allow_http=True, timeout=5, name="origin"
    )

    with pytest.raises(errors.RemoteError) as caught:
        operation(remote)

    assert not isinstance(caught.value, errors.RemoteMissError)
    assert str(caught.value) == (
        f"bucket 'never-created' does not exist at {s3_endpoint} "
        + "(create it, or fix remotes.origin.url)"
    )


def test_objects_missing_from_an_existing_bucket_are_plain_misses(s3_endpoint: str) -> None:
    bucket = f"probe-{next(_buckets)}"
    s3_server.create_bucket(s3_endpoint, bucket)
    remote = obstore_remote.ObstoreRemote(
        f"s3://{bucket}/p", endpoint_url=s3_endpoint, allow_http=True, timeout=5
    )

    assert remote.exists(_KEYS[:3]) == set()
    assert remote.exists(_KEYS) == set()
    assert list(remote.list("files/")) == []
    remote.delete(["files/ab/cdef"])
    with pytest.raises(errors.RemoteMissError, match="files/ab/cdef"):
        b"".join(remote.get("files/ab/cdef"))


def test_an_azure_container_is_called_a_container(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AZURE_STORAGE_ACCOUNT_NAME", "devstoreaccount1")
    monkeypatch.setenv("AZURE_STORAGE_ACCOUNT_KEY", "a2V5" * 11)
    with bad_endpoints.not_found() as endpoint:
        remote = obstore_remote.ObstoreRemote(
            "az://no-container/p", endpoint_url=endpoint, allow_http=True, timeout=5, name="blob"
        )
        with pytest.raises(errors.RemoteError) as caught:
            remote.exists(_KEYS[:3])

    assert str(caught.value) == (
        f"container 'no-container' does not exist at {endpoint} "
        + "(create it, or fix remotes.blob.url)"
    )


@pytest.mark.timeout(120)
def test_transfers_longer_than_the_timeout_go_through_while_bytes_flow(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name, value in s3_server.CREDENTIALS.items():
        monkeypatch.setenv(name, value)
    data = bytes(range(256)) * (8 * 1024)  # 2 MiB: two seconds each way at 1 MiB/s
    with bad_endpoints.slow_link(bytes_per_second=1 << 20) as endpoint:
        remote = obstore_remote.ObstoreRemote(
            "s3://slow/p", endpoint_url=endpoint, allow_http=True, timeout=1
        )

        remote.put("files/ab/cdef", io.BytesIO(data), len(data))
        got = b"".join(remote.get("files/ab/cdef"))

    assert got == data
