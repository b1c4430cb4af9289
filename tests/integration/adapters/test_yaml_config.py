import pathlib
from typing import Any

import pytest

from pivot.adapters.config import yaml_config
from pivot.adapters.memory import state_store as memory_state
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
    (state / "config.yaml").write_text("remotes:\n  origin:\n    url: s3://team-bucket/p\n")
    (state / "config.local.yaml").write_text("remotes:\n  origin:\n    allow_htp: true\n")

    with pytest.raises(
        errors.ConfigError, match=r"config\.local\.yaml:3: .*'remotes.origin.allow_http'"
    ):
        _files(state).load()


def test_bad_environment_value_names_the_variable(state: pathlib.Path) -> None:
    with pytest.raises(errors.ConfigError, match=r"^\$PIVOT_EXECUTOR: run.executor: .*'teleport'"):
        _files(state, PIVOT_EXECUTOR="teleport").load()


_FULL = """\
core: {remote: origin}
cache: {link_modes: [copy, hardlink]}
fingerprint: {ignore_package_versions: true}
run: {executor: inline, scheduler: tcp://h:8786, shared_fs: false, fast: false}
remotes:
  origin: {url: s3://team-bucket/p, endpoint_url: http://h:9000, region: eu, allow_http: true,
           jobs: 3, timeout: 2.5}
  other: {url: /data/remote}
"""


def _memoised(state: pathlib.Path, memo: memory_state.MemoryStateStore, **env: str) -> Any:
    return yaml_config.YamlConfigFiles(state, environ=env, memo=lambda: memo).load()


def test_settings_read_back_from_the_memo_equal_the_validated_ones(state: pathlib.Path) -> None:
    (state / "config.yaml").write_text(_FULL)
    memo = memory_state.MemoryStateStore()

    validated = _memoised(state, memo)
    remembered = _memoised(state, memo)

    assert memo.get(*yaml_config.MEMO) is not None
    assert remembered == validated == _files(state).load()
    assert remembered.cache.link_modes == ("copy", "hardlink")
    assert remembered.remotes["origin"].timeout == 2.5


def test_an_edit_or_an_override_is_seen_despite_the_memo(state: pathlib.Path) -> None:
    path = state / "config.yaml"
    path.write_text("run: {executor: inline}\n")
    memo = memory_state.MemoryStateStore()
    assert _memoised(state, memo).run.executor == "inline"

    path.write_text("run: {executor: loky}\n")
    assert _memoised(state, memo).run.executor == "loky"
    assert _memoised(state, memo, PIVOT_EXECUTOR="dask").run.executor == "dask"
    (state / "config.local.yaml").write_text("run: {executor: inline}\n")
    assert _memoised(state, memo).run.executor == "inline"
    path.write_text("run: {executor: teleport}\n")
    (state / "config.local.yaml").unlink()
    with pytest.raises(errors.ConfigError, match=r"config\.yaml:1: run.executor"):
        _memoised(state, memo)


def test_settings_written_by_set_are_remembered(state: pathlib.Path) -> None:
    memo = memory_state.MemoryStateStore()
    files = yaml_config.YamlConfigFiles(state, environ={}, memo=lambda: memo)

    files.set(("remotes", "team", "url"), "/data/remote", local=False)
    files.set(("core", "remote"), "team", local=True)
    remembered = memo.get(*yaml_config.MEMO)

    assert files.load() == _files(state).load()
    assert files.load().remotes["team"].url == "/data/remote"
    assert memo.get(*yaml_config.MEMO) == remembered


def test_a_damaged_or_foreign_memo_is_validated_again(state: pathlib.Path) -> None:
    (state / "config.yaml").write_text("run: {executor: inline}\n")
    memo = memory_state.MemoryStateStore()
    _memoised(state, memo)
    stored = memo.get(*yaml_config.MEMO)
    assert stored is not None

    for value in (stored[:32] + b"{not json", stored[:32] + b'{"sections": {}}', b"short"):
        memo.put_many(yaml_config.MEMO[0], [(yaml_config.MEMO[1], value)])
        assert _memoised(state, memo).run.executor == "inline"


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


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("ftp://x", "malformed remote URL 'ftp://x': unknown scheme 'ftp://'"),
        ("s3://Bad_Bucket!/x", "bucket name 'Bad_Bucket!' may hold only lowercase letters"),
        ("''", "remote URL is empty"),
        ("relative/dir", "is inside the project"),
    ],
)
def test_a_hand_edited_bad_url_is_reported_at_its_line(
    state: pathlib.Path, url: str, message: str
) -> None:
    (state / "config.yaml").write_text(f"# team\nremotes:\n  origin:\n    url: {url}\n")

    with pytest.raises(errors.ConfigError) as caught:
        _files(state).load()

    assert str(caught.value).startswith(f"{state / 'config.yaml'}:4: remotes.origin.url: ")
    assert message in str(caught.value)


def test_set_rejects_a_bad_url_and_writes_nothing(state: pathlib.Path) -> None:
    path = state / "config.yaml"
    path.write_text("remotes:\n  origin:\n    url: s3://good-bucket/p  # team bucket\n")
    before = path.read_bytes()

    with pytest.raises(errors.ConfigError, match=r"remotes\.origin\.url: malformed remote URL"):
        _files(state).set(("remotes", "origin", "url"), "ftp://x", local=False)
    with pytest.raises(errors.ConfigError, match="is inside the project"):
        _files(state).set(("remotes", "origin", "url"), "data/remote", local=True)

    assert path.read_bytes() == before
    assert not (state / "config.local.yaml").exists()


def test_an_option_for_a_remote_without_url_says_there_is_no_such_remote(
    state: pathlib.Path,
) -> None:
    (state / "config.yaml").write_text("remotes:\n  origin:\n    url: s3://good-bucket/p\n")
    (state / "config.local.yaml").write_text("remotes:\n  orign:\n    jobs: 3\n")

    with pytest.raises(errors.ConfigError) as caught:
        _files(state).load()

    assert str(caught.value) == (
        f"{state / 'config.local.yaml'}:2: no remote 'orign' (did you mean 'origin'?); "
        + "add it with `pivot remote add orign URL` (remotes.orign has options but no url)"
    )
