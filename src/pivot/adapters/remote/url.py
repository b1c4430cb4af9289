import os
import pathlib
import urllib.parse

from pivot.domain import errors, remote_url


def location(url: str, project_root: pathlib.Path) -> str:
    """The canonical form of a remote URL: an object store's URL as given, a directory's
    absolute path (`~` expanded as a shell would, a relative path taken from the project root).

    Raises RemoteError for a malformed URL and for a directory inside the project, where its
    objects would be scanned as workspace files and committed to git."""
    remote_url.check(url)
    parsed = urllib.parse.urlparse(url)
    if parsed.scheme == "file":
        path = pathlib.Path(urllib.parse.unquote(parsed.path))
    elif parsed.scheme == "" or len(parsed.scheme) == 1:
        expanded = os.path.expanduser(url)
        if expanded.startswith("~"):
            raise errors.RemoteError(
                f"malformed remote URL '{url}': cannot expand '{url.split('/', 1)[0]}' "
                + "(no such user, or no home directory); give the full path"
            )
        path = project_root / expanded
    else:
        return url.rstrip("/")
    where = path.resolve()
    root = project_root.resolve()
    if where.is_relative_to(root):
        raise errors.RemoteError(
            f"remote '{url}' is the directory {where}, which is inside the project ({root}): "
            + "its objects would show up as workspace files and in git; use a directory outside "
            + f"it (../{root.name}-remote, ~/pivot-cache) or a bucket"
        )
    return str(where)
