import json
import os
import pathlib
import shutil
import signal
import subprocess
import sys
import time

import pytest

from tests import s3_server
from tests.e2e import team_project
from tests.e2e.conftest import Project, pivot_env


@pytest.fixture
def team(project: Project) -> Project:
    return team_project.make_team(project)


def _remote_status(project: Project) -> dict[str, int]:
    done = project.pivot("status", "--remote", "--json")
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)["remote"]


def _round_trip(a: Project, tmp_path: pathlib.Path) -> None:
    before = _remote_status(a)
    pushed = a.pivot("push", "--json")
    assert pushed.returncode == 0, pushed.stderr
    report = json.loads(pushed.stdout)
    after = _remote_status(a)
    team_project.commit(a)

    b = team_project.clone(a, tmp_path / "clone-b")
    b_before = _remote_status(b)
    pulled = b.pivot("pull")

    assert pulled.returncode == 0, pulled.stderr
    assert report["failed"] == []
    assert report["transferred"] == before["to_push"]
    assert before["to_pull"] == 0
    assert before["to_push"] > 0
    assert after == {**after, "to_push": 0, "to_pull": 0, "in_sync": before["to_push"]}
    # A also counts its kept copy of metrics.json; B gets that file from git.
    assert b_before["to_pull"] == before["to_push"] - 1
    assert b_before["to_push"] == 0
    for rel in (*team_project.OUTPUTS, "images/img0.bin", "images/img2.bin"):
        assert (b.root / rel).read_bytes() == (a.root / rel).read_bytes(), rel
    assert "All 4 stages up to date." in b.pivot("status").stdout
    assert b.calls() == []
    assert _remote_status(b)["to_pull"] == 0


def test_two_clones_round_trip_through_a_directory_remote(
    team: Project, tmp_path: pathlib.Path
) -> None:
    added = team.pivot("remote", "add", "origin", str(tmp_path / "shared-cache"))
    assert added.returncode == 0, added.stderr

    _round_trip(team, tmp_path)


@pytest.mark.slow
def test_two_clones_round_trip_through_s3(
    team: Project, tmp_path: pathlib.Path, s3_endpoint: str
) -> None:
    s3_server.create_bucket(s3_endpoint, "team-e2e")
    assert team.pivot("remote", "add", "origin", "s3://team-e2e/pivot").returncode == 0
    for key, value in (("endpoint_url", s3_endpoint), ("allow_http", "true")):
        done = team.pivot("config", "set", f"remotes.origin.{key}", value)
        assert done.returncode == 0, done.stderr

    _round_trip(team, tmp_path)


def test_pull_of_one_target_fetches_only_its_outputs(team: Project, tmp_path: pathlib.Path) -> None:
    team.pivot("remote", "add", "origin", str(tmp_path / "shared-cache"))
    assert team.pivot("push").returncode == 0
    team_project.commit(team)
    b = team_project.clone(team, tmp_path / "clone-b")

    pulled = b.pivot("pull", "train:model")
    with_deps = b.pivot("fetch", "train", "--with-deps", "--json")

    assert pulled.returncode == 0, pulled.stderr
    assert (b.root / "models/model.txt").read_bytes() == (
        team.root / "models/model.txt"
    ).read_bytes()
    for rel in ("data/clean.txt", "eval.txt", "images"):
        assert not (b.root / rel).exists(), rel
    assert json.loads(with_deps.stdout)["transferred"] == 1  # data/clean.txt


def test_pull_with_deps_places_what_the_stage_reads(team: Project, tmp_path: pathlib.Path) -> None:
    team.pivot("remote", "add", "origin", str(tmp_path / "shared-cache"))
    assert team.pivot("push").returncode == 0
    team_project.commit(team)
    b = team_project.clone(team, tmp_path / "clone-b")

    pulled = b.pivot("pull", "train", "--with-deps")

    assert pulled.returncode == 0, pulled.stderr
    for rel in ("models/model.txt", "data/clean.txt"):
        assert (b.root / rel).read_bytes() == (team.root / rel).read_bytes(), rel
    for rel in ("eval.txt", "other.txt", "images"):
        assert not (b.root / rel).exists(), rel


