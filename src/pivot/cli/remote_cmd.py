import json
from typing import Annotated

import cyclopts

from pivot.cli import arguments
from pivot.domain import remote_url

# Help paragraphs are single lines: the plaintext help keeps source line breaks, then wraps.
remote_app = cyclopts.App(
    name="remote",
    help="\n\n".join(
        [
            "Configure remote caches: where push, fetch and pull send and get data.",
            "A remote keeps the local cache's layout (files/ab/cdef…), so it is itself a cache. "
            + f"URLs: {remote_url.FORMS}. ~ is your home directory. A relative path is taken from "
            + "where you run the command and kept relative to the project root (where .pivot/ "
            + "is). A directory inside the project is refused (git and Pivot would see its "
            + "objects as data).",
            "Credentials come from the environment (AWS_ACCESS_KEY_ID, …) or the provider's own "
            + "configuration, never from Pivot's files. S3-compatible servers need `pivot config "
            + "set remotes.NAME.endpoint_url URL` (and `.allow_http true` for plain http).",
        ]
    ),
)

Name = Annotated[
    str,
    cyclopts.Parameter(
        help="A short name for the remote (letters, digits, '-', '_'), like origin; -r NAME picks "
        + "it in push, fetch, pull and status."
    ),
]

Local = Annotated[
    bool,
    cyclopts.Parameter(
        name="--local", help="Write to .pivot/config.local.yaml (git-ignored, this machine only)."
    ),
]


@remote_app.command(name="add")
def add(
    name: Name,
    url: Annotated[
        str,
        cyclopts.Parameter(
            help=f"Where the remote is: {remote_url.FORMS}. Checked before anything is written."
        ),
    ],
    /,
    *,
    default: Annotated[
        bool, cyclopts.Parameter(name="--default", help="Make it the default remote.")
    ] = False,
    local: Local = False,
    session: arguments.Injected,
) -> int:
    """Add remote NAME at URL (the first remote added becomes the default)."""
    from pivot.domain import config, errors

    container = session.container()
    files = container.config_files()
    current = files.load()
    if name in current.remotes:
        raise errors.ConfigError(
            f"remote '{name}' already exists ({current.remotes[name].url}); "
            + f"`pivot remote remove {name}` first, or `pivot config set remotes.{name}.url URL`"
        )
    config.check_remote_name(name)
    url = remote_url.from_cwd(url, session.cwd, container.project_root())
    container.remote_location(url)
    files.set(("remotes", name, "url"), url, local=local)
    if default or current.core.remote is None:
        files.set(("core", "remote"), name, local=local)
    print(
        f"added remote '{name}' → {url}"
        + (" (default)" if default or not current.core.remote else "")
    )
    return 0


@remote_app.command(name="list")
def list_remotes(
    *,
    json_output: Annotated[bool, cyclopts.Parameter(name="--json", help="Print JSON.")] = False,
    session: arguments.Injected,
) -> int:
    """List remotes: name, URL, options; the default is marked with *."""
    from pivot.domain import config

    settings = session.container().config_files().load()
    if json_output:
        payload = {
            "default": settings.core.remote,
            "remotes": {
                name: config.dump(remote, exclude_none=True)
                for name, remote in sorted(settings.remotes.items())
            },
        }
        print(json.dumps(payload, indent=2, sort_keys=True))
        return 0
    if not settings.remotes:
        print("No remotes; add one with `pivot remote add NAME URL`.")
        return 0
    for name, remote in sorted(settings.remotes.items()):
        mark = "*" if name == settings.core.remote else " "
        extras = config.dump(remote, exclude_none=True, exclude_defaults=True, exclude={"url"})
        shown = "".join(f"  {k}={v}" for k, v in sorted(extras.items()))
        print(f"{mark} {name}\t{remote.url}{shown}")
    return 0


@remote_app.command(name="remove")
def remove(name: Name, /, *, local: Local = False, session: arguments.Injected) -> int:
    """Remove remote NAME from the config file (its data stays where it is)."""
    from pivot.domain import config, errors

    files = session.container().config_files()
    # From the files as written, not validated settings: removing is how a bad remote is fixed.
    everywhere = sorted(files.raw().get("remotes", {}))
    if name not in everywhere:
        raise errors.RemoteError(config.unknown_remote(name, everywhere))
    raw = files.raw(local=local)
    if name not in raw.get("remotes", {}):
        here, there = (files.local, files.shared) if local else (files.shared, files.local)
        raise errors.ConfigError(
            f"remote '{name}' is set in {there.name}, not {here.name}: "
            + ("drop --local" if local else "add --local")
        )
    files.unset(("remotes", name), local=local)
    if raw.get("core", {}).get("remote") == name:
        files.unset(("core", "remote"), local=local)
    print(f"removed remote '{name}'")
    return 0


@remote_app.command(name="default")
def default(name: Name, /, *, local: Local = False, session: arguments.Injected) -> int:
    """Make NAME the remote that push, fetch and pull use without -r."""
    from pivot.domain import config

    files = session.container().config_files()
    config.pick_remote(files.load(), name)
    files.set(("core", "remote"), name, local=local)
    print(f"default remote: {name}")
    return 0
