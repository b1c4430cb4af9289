import pathlib

import pytest

from pivot.domain import errors, remote_url


@pytest.mark.parametrize(
    "url",
    [
        "s3://my-bucket/prefix",
        "s3://my.bucket.2/p",
        "s3://abc",
        "s3://" + "a" * 63 + "/p",
        "gs://my_bucket-1/p",
        "gs://" + ".".join(["a" * 63] * 3) + "/p",
        "az://my-container/prefix",
        "az://$root/p",
        "abfs://my-container@account.dfs.core.windows.net/p",
        "file:///data/cache",
        "file://localhost/data/cache",
        "/data/cache",
        "relative/dir",
        "../shared",
        "~/cache",
    ],
)
def test_well_formed_urls_pass(url: str) -> None:
    remote_url.check(url)


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("", "remote URL is empty: give s3://bucket/prefix"),
        ("   ", "remote URL is empty"),
        (" /data/cache", "starts or ends with whitespace"),
        ("ftp://x", "unknown scheme 'ftp://'"),
        ("file://host/data", "a file URL needs an absolute path"),
        ("file:relative", "a file URL needs an absolute path"),
        ("s3://", "bucket name is missing"),
        ("s3:///prefix", "bucket name is missing"),
        ("s3://ab/p", "bucket name 'ab' must be 3 to 63 characters"),
        ("s3://" + "a" * 64 + "/p", "must be 3 to 63 characters"),
        ("s3://Bad_Bucket!/x", "bucket name 'Bad_Bucket!' may hold only lowercase letters"),
        ("s3://my_bucket/x", "may hold only lowercase letters, digits, '.' and '-'"),
        ("s3://-bucket/x", "must start and end with a letter or digit"),
        ("s3://bucket-/x", "must start and end with a letter or digit"),
        ("s3://my..bucket/x", "must not contain '..'"),
        ("s3://192.168.5.4/x", "must not look like an IP address"),
        ("gs://Bad/x", "may hold only lowercase letters, digits, '.', '-' and '_'"),
        ("gs://goog-data/x", "must not start with 'goog'"),
        ("gs://my-google-data/x", "must not contain 'google'"),
        ("gs://" + "a" * 64 + "/x", "3 to 63 characters (up to 222 with dots"),
        ("gs://" + "a" * 64 + ".b/x", "each dot-separated part at most 63"),
        ("az://Container/x", "container name 'Container' may hold only lowercase letters"),
        ("az://my--container/x", "must not contain '--'"),
        ("az://my-container-/x", "must start and end with a letter or digit"),
        ("az://ab/x", "container name 'ab' must be 3 to 63 characters"),
        ("abfs://Bad@account.dfs.core.windows.net/x", "container name 'Bad'"),
    ],
)
def test_malformed_urls_say_what_is_wrong(url: str, message: str) -> None:
    with pytest.raises(errors.RemoteError) as caught:
        remote_url.check(url)

    assert message in str(caught.value)
    assert "\n" not in str(caught.value)


def test_azure_errors_talk_about_containers_not_buckets() -> None:
    with pytest.raises(errors.RemoteError) as caught:
        remote_url.check("az://x/p")

    assert "bucket" not in str(caught.value)
    assert "az://my-container/prefix" in str(caught.value)


@pytest.mark.parametrize(
    ("url", "cwd", "expected"),
    [
        ("../shared", "/w/proj", "../shared"),
        ("../../shared", "/w/proj/models", "../shared"),
        ("../shared", "/w/proj/models", "shared"),  # inside: the location check refuses it
        ("/abs/cache", "/w/proj/models", "/abs/cache"),
        ("~/cache", "/w/proj/models", "~/cache"),
        ("s3://my-bucket/p", "/w/proj/models", "s3://my-bucket/p"),
        ("file:///abs", "/w/proj/models", "file:///abs"),
        ("", "/w/proj/models", ""),
    ],
)
def test_a_relative_path_typed_in_a_subdirectory_is_kept_relative_to_the_project_root(
    url: str, cwd: str, expected: str
) -> None:
    assert remote_url.from_cwd(url, pathlib.Path(cwd), pathlib.Path("/w/proj")) == expected


def test_abfss_names_its_container_before_the_at() -> None:
    remote_url.check("abfss://data@account.dfs.core.windows.net/cache")
    with pytest.raises(errors.RemoteError, match="container name 'Data'"):
        remote_url.check("abfss://Data@account.dfs.core.windows.net/cache")