def test_pull_with_deps_skips_a_dependency_nobody_pushed(
    team: Project, tmp_path: pathlib.Path
) -> None:
    team.pivot("remote", "add", "origin", str(tmp_path / "shared-cache"))
    assert team.pivot("push", "train").returncode == 0
    team_project.commit(team)
    b = team_project.clone(team, tmp_path / "clone-b")

    pulled = b.pivot("pull", "train", "--with-deps")

    assert pulled.returncode == 0, pulled.stderr
    assert (b.root / "models/model.txt").exists()
    assert not (b.root / "data/clean.txt").exists()
    assert "skipped" in pulled.stdout


def test_corrupted_remote_object_is_named_not_placed_exit_1(
    team: Project, tmp_path: pathlib.Path
) -> None:
    shared = tmp_path / "shared-cache"
    team.pivot("remote", "add", "origin", str(shared))
    assert team.pivot("push").returncode == 0
    team_project.commit(team)
    digest = json.loads((team.root / ".pivot/stages/train.lock").read_text())["outs"][
        "train:model"
    ]["hash"]
    obj = shared / "files" / digest[:2] / digest[2:]
    os.chmod(obj, 0o644)
    obj.write_bytes(b"flipped" + obj.read_bytes()[7:])
    b = team_project.clone(team, tmp_path / "clone-b")

    pulled = b.pivot("pull")

    assert pulled.returncode == 1
    assert f"train:model → models/model.txt: object {digest}" in pulled.stderr
    assert "Traceback" not in pulled.stderr
    assert not (b.root / "models/model.txt").exists()
    assert not (b.root / ".pivot/cache/files" / digest[:2] / digest[2:]).exists()
    assert (b.root / "eval.txt").read_bytes() == (team.root / "eval.txt").read_bytes()


def _kill_midway(project: Project, *args: str, watch: pathlib.Path) -> None:
    """Start `pivot ARGS`, SIGKILL it once some objects have appeared under `watch`."""
    env = pivot_env()
    proc = subprocess.Popen(
        [sys.executable, "-m", "pivot", *args],
        cwd=project.root,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 120
    while proc.poll() is None and time.monotonic() < deadline:
        if watch.exists() and sum(1 for _ in watch.rglob("*")) > 20:
            proc.send_signal(signal.SIGKILL)
            break
        time.sleep(0.005)
    proc.wait()


def _visible_objects(files: pathlib.Path) -> list[pathlib.Path]:
    return [p for p in files.rglob("*") if p.is_file() and not p.name.startswith(".")]


@pytest.mark.slow
def test_sigkill_mid_push_and_pull_then_rerun_completes(
    team: Project, tmp_path: pathlib.Path
) -> None:
    for i in range(400):
        team.write(f"many/f{i:03d}.txt", f"file {i}\n" * 20)
    assert team.pivot("track", "many").returncode == 0
    shared = tmp_path / "shared-cache"
    team.pivot("remote", "add", "origin", str(shared))

    _kill_midway(team, "push", "-j", "1", watch=shared / "files")
    partial = _visible_objects(shared / "files")
    repushed = team.pivot("push", "--json")
    team_project.commit(team)
    b = team_project.clone(team, tmp_path / "clone-b")
    _kill_midway(b, "pull", "-j", "1", watch=b.root / ".pivot/cache/files")
    repulled = b.pivot("pull")

    hasher_check = team.pivot("cache", "verify")
    assert all(p.read_bytes() for p in partial)
    assert repushed.returncode == 0, repushed.stderr
    assert json.loads(repushed.stdout)["failed"] == []
    assert repulled.returncode == 0, repulled.stderr
    assert hasher_check.returncode == 0
    assert b.pivot("cache", "verify").returncode == 0
    assert sorted(p.name for p in (b.root / "many").iterdir()) == sorted(
        p.name for p in (team.root / "many").iterdir()
    )
    for obj in _visible_objects(shared / "files"):
        digest = obj.parent.name + obj.name
        local = team.root / ".pivot/cache/files" / digest[:2] / digest[2:]
        assert obj.read_bytes() == local.read_bytes()


def _processes_in(root: pathlib.Path) -> list[int]:
    """Live processes whose working directory is `root` (a forked helper keeps its caller's)."""
    found: list[int] = []
    for entry in pathlib.Path("/proc").glob("[0-9]*"):
        try:
            if os.readlink(entry / "cwd") != str(root):
                continue
            state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if state != "Z":
            found.append(int(entry.name))
    return found


@pytest.mark.slow
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="helpers are forked on Linux")
def test_many_files_move_in_forked_slices_and_a_killed_push_leaves_nothing_behind(
    team: Project, tmp_path: pathlib.Path
) -> None:
    for i in range(3000):
        team.write(f"many/d{i % 7}/f{i:04d}.txt", f"file {i}\n" * (1 + i % 40))
    assert team.pivot("track", "many").returncode == 0
    shared = tmp_path / "shared-cache"
    team.pivot("remote", "add", "origin", str(shared))

    _kill_midway(team, "push", watch=shared / "files")
    deadline = time.monotonic() + 10
    while _processes_in(team.root) and time.monotonic() < deadline:
        time.sleep(0.01)
    left = _processes_in(team.root)
    partial = _visible_objects(shared / "files")
    repushed = team.pivot("push", "--json")
    team_project.commit(team)
    b = team_project.clone(team, tmp_path / "clone-b")
    pulled = b.pivot("pull", "--json")

    assert left == []
    assert all(p.read_bytes() for p in partial)
    assert repushed.returncode == 0, repushed.stderr
    assert json.loads(repushed.stdout)["failed"] == []
    assert pulled.returncode == 0, pulled.stderr
    assert b.pivot("cache", "verify").returncode == 0
    for i in range(3000):
        rel = f"many/d{i % 7}/f{i:04d}.txt"
        assert (b.root / rel).read_bytes() == (team.root / rel).read_bytes(), rel
    leftovers = [p for p in (b.root / "many").rglob(".*")]
    assert leftovers == []


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("push", "-r", "orgin"), "unknown remote 'orgin'; did you mean 'origin'?"),
        (("push", "nosuchstage"), "unknown target 'nosuchstage'"),
    ],
)
def test_bad_input_is_one_line(
    team: Project, tmp_path: pathlib.Path, args: tuple[str, ...], message: str
) -> None:
    team.pivot("remote", "add", "origin", str(tmp_path / "shared-cache"))

    done = team.pivot(*args)

    assert done.returncode == 1
    assert message in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1


