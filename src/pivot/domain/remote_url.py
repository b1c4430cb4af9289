import os
import pathlib
import re
import urllib.parse

from pivot.domain import errors

SCHEMES = ("s3", "gs", "az", "abfs", "abfss", "file")
"""What a remote URL may start with (`file:` and plain paths open a directory remote)."""

FORMS = (
    "s3://bucket/prefix, gs://bucket/prefix, az://container/prefix, file:///abs/path "
    + "or a directory path outside the project (../shared, ~/pivot-cache, /mnt/share/cache)"
)
"""The URL forms, as every message and help text names them."""

_IP = re.compile(r"\d+\.\d+\.\d+\.\d+")


def check(url: str) -> None:
    """Raises RemoteError, saying what is wrong, unless `url` has a form a remote can have.

    Only the form: where a directory path leads is the adapter's question (`url.location`)."""
    if not url.strip():
        raise errors.RemoteError(f"remote URL is empty: give {FORMS}")
    if url != url.strip():
        raise errors.RemoteError(
            f"malformed remote URL '{url}': it starts or ends with whitespace; quote it "
            + "without the spaces"
        )
    parsed = urllib.parse.urlparse(url)
    if parsed.scheme == "" or len(parsed.scheme) == 1:  # a path ('C:\\…' on Windows)
        return
    if parsed.scheme == "file":
        if parsed.netloc not in ("", "localhost") or not parsed.path.startswith("/"):
            raise errors.RemoteError(
                f"malformed remote URL '{url}': a file URL needs an absolute path "
                + "(file:///data/cache), or give a plain directory path"
            )
        return
    if parsed.scheme not in SCHEMES:
        raise errors.RemoteError(
            f"malformed remote URL '{url}': unknown scheme '{parsed.scheme}://'; use {FORMS}"
        )
    noun, example = (
        ("bucket", "my-bucket") if parsed.scheme in ("s3", "gs") else ("container", "my-container")
    )
    # abfs://container@account.dfs.core.windows.net/path names the container before the '@'.
    name = parsed.netloc.split("@", 1)[0] if parsed.scheme in ("abfs", "abfss") else parsed.netloc
    if not name:
        raise errors.RemoteError(
            f"malformed remote URL '{url}': the {noun} name is missing "
            + f"({parsed.scheme}://{example}/prefix)"
        )
    problem = _bucket_problem(parsed.scheme, name)
    if problem is not None:
        raise errors.RemoteError(
            f"malformed remote URL '{url}': {noun} name '{name}' {problem} "
            + f"({parsed.scheme}://{example}/prefix)"
        )


def from_cwd(url: str, cwd: pathlib.Path, project_root: pathlib.Path) -> str:
    """A relative directory path typed in `cwd`, as the config file keeps it: relative to the
    project root (a shell user in a subdirectory means the path from there). Anything else —
    object store URLs, absolute paths, `~` — as given."""
    parsed = urllib.parse.urlparse(url)
    if parsed.scheme or not url.strip() or url.startswith("~") or os.path.isabs(url):
        return url
    if cwd == project_root:
        return url
    return os.path.relpath(os.path.normpath(cwd / url), project_root)


def _bucket_problem(scheme: str, name: str) -> str | None:
    """What breaks the provider's naming rules for `name`, None if nothing does."""
    match scheme:
        case "s3":
            return _s3_problem(name)
        case "gs":
            return _gcs_problem(name)
        case _:
            return _azure_problem(name)


def _s3_problem(name: str) -> str | None:
    """AWS S3 general purpose bucket rules (reserved prefixes and suffixes are left out: an
    access point alias ending in -s3alias, or a directory bucket's --x-s3, is addressed like a
    bucket)."""
    if not 3 <= len(name) <= 63:
        return "must be 3 to 63 characters"
    if not re.fullmatch(r"[a-z0-9.-]+", name):
        return "may hold only lowercase letters, digits, '.' and '-'"
    return _ends_dots_ip(name)


def _gcs_problem(name: str) -> str | None:
    """Google Cloud Storage bucket rules (close misspellings of 'google' are not checked)."""
    parts = name.split(".")
    if not 3 <= len(name) <= (222 if len(parts) > 1 else 63):
        return "must be 3 to 63 characters (up to 222 with dots)"
    if any(len(part) > 63 for part in parts):
        return "must have each dot-separated part at most 63 characters"
    if not re.fullmatch(r"[a-z0-9._-]+", name):
        return "may hold only lowercase letters, digits, '.', '-' and '_'"
    if name.startswith("goog"):
        return "must not start with 'goog'"
    if "google" in name:
        return "must not contain 'google'"
    return _ends_dots_ip(name)


def _azure_problem(name: str) -> str | None:
    """Azure Blob Storage container rules ($root and $web are the special containers)."""
    if name in ("$root", "$web"):
        return None
    if not 3 <= len(name) <= 63:
        return "must be 3 to 63 characters"
    if not re.fullmatch(r"[a-z0-9-]+", name):
        return "may hold only lowercase letters, digits and '-'"
    if "--" in name:
        return "must not contain '--'"
    return _ends_dots_ip(name)


def _ends_dots_ip(name: str) -> str | None:
    if not (name[0].isalnum() and name[-1].isalnum()):
        return "must start and end with a letter or digit"
    if ".." in name:
        return "must not contain '..'"
    if _IP.fullmatch(name):
        return "must not look like an IP address"
    return None
