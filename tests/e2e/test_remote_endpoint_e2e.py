import pathlib

import pytest

from tests.e2e import team_project
from tests.e2e.conftest import Project


@pytest.fixture
def team(project: Project) -> Project:
    return team_project.make_team(project)


COMMANDS = (("push",), ("fetch",), ("pull",), ("status", "--remote"))


def _clones(team: Project, tmp_path: pathlib.Path, url: str, endpoint: str) -> dict[str, Project]:
    """Clone A (ran, has the data) and clone B (a fresh checkout), both on remote `origin` at
    `url` through `endpoint`; push and status run in A, fetch and pull in B."""
    assert team.pivot("remote", "add", "origin", url).returncode == 0
    team_project.commit(team)
    b = team_project.clone(team, tmp_path / "clone-b")
    for proj in (team, b):
        for key, value in (("endpoint_url", endpoint), ("allow_http", "true"), ("timeout", "1")):
            done = proj.pivot("config", "set", f"remotes.origin.{key}", value, "--local")
            assert done.returncode == 0, done.stderr
    return {"push": team, "status": team, "fetch": b, "pull": b}


@pytest.mark.slow
def test_a_server_that_never_answers_is_one_line_naming_the_endpoint(
    team: Project, tmp_path: pathlib.Path, black_hole: str
) -> None:
    where = _clones(team, tmp_path, "s3://some-bucket/pivot", black_hole)

    for command in COMMANDS:
        done = where[command[0]].pivot(*command)  # returns: Project.pivot's timeout is the guard

        assert done.returncode == 1, (command, done.stderr)
        assert done.stderr.strip().splitlines() == [done.stderr.strip()], (command, done.stderr)
        assert f"cannot reach remote s3://some-bucket/pivot (endpoint {black_hole})" in done.stderr
        assert "no answer within 1s (remotes.origin.timeout)" in done.stderr, done.stderr
    assert team_project.cached_objects(where["pull"]) == set()


@pytest.mark.slow
def test_a_missing_bucket_is_one_line_naming_it(
    team: Project, tmp_path: pathlib.Path, s3_endpoint: str
) -> None:
    where = _clones(team, tmp_path, "s3://never-created/pivot", s3_endpoint)

    for command in COMMANDS:
        done = where[command[0]].pivot(*command)

        assert done.returncode == 1, (command, done.stderr)
        assert done.stderr.strip() == (
            f"pivot: error: bucket 'never-created' does not exist at {s3_endpoint} "
            + "(create it, or fix remotes.origin.url)"
        ), command
    for rel in team_project.CACHED:
        assert not (where["pull"].root / rel).exists(), rel
