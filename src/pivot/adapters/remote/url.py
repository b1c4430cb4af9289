import pathlib
import urllib.parse

from pivot.domain import errors

SCHEMES = ("s3", "gs", "az", "abfs", "file")
"""What a remote URL may start with (`file:` and plain paths open a directory remote)."""


def location(url: str, project_root: pathlib.Path) -> str:
    """The canonical form of a remote URL (a plain path becomes an absolute directory)."""
    parsed = urllib.parse.urlparse(url)
    if parsed.scheme in ("", "file") or len(parsed.scheme) == 1:  # '', file:, C:\ paths
        if parsed.scheme == "file":
            if parsed.netloc not in ("", "localhost") or not parsed.path.startswith("/"):
                raise errors.RemoteError(
                    f"malformed remote URL '{url}': a file URL needs an absolute path "
                    + "(file:///data/cache), or give a plain directory path"
                )
            return str(pathlib.Path(urllib.parse.unquote(parsed.path)))
        return str((project_root / url).resolve())
    if parsed.scheme not in SCHEMES:
        raise errors.RemoteError(
            f"malformed remote URL '{url}': unknown scheme '{parsed.scheme}://'; use s3://bucket/"
            + "prefix, gs://bucket/prefix, az://container/prefix, file:///abs/path or a directory"
        )
    if len(parsed.netloc) < 3 or parsed.netloc != parsed.netloc.strip():
        raise errors.RemoteError(
            f"malformed remote URL '{url}': bucket name '{parsed.netloc}' is missing or too "
            + f"short (at least 3 characters: {parsed.scheme}://my-bucket/prefix)"
        )
    return url.rstrip("/")
