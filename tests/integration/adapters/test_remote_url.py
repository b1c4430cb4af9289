import pathlib

import pytest

from pivot.adapters.remote import url
from pivot.domain import errors


@pytest.fixture
def root(tmp_path: pathlib.Path) -> pathlib.Path:
    (tmp_path / "proj").mkdir()
    return tmp_path / "proj"


def test_a_relative_path_outside_the_project_resolves_against_the_project_root(
    root: pathlib.Path,
) -> None:
    assert url.location("../shared", root) == str(root.parent / "shared")


def test_a_tilde_expands_to_the_home_directory_as_a_shell_would(
    root: pathlib.Path, tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOME", str(tmp_path / "home"))

    assert url.location("~/cache", root) == str(tmp_path / "home" / "cache")
    assert url.location("~", root) == str(tmp_path / "home")


def test_an_unknown_user_after_a_tilde_is_refused(root: pathlib.Path) -> None:
    with pytest.raises(errors.RemoteError, match=r"cannot expand '~no-such-user-xq'"):
        url.location("~no-such-user-xq/cache", root)


@pytest.mark.parametrize("inside", ["relative/dir", ".", "./", ".pivot/remote", "a/../b"])
def test_a_directory_inside_the_project_is_refused(root: pathlib.Path, inside: str) -> None:
    with pytest.raises(errors.RemoteError) as caught:
        url.location(inside, root)

    assert f"is inside the project ({root})" in str(caught.value)
    assert "../" in str(caught.value)  # the fix: a directory outside it


def test_an_absolute_path_or_file_url_inside_the_project_is_refused(root: pathlib.Path) -> None:
    for inside in (str(root / "remote"), f"file://{root}/remote", str(root)):
        with pytest.raises(errors.RemoteError, match="is inside the project"):
            url.location(inside, root)


def test_a_tilde_that_lands_inside_the_project_is_refused(
    root: pathlib.Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOME", str(root))

    with pytest.raises(errors.RemoteError, match="is inside the project"):
        url.location("~/cache", root)


def test_a_symlink_out_of_the_project_is_where_it_points(
    root: pathlib.Path, tmp_path: pathlib.Path
) -> None:
    (tmp_path / "elsewhere").mkdir()
    (root / "link").symlink_to(tmp_path / "elsewhere")

    assert url.location("link", root) == str(tmp_path / "elsewhere")


def test_object_store_urls_keep_their_form(root: pathlib.Path) -> None:
    assert url.location("s3://my-bucket/prefix/", root) == "s3://my-bucket/prefix"


def test_empty_url_is_refused_before_it_becomes_the_project_root(root: pathlib.Path) -> None:
    with pytest.raises(errors.RemoteError, match="remote URL is empty"):
        url.location("", root)
