import pathlib

import pytest

from pivot.adapters.config import yaml_config
from pivot.domain import config, errors


@pytest.fixture
def state(tmp_path: pathlib.Path) -> pathlib.Path:
    (tmp_path / ".pivot").mkdir()
    return tmp_path / ".pivot"


def _files(state: pathlib.Path, **env: str) -> yaml_config.YamlConfigFiles:
    return yaml_config.YamlConfigFiles(state, environ=env)


def test_no_files_gives_defaults(state: pathlib.Path) -> None:
    assert _files(state).load() == config.Config()


def test_local_file_wins_key_by_key(state: pathlib.Path) -> None:
    (state / "config.yaml").write_text(
        "cache:\n  link_modes: [copy]\nremotes:\n  origin:\n    url: s3://bucket/p\n"
    )
    (state / "config.local.yaml").write_text(
        "remotes:\n  origin:\n    endpoint_url: http://127.0.0.1:9000\n    allow_http: true\n"
    )

    loaded = _files(state).load()

    assert loaded.cache.link_modes == ("copy",)
    origin = loaded.remotes["origin"]
    assert (origin.url, origin.endpoint_url, origin.allow_http) == (
        "s3://bucket/p",
        "http://127.0.0.1:9000",
        True,
    )


def test_environment_overrides_both_files(state: pathlib.Path) -> None:
    (state / "config.local.yaml").write_text(
        "cache:\n  link_modes: [copy]\nrun:\n  executor: loky\n"
    )

    loaded = _files(
        state,
        PIVOT_LINK_MODES="hardlink, copy",
        PIVOT_EXECUTOR="inline",
        PIVOT_IGNORE_PACKAGE_VERSIONS="1",
    ).load()

    assert loaded.cache.link_modes == ("hardlink", "copy")
    assert loaded.run.executor == "inline"
    assert loaded.fingerprint.ignore_package_versions is True


def test_typo_is_rejected_with_did_you_mean_and_line(state: pathlib.Path) -> None:
    (state / "config.yaml").write_text("# settings\ncache:\n  link_mode: [copy]\n")

    with pytest.raises(errors.ConfigError) as caught:
        _files(state).load()

    assert str(caught.value) == (
        f"{state / 'config.yaml'}:3: unknown setting 'cache.link_mode' "
        + "(did you mean 'cache.link_modes'?)"
    )


def test_error_names_the_local_file_when_it_holds_the_bad_value(state: pathlib.Path) -> None:
    (state / "config.yaml").write_text("remotes:\n  origin:\n    url: s3://b/p\n")
    (state / "config.local.yaml").write_text("remotes:\n  origin:\n    allow_htp: true\n")

    with pytest.raises(
        errors.ConfigError, match=r"config\.local\.yaml:3: .*'remotes.origin.allow_http'"
    ):
        _files(state).load()


def test_bad_environment_value_names_the_variable(state: pathlib.Path) -> None:
    with pytest.raises(errors.ConfigError, match=r"^\$PIVOT_EXECUTOR: run.executor: .*'teleport'"):
        _files(state, PIVOT_EXECUTOR="teleport").load()


def test_set_keeps_comments_and_validates(state: pathlib.Path) -> None:
    path = state / "config.yaml"
    path.write_text("# team settings\ncache:\n  link_modes: [copy]  # CI has no reflink\n")
    files = _files(state)

    files.set(("fingerprint", "ignore_package_versions"), True, local=False)
    with pytest.raises(errors.ConfigError, match="executor"):
        files.set(("run", "executor"), "teleport", local=False)

    text = path.read_text()
    assert "# team settings" in text
    assert "# CI has no reflink" in text
    assert "teleport" not in text
    assert files.load().fingerprint.ignore_package_versions is True


def test_set_local_git_ignores_the_local_file(state: pathlib.Path) -> None:
    _files(state).set(("core", "remote"), "mine", local=True)

    assert (state / "config.local.yaml").read_text() == "core:\n  remote: mine\n"
    assert "/config.local.yaml" in (state / ".gitignore").read_text().splitlines()
    assert not (state / "config.yaml").exists()


def test_unset_removes_empty_sections_and_rejects_absent_keys(state: pathlib.Path) -> None:
    files = _files(state)
    files.set(("remotes", "origin", "url"), "/data/remote", local=False)
    files.set(("cache", "link_modes"), ["copy"], local=False)

    files.unset(("remotes", "origin", "url"), local=False)
    with pytest.raises(errors.ConfigError, match="'cache.link_modes' is not set in .*local"):
        files.unset(("cache", "link_modes"), local=True)

    assert (state / "config.yaml").read_text() == "cache:\n  link_modes:\n  - copy\n"


@pytest.mark.parametrize(
    ("dotted", "message"),
    [
        ("cache.link_mode", "did you mean 'cache.link_modes'"),
        ("remotes.origin.endpoint", "did you mean 'remotes.origin.endpoint_url'"),
        ("remotes.origin", "unknown setting 'remotes.origin'"),
        ("cache", "unknown setting 'cache'"),
        ("", "unknown setting ''"),
    ],
)
def test_parse_key_rejects_unknown_keys(dotted: str, message: str) -> None:
    with pytest.raises(errors.ConfigError, match=message):
        config.parse_key(dotted)


def test_parse_key_accepts_remote_options() -> None:
    assert config.parse_key("remotes.origin.allow_http") == ("remotes", "origin", "allow_http")