def test_remote_configuration_errors(project: Project) -> None:
    no_remote = project.pivot("push")
    bad_scheme = project.pivot("remote", "add", "x", "ftp://host/path")
    short_bucket = project.pivot("remote", "add", "x", "s3://ab/p")

    assert no_remote.returncode == 1
    assert "no remote configured: add one with `pivot remote add NAME URL`" in no_remote.stderr
    assert bad_scheme.returncode == 1
    assert "malformed remote URL 'ftp://host/path'" in bad_scheme.stderr
    assert short_bucket.returncode == 1
    assert "bucket name 'ab'" in short_bucket.stderr
    assert not (project.root / ".pivot/config.yaml").exists()


def test_unreachable_endpoint_fails_fast_and_names_it(project: Project) -> None:
    project.pivot("remote", "add", "origin", "s3://some-bucket/p")
    project.pivot("config", "set", "remotes.origin.endpoint_url", "http://127.0.0.1:9", "--local")
    project.pivot("config", "set", "remotes.origin.allow_http", "true", "--local")
    project.pivot("config", "set", "remotes.origin.timeout", "2", "--local")
    assert project.pivot("run").returncode == 0

    start = time.monotonic()
    done = project.pivot("push")
    elapsed = time.monotonic() - start

    assert done.returncode == 1
    assert "cannot reach remote s3://some-bucket/p (endpoint http://127.0.0.1:9)" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
    assert elapsed < 60


def test_remote_commands_round_trip(project: Project, tmp_path: pathlib.Path) -> None:
    project.pivot("remote", "add", "origin", str(tmp_path / "a"))
    project.pivot("remote", "add", "backup", "s3://backup-bucket/pivot")
    project.pivot("remote", "default", "backup")
    listed = json.loads(project.pivot("remote", "list", "--json").stdout)
    removed = project.pivot("remote", "remove", "backup")
    after = json.loads(project.pivot("remote", "list", "--json").stdout)

    assert listed == {
        "default": "backup",
        "remotes": {
            "backup": {
                "url": "s3://backup-bucket/pivot",
                "allow_http": False,
                "timeout": 30.0,
                "hardlink": True,
            },
            "origin": {
                "url": str(tmp_path / "a"),
                "allow_http": False,
                "timeout": 30.0,
                "hardlink": True,
            },
        },
    }
    assert removed.returncode == 0
    assert after["default"] is None
    assert list(after["remotes"]) == ["origin"]
    shutil.rmtree(tmp_path / "a", ignore_errors=True)


