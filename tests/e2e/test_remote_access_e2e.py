import contextlib
import json
import pathlib
import urllib.request
from collections.abc import Iterator

import pytest

from tests import s3_server
from tests.e2e import team_project
from tests.e2e.conftest import Project

READ_ONLY = {
    "Version": "2012-10-17",
    "Statement": [
        {"Effect": "Allow", "Action": ["s3:ListBucket", "s3:GetObject"], "Resource": "*"}
    ],
}


@contextlib.contextmanager
def _auth_enforced(endpoint: str) -> Iterator[None]:
    """moto authenticates and authorizes every request inside the block (off by default)."""
    _enforce_auth(endpoint, "0")
    try:
        yield
    finally:
        _enforce_auth(endpoint, "inf")


def _enforce_auth(endpoint: str, after: str) -> None:
    """moto's switch: check every request after `after` more ('inf': never)."""
    request = urllib.request.Request(
        f"{endpoint}/moto-api/reset-auth",
        data=after.encode(),
        method="POST",
        headers={"Content-Type": "text/plain"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 200


@pytest.fixture
def reader_keys(s3_endpoint: str) -> Iterator[dict[str, str]]:
    """Keys of an IAM user allowed only to list and read."""
    import boto3

    iam = boto3.client("iam", endpoint_url=s3_endpoint, region_name="us-east-1")
    iam.create_user(UserName="reader")
    iam.put_user_policy(
        UserName="reader", PolicyName="read-only", PolicyDocument=json.dumps(READ_ONLY)
    )
    key = iam.create_access_key(UserName="reader")["AccessKey"]
    try:
        yield {
            "AWS_ACCESS_KEY_ID": key["AccessKeyId"],
            "AWS_SECRET_ACCESS_KEY": key["SecretAccessKey"],
        }
    finally:
        iam.delete_access_key(UserName="reader", AccessKeyId=key["AccessKeyId"])
        iam.delete_user_policy(UserName="reader", PolicyName="read-only")
        iam.delete_user(UserName="reader")


def _objects(endpoint: str, bucket: str) -> list[str]:
    import boto3

    s3 = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1")
    return [o["Key"] for o in s3.list_objects_v2(Bucket=bucket).get("Contents", [])]


def _s3_remote(project: Project, endpoint: str, bucket: str) -> None:
    s3_server.create_bucket(endpoint, bucket)
    assert project.pivot("remote", "add", "origin", f"s3://{bucket}/pivot").returncode == 0
    for key, value in (("endpoint_url", endpoint), ("allow_http", "true")):
        assert project.pivot("config", "set", f"remotes.origin.{key}", value).returncode == 0


@pytest.mark.slow
def test_push_without_write_permission_is_one_line_and_writes_nothing(
    project: Project,
    s3_endpoint: str,
    reader_keys: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _s3_remote(project, s3_endpoint, "denied-push")
    assert project.pivot("run").returncode == 0
    for name, value in reader_keys.items():
        monkeypatch.setenv(name, value)

    with _auth_enforced(s3_endpoint):
        done = project.pivot("push")

    assert done.returncode == 1
    assert "access denied to remote s3://denied-push/pivot" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1, done.stderr
    assert _objects(s3_endpoint, "denied-push") == []


@pytest.mark.slow
def test_pull_with_unknown_credentials_is_one_line_and_places_nothing(
    team: Project,
    tmp_path: pathlib.Path,
    s3_endpoint: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _s3_remote(team, s3_endpoint, "denied-pull")
    assert team.pivot("push").returncode == 0
    team_project.commit(team)
    b = team_project.clone(team, tmp_path / "clone-b")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAUNKNOWNKEY000000")
    with _auth_enforced(s3_endpoint):
        done = b.pivot("pull")

    assert done.returncode == 1
    assert "access denied to remote s3://denied-pull/pivot" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1, done.stderr
    assert team_project.cached_objects(b) == set()
    for rel in team_project.CACHED:
        assert not (b.root / rel).exists(), rel


@pytest.fixture
def team(project: Project) -> Project:
    return team_project.make_team(project)
