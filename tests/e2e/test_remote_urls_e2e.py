import pathlib
import subprocess

import pytest

from tests.e2e.conftest import Project


def _config_bytes(project: Project) -> dict[str, bytes | None]:
    state = project.root / ".pivot"
    return {
        name: (state / name).read_bytes() if (state / name).exists() else None
        for name in ("config.yaml", "config.local.yaml", ".gitignore")
    }


def _entries(project: Project) -> set[str]:
    """Everything in the project outside `.pivot/` (a remote written into it shows here)."""
    return {
        str(p.relative_to(project.root))
        for p in project.root.rglob("*")
        if p.relative_to(project.root).parts[0] != ".pivot"
    }


def _one_line_failure(done: subprocess.CompletedProcess[str], message: str) -> None:
    assert done.returncode == 1, done.stdout + done.stderr
    assert "Traceback" not in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1, done.stderr
    assert message in done.stderr


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("", "remote URL is empty: give s3://bucket/prefix"),
        ("relative/dir", "is inside the project"),
        (".", "is inside the project"),
        ("s3://Bad_Bucket!/x", "bucket name 'Bad_Bucket!' may hold only lowercase letters"),
        ("gs://goog-data/x", "bucket name 'goog-data' must not start with 'goog'"),
        ("az://Bad--Name/x", "container name 'Bad--Name'"),
        ("ftp://x", "malformed remote URL 'ftp://x': unknown scheme 'ftp://'"),
    ],
)
def test_remote_add_refuses_a_bad_url_in_one_line_and_writes_nothing(
    project: Project, url: str, message: str
) -> None:
    before, entries = _config_bytes(project), _entries(project)

    done = project.pivot("remote", "add", "t", url)

    _one_line_failure(done, message)
    assert _config_bytes(project) == before
    assert _entries(project) == entries


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("ftp://x", "remotes.origin.url: malformed remote URL 'ftp://x': unknown scheme"),
        ("", "remotes.origin.url: remote URL is empty"),
        ("relative/dir", "remotes.origin.url: remote 'relative/dir' is the directory"),
        ("s3://Bad_Bucket!/x", "remotes.origin.url: malformed remote URL 's3://Bad_Bucket!/x'"),
    ],
)
def test_config_set_validates_a_url_as_remote_add_does(
    project: Project, tmp_path: pathlib.Path, url: str, message: str
) -> None:
    assert project.pivot("remote", "add", "origin", str(tmp_path / "shared")).returncode == 0
    before = _config_bytes(project)

    done = project.pivot("config", "set", "remotes.origin.url", url)
    local = project.pivot("config", "set", "remotes.origin.url", url, "--local")

    _one_line_failure(done, message)
    _one_line_failure(local, message)
    assert _config_bytes(project) == before


def test_a_hand_edited_bad_url_fails_push_at_its_line_and_writes_nothing(
    project: Project,
) -> None:
    assert project.pivot("run").returncode == 0
    config = project.root / ".pivot/config.yaml"
    config.write_text("# team remote\nremotes:\n  origin:\n    url: ''\ncore:\n  remote: origin\n")
    entries = _entries(project)

    pushed = project.pivot("push")
    listed = project.pivot("remote", "list")

    for done in (pushed, listed):
        _one_line_failure(done, f"{config}:4: remotes.origin.url: remote URL is empty")
    assert _entries(project) == entries  # no files/ in the project root


def test_config_set_of_an_option_for_an_unknown_remote_names_it(
    project: Project, tmp_path: pathlib.Path
) -> None:
    before = _config_bytes(project)
    none_yet = project.pivot("config", "set", "remotes.nosuch.jobs", "3")
    assert project.pivot("remote", "add", "origin", str(tmp_path / "shared")).returncode == 0
    after_add = _config_bytes(project)
    typo = project.pivot("config", "set", "remotes.orign.jobs", "3")

    _one_line_failure(none_yet, "no remote 'nosuch'; add it with `pivot remote add nosuch URL`")
    _one_line_failure(typo, "no remote 'orign' (did you mean 'origin'?)")
    assert before["config.yaml"] is None
    assert _config_bytes(project) == after_add


def test_a_tilde_url_pushes_into_the_home_directory(
    project: Project, tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert project.pivot("run").returncode == 0

    added = project.pivot("remote", "add", "origin", "~/pivot-cache")
    pushed = project.pivot("push")

    assert added.returncode == 0, added.stderr
    assert pushed.returncode == 0, pushed.stderr
    assert "url: ~/pivot-cache" in (project.root / ".pivot/config.yaml").read_text()
    assert any((tmp_path / "home/pivot-cache/files").rglob("*"))
    assert not (project.root / "~").exists()


def test_a_relative_url_is_typed_from_the_current_directory_and_kept_from_the_root(
    project: Project, tmp_path: pathlib.Path
) -> None:
    assert project.pivot("run").returncode == 0
    sub = project.root / "models"

    added = project.pivot("remote", "add", "origin", "../../shared", cwd=sub)
    inside = project.pivot("remote", "add", "other", "../shared", cwd=sub)  # proj/shared
    pushed = project.pivot("push", cwd=sub)

    assert added.returncode == 0, added.stderr
    assert "url: ../shared\n" in (project.root / ".pivot/config.yaml").read_text()
    _one_line_failure(inside, "is inside the project")
    assert pushed.returncode == 0, pushed.stderr
    assert any((tmp_path / "shared/files").rglob("*"))


def test_remote_remove_clears_a_hand_edited_bad_remote(
    project: Project, tmp_path: pathlib.Path
) -> None:
    config = project.root / ".pivot/config.yaml"
    config.write_text(
        "# team\nremotes:\n  bad:\n    url: s3://Bad_Bucket/x\n    jobs: 3\n"
        + f"  good:\n    url: {tmp_path / 'shared'}\ncore:\n  remote: bad\n"
    )

    removed = project.pivot("remote", "remove", "bad")
    listed = project.pivot("remote", "list")
    unknown = project.pivot("remote", "remove", "god")

    assert removed.returncode == 0, removed.stderr
    assert listed.returncode == 0, listed.stderr
    assert "bad" not in listed.stdout
    assert "good" in listed.stdout
    assert config.read_text().startswith("# team\nremotes:\n  good:")
    _one_line_failure(unknown, "unknown remote 'god'; did you mean 'good'?")


def test_remote_remove_names_the_file_that_holds_the_remote(
    project: Project, tmp_path: pathlib.Path
) -> None:
    assert project.pivot("remote", "add", "mine", str(tmp_path / "s"), "--local").returncode == 0
    before = _config_bytes(project)

    done = project.pivot("remote", "remove", "mine")

    _one_line_failure(
        done, "remote 'mine' is set in config.local.yaml, not config.yaml: add --local"
    )
    assert _config_bytes(project) == before


def test_config_get_of_an_unknown_remote_names_it(project: Project, tmp_path: pathlib.Path) -> None:
    assert project.pivot("remote", "add", "origin", str(tmp_path / "shared")).returncode == 0

    done = project.pivot("config", "get", "remotes.orign.jobs")
    known = project.pivot("config", "get", "remotes.origin.jobs")

    _one_line_failure(done, "no remote 'orign' (did you mean 'origin'?); add it with")
    assert (known.returncode, known.stdout) == (0, "(not set)\n")
