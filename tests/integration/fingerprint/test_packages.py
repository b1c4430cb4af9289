import pathlib

from tests.integration.fingerprint import harness

STAGES = """
import collections
import json
import os.path

import fakepkg
import fakemod


def train() -> None:
    counts = collections.Counter(json.loads("[1, 1]"))
    print(os.path.join("a", "b"), counts, fakepkg.VALUE, fakemod.VALUE)
"""


def _project(tmp_path: pathlib.Path) -> tuple[harness.Project, dict[str, str]]:
    site = tmp_path / "env" / "site-packages"
    harness.install_distribution(site, "fakepkg", "1.0", "fakepkg")
    harness.install_distribution(site, "fake-dist", "2.0", "fakemod")
    project = harness.Project(tmp_path)
    project.write({"pipeline.py": harness.pipeline_py("train"), "stages.py": STAGES})
    return project, {"PYTHONPATH": str(site)}


def test_stdlib_is_ignored_and_packages_are_recorded_by_version(tmp_path: pathlib.Path):
    project, env = _project(tmp_path)

    entries = project.manifests(env=env)["train"]["entries"]

    assert set(entries) == {"stage:stages.train", "pkg:fakepkg", "pkg:fake-dist"}
    assert entries["pkg:fakepkg"] == "1.0"
    assert entries["pkg:fake-dist"] == "2.0"


def test_upgrading_a_package_is_detected(tmp_path: pathlib.Path):
    project, env = _project(tmp_path)
    before = project.manifests(env=env)

    harness.install_distribution(tmp_path / "env" / "site-packages", "fakepkg", "1.1", "fakepkg")
    after = project.manifests(env=env)

    assert harness.changed(before, after, "train") == {"pkg:fakepkg"}
    assert after["train"]["sites"]["pkg:fakepkg"]["describe"] == "train → fakepkg"


def test_installed_code_itself_is_not_fingerprinted(tmp_path: pathlib.Path):
    project, env = _project(tmp_path)
    before = project.manifests(env=env)

    (tmp_path / "env" / "site-packages" / "fakepkg" / "__init__.py").write_text("VALUE = 2\n")
    after = project.manifests(env=env)

    assert harness.changed(before, after, "train") == set()


def test_ignore_package_versions_records_no_packages(tmp_path: pathlib.Path):
    project, env = _project(tmp_path)
    before = project.manifests("--ignore-package-versions", env=env)

    harness.install_distribution(tmp_path / "env" / "site-packages", "fakepkg", "1.1", "fakepkg")
    after = project.manifests("--ignore-package-versions", env=env)

    assert set(before["train"]["entries"]) == {"stage:stages.train"}
    assert harness.changed(before, after, "train") == set()


def test_packages_installed_inside_the_project_are_not_user_code(tmp_path: pathlib.Path):
    project = harness.Project(tmp_path)
    site = project.root / ".venv" / "lib" / "python3.11" / "site-packages"
    harness.install_distribution(site, "vendored", "0.3", "vendored")
    project.write(
        {
            "pipeline.py": harness.pipeline_py("train"),
            "stages.py": "import vendored\n\n\ndef train() -> None:\n    print(vendored.VALUE)\n",
        }
    )

    entries = project.manifests(env={"PYTHONPATH": str(site)})["train"]["entries"]

    assert set(entries) == {"stage:stages.train", "pkg:vendored"}


def test_an_upgrade_invalidates_a_cached_manifest_in_a_fresh_process(tmp_path: pathlib.Path):
    project, env = _project(tmp_path)
    harness.settle(tmp_path)
    state = f"--state={tmp_path / 'state'}"
    project.manifests(state, env=env)
    cached = project.manifests(state, env=env)
    assert project.last_stats["manifest_hits"] == 1

    site = tmp_path / "env" / "site-packages"
    harness.install_distribution(site, "fakepkg", "1.1", "fakepkg")
    upgraded = project.manifests(state, env=env)
    assert project.last_stats["manifest_hits"] == 0
    assert harness.changed(cached, upgraded, "train") == {"pkg:fakepkg"}

    # A version rewritten in place (same dist-info directory) is seen too.
    harness.settle(tmp_path)
    project.manifests(state, env=env)
    project.manifests(state, env=env)
    assert project.last_stats["manifest_hits"] == 1
    metadata = site / "fakepkg-1.1.dist-info" / "METADATA"
    metadata.write_text(metadata.read_text().replace("1.1", "1.2"))
    rewritten = project.manifests(state, env=env)
    assert rewritten["train"]["entries"]["pkg:fakepkg"] == "1.2"
