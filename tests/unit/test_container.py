import pathlib

import pytest

from pivot import container
from pivot.adapters.memory import state_store
from pivot.app import project
from pivot.domain import config, errors
from pivot.ports import content_cache


@pytest.fixture
def root(tmp_path: pathlib.Path) -> pathlib.Path:
    project.init(tmp_path)
    return tmp_path


def _config(root: pathlib.Path, text: str) -> None:
    (root / ".pivot/config.yaml").write_text(text)


def test_defaults_without_config(root: pathlib.Path) -> None:
    built = container.build(root)

    assert built.settings() == config.Config()
    assert built.link_modes()[0] is content_cache.LinkMode.REFLINK


def test_link_modes_from_config(root: pathlib.Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PIVOT_LINK_MODES", raising=False)
    _config(root, "# comment kept by users\ncache:\n  link_modes: [copy, symlink]\n")

    modes = container.build(root).link_modes()

    assert modes == (content_cache.LinkMode.COPY, content_cache.LinkMode.SYMLINK)


def test_invalid_link_mode_names_the_file(root: pathlib.Path) -> None:
    _config(root, "cache:\n  link_modes: [teleport]\n")

    with pytest.raises(
        errors.ConfigError, match=r"config.yaml:2: cache.link_modes.0: .*'teleport'"
    ):
        container.build(root).link_modes()


PIPELINE = """
import xxhash

from pivot.pipeline import Pipeline


def digest() -> None:
    xxhash.xxh3_128_hexdigest(b"x")


pipeline = Pipeline("p")
pipeline.register(digest)
"""


@pytest.mark.parametrize("ignore", [False, True])
def test_ignore_package_versions_setting(
    root: pathlib.Path, monkeypatch: pytest.MonkeyPatch, ignore: bool
) -> None:
    monkeypatch.delenv("PIVOT_IGNORE_PACKAGE_VERSIONS", raising=False)
    (root / "pipeline.py").write_text(PIPELINE)
    _config(root, f"fingerprint:\n  ignore_package_versions: {str(ignore).lower()}\n")
    built = container.build(root)
    built.state_store.override(state_store.MemoryStateStore())

    code = built.observer().code(built.pipeline().get("digest"))

    assert ("pkg:xxhash" in code.entries) is not ignore


def test_malformed_config_is_one_clear_error(root: pathlib.Path) -> None:
    _config(root, "cache: [unclosed\n")

    with pytest.raises(errors.PivotError, match="config.yaml:2: invalid YAML"):
        container.build(root).settings()
