from collections.abc import Iterator

import pytest

from tests import s3_server


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    """Endpoint of a moto S3 server for this test session (started on first use)."""
    with s3_server.running() as endpoint:
        yield endpoint
