import os
from collections.abc import Iterator

import pytest

from tests import bad_endpoints, s3_server
from tests.fakes.progress import RecordingProgress

FAST_PATH_ENV = {
    "default": {},
    # Every `pivot` the tests start checks in full: behaviour must not depend on the snapshot.
    "off": {"PIVOT_FAST": "0"},
    # The snapshot answers wherever it can: it trusts stamps however fresh, so a no-op that
    # follows a test's own writes (milliseconds later) is answered from it too; and the e2e
    # harness repeats every successful `pivot run`/`status` it may answer (tests/e2e/conftest.py
    # `Project.pivot`), so the test's next step meets a snapshot and must leave it.
    "eager": {"PIVOT_FAST_SETTLE_MS": "0", "E2E_REPEAT_NOOPS": "1"},
}


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--fast-path",
        choices=sorted(FAST_PATH_ENV),
        default="default",
        help="how every `pivot` subprocess treats the no-op snapshot (issue 15): default (as a "
        + "user gets it), off (PIVOT_FAST=0), eager (trusted however fresh its stamps are, and "
        + "every successful e2e `pivot run`/`status` repeated to record one)",
    )


def pytest_configure(config: pytest.Config) -> None:
    # Subprocesses inherit the environment; tests that need one mode set it themselves.
    os.environ.update(FAST_PATH_ENV[str(config.getoption("--fast-path"))])


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    """Endpoint of a moto S3 server for this test session (started on first use)."""
    with s3_server.running() as endpoint:
        yield endpoint


@pytest.fixture
def black_hole(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """Endpoint of a server that accepts connections and never answers (with S3 credentials
    set, as a user's would be: without them the client asks the instance metadata service)."""
    for name, value in s3_server.CREDENTIALS.items():
        monkeypatch.setenv(name, value)
    with bad_endpoints.black_hole() as endpoint:
        yield endpoint


@pytest.fixture
def progress() -> RecordingProgress:
    """Records the progress an adapter or use case reports (any test directory can use it)."""
    return RecordingProgress()
