import dataclasses
from collections.abc import Iterator

import pytest

from tests import s3_server


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    """Endpoint of a moto S3 server for this test session (started on first use)."""
    with s3_server.running() as endpoint:
        yield endpoint


@dataclasses.dataclass
class RecordingProgress:
    """A `Progress` that sums what it is told; `done()`: the work announced is the work done."""

    files_total: int = 0
    bytes_total: int = 0
    files: int = 0
    nbytes: int = 0

    def add_total(self, files: int = 0, nbytes: int = 0) -> None:
        self.files_total += files
        self.bytes_total += nbytes

    def advance(self, files: int = 0, nbytes: int = 0) -> None:
        self.files += files
        self.nbytes += nbytes

    def done(self) -> bool:
        return (self.files, self.nbytes) == (self.files_total, self.bytes_total)


@pytest.fixture
def progress() -> RecordingProgress:
    """Records the progress an adapter or use case reports (any test directory can use it)."""
    return RecordingProgress()