def _large_file_pushed(team: Project, shared: pathlib.Path) -> tuple[str, pathlib.Path]:
    """A teammate's 9 MiB data file, tracked, pushed to a directory remote, committed."""
    (team.root / "big.bin").write_bytes(os.urandom(9 << 20))
    assert team.pivot("track", "big.bin").returncode == 0
    assert team.pivot("remote", "add", "origin", str(shared)).returncode == 0
    assert team.pivot("push").returncode == 0
    team_project.commit(team)
    digest: str = json.loads((team.root / "big.bin.pvt").read_text())["hash"]
    return digest, shared / "files" / digest[:2] / digest[2:]


def test_pull_from_a_directory_remote_links_large_objects_and_copies_the_workspace(
    team: Project, tmp_path: pathlib.Path
) -> None:
    digest, obj = _large_file_pushed(team, tmp_path / "shared-cache")
    b = team_project.clone(team, tmp_path / "clone-b")

    pulled = b.pivot("pull", "big.bin")

    assert pulled.returncode == 0, pulled.stderr
    cached = b.root / ".pivot/cache/files" / digest[:2] / digest[2:]
    assert cached.stat().st_ino == obj.stat().st_ino  # no second copy of the bytes
    placed = b.root / "big.bin"
    assert placed.read_bytes() == (team.root / "big.bin").read_bytes()
    assert placed.stat().st_ino != obj.stat().st_ino  # the workspace has its own copy
    assert placed.stat().st_mode & 0o200
    # The copy was made while the object was re-hashed, and taken by the checkout.
    assert [p.name for p in (b.root / ".pivot").rglob("*") if ".pivot-" in p.name] == []


def test_editing_a_hard_linked_pull_leaves_the_remote_intact(
    team: Project, tmp_path: pathlib.Path
) -> None:
    _, obj = _large_file_pushed(team, tmp_path / "shared-cache")
    original = obj.read_bytes()
    b = team_project.clone(team, tmp_path / "clone-b")
    linking = b.pivot("config", "set", "cache.link_modes", "[hardlink, copy]", "--local")
    assert linking.returncode == 0, linking.stderr

    pulled = b.pivot("pull", "big.bin")
    placed = b.root / "big.bin"
    placed.chmod(0o644)  # what a user does to edit it (root need not)
    with placed.open("r+b") as f:
        f.write(b"EDITED")
    c = team_project.clone(team, tmp_path / "clone-c")
    pulled_c = c.pivot("pull", "big.bin")

    assert pulled.returncode == 0, pulled.stderr
    assert obj.read_bytes() == original
    assert pulled_c.returncode == 0, pulled_c.stderr
    assert (c.root / "big.bin").read_bytes() == original
    assert [p.name for p in (b.root / ".pivot").rglob("*") if ".pivot-" in p.name] == []


def test_a_remote_told_not_to_lend_its_files_is_copied(
    team: Project, tmp_path: pathlib.Path
) -> None:
    digest, obj = _large_file_pushed(team, tmp_path / "shared-cache")
    b = team_project.clone(team, tmp_path / "clone-b")
    assert b.pivot("config", "set", "remotes.origin.hardlink", "false").returncode == 0

    pulled = b.pivot("pull", "big.bin")

    assert pulled.returncode == 0, pulled.stderr
    cached = b.root / ".pivot/cache/files" / digest[:2] / digest[2:]
    assert cached.read_bytes() == obj.read_bytes()
    assert cached.stat().st_ino != obj.stat().st_ino


def test_a_corrupted_large_object_is_not_linked_in(team: Project, tmp_path: pathlib.Path) -> None:
    digest, obj = _large_file_pushed(team, tmp_path / "shared-cache")
    obj.chmod(0o644)
    with obj.open("r+b") as f:
        f.write(b"flipped")
    obj.chmod(0o444)  # read-only again: it would be linked if its bytes matched
    b = team_project.clone(team, tmp_path / "clone-b")

    pulled = b.pivot("pull", "big.bin")

    assert pulled.returncode == 1
    assert f"big.bin: object {digest}" in pulled.stderr
    assert "Traceback" not in pulled.stderr
    assert not (b.root / "big.bin").exists()
    assert not (b.root / ".pivot/cache/files" / digest[:2] / digest[2:]).exists()
    assert obj.stat().st_nlink == 1
