import json

import pytest

from tests.e2e.conftest import Project


@pytest.mark.parametrize(("modes", "links"), [("[copy]", 1), ("[hardlink, copy]", 2)])
def test_run_restores_with_the_configured_link_modes(
    project: Project, modes: str, links: int
) -> None:
    assert project.pivot("run").returncode == 0
    assert project.pivot("config", "set", "cache.link_modes", modes).returncode == 0
    (project.root / "eval.txt").unlink()

    done = project.pivot("run")

    assert done.returncode == 0, done.stderr
    assert (project.root / "eval.txt").stat().st_nlink == links


def test_config_set_get_list_unset_round_trip(project: Project) -> None:
    config = project.root / ".pivot/config.yaml"
    config.write_text("# shared by the team\ncache:\n  link_modes: [copy]\n")

    assert project.pivot("config", "set", "core.remote", "origin").returncode == 0
    assert project.pivot("config", "set", "run.executor", "inline", "--local").returncode == 0
    got = project.pivot("config", "get", "run.executor").stdout
    listed = json.loads(project.pivot("config", "list", "--json").stdout)
    unset = project.pivot("config", "unset", "core.remote")

    assert got == "inline\n"
    assert listed == {
        "cache.link_modes": ["copy"],
        "core.remote": "origin",
        "run.executor": "inline",
    }
    assert unset.returncode == 0
    assert config.read_text() == "# shared by the team\ncache:\n  link_modes: [copy]\n"


def test_typo_in_config_is_one_line_with_file_line(project: Project) -> None:
    (project.root / ".pivot/config.yaml").write_text(
        "cache:\n  link_modes: [copy]\nfingerprnt: {}\n"
    )

    done = project.pivot("status")

    assert done.returncode == 1
    assert done.stderr == (
        f"pivot: error: {project.root / '.pivot/config.yaml'}:3: unknown setting 'fingerprnt' "
        + "(did you mean 'fingerprint'?)\n"
    )


def test_config_set_rejects_bad_values_and_writes_nothing(project: Project) -> None:
    bad_key = project.pivot("config", "set", "cache.linkmodes", "[copy]")
    bad_value = project.pivot("config", "set", "cache.link_modes", "[teleport]")

    assert bad_key.returncode == 1
    assert "did you mean 'cache.link_modes'" in bad_key.stderr
    assert bad_value.returncode == 1
    assert "'teleport'" in bad_value.stderr
    assert "Traceback" not in bad_key.stderr + bad_value.stderr
    assert not (project.root / ".pivot/config.yaml").exists()
