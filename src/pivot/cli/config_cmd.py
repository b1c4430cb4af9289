import json
from typing import Annotated, Any

import cyclopts

from pivot.cli import arguments

# Help paragraphs are single lines: the plaintext help keeps source line breaks, then wraps.
config_app = cyclopts.App(
    name="config",
    help="\n\n".join(
        [
            "Show and change settings in .pivot/config.yaml (committed) and "
            + ".pivot/config.local.yaml (git-ignored, per machine; wins over config.yaml).",
            "Keys are dotted: cache.link_modes, fingerprint.ignore_package_versions, "
            + "run.executor, run.fast, core.remote, remotes.NAME.url (and .endpoint_url, "
            + ".region, .allow_http, .jobs, .timeout, .hardlink). A remote's options need the "
            + "remote first (`pivot remote add NAME URL`). Environment variables override both "
            + "files: PIVOT_LINK_MODES, PIVOT_IGNORE_PACKAGE_VERSIONS, PIVOT_EXECUTOR, "
            + "PIVOT_REMOTE, PIVOT_FAST.",
        ]
    ),
)

Local = Annotated[
    bool,
    cyclopts.Parameter(
        name="--local", help="Use .pivot/config.local.yaml (git-ignored) instead of config.yaml."
    ),
]
Json = Annotated[bool, cyclopts.Parameter(name="--json", help="Print JSON.")]


@config_app.command(name="list")
def list_settings(
    *,
    local: Annotated[
        bool, cyclopts.Parameter(name="--local", help="Only what config.local.yaml sets.")
    ] = False,
    all_keys: Annotated[
        bool, cyclopts.Parameter(name="--all", help="Every key with its effective value.")
    ] = False,
    json_output: Json = False,
    session: arguments.Injected,
) -> int:
    """Print the settings the config files set (KEY=VALUE), or every effective one with --all."""
    from pivot.domain import config

    files = session.container().config_files()
    if all_keys:
        flat = config.flatten(config.dump(files.load()))
        for key in config.all_keys():
            if not key.startswith("remotes."):
                flat.setdefault(key, None)
    else:
        flat = config.flatten(files.raw(local=True if local else None))
    if json_output:
        print(json.dumps(dict(sorted(flat.items())), indent=2))
        return 0
    for key, value in sorted(flat.items()):
        print(f"{key}={_show(value)}")
    return 0


@config_app.command(name="get")
def get(key: str, /, *, json_output: Json = False, session: arguments.Injected) -> int:
    """Print the effective value of KEY (files, then environment; defaults if unset)."""
    from pivot.domain import config, errors

    parts = config.parse_key(key)
    settings = session.container().config_files().load()
    if parts[0] == "remotes" and parts[1] not in settings.remotes:
        raise errors.ConfigError(config.no_remote(parts[1], sorted(settings.remotes)))
    value: Any = config.dump(settings)
    for part in parts:
        if not isinstance(value, dict) or part not in value:
            raise errors.ConfigError(f"'{key}' is not set")
        value = value[part]  # pyright: ignore[reportUnknownVariableType]
    if json_output:
        print(json.dumps(list(value) if isinstance(value, tuple) else value))  # pyright: ignore[reportUnknownArgumentType]
    elif value is None:
        print("(not set)")
    else:
        print(_show(value))
    return 0


@config_app.command(name="set")
def set_value(key: str, value: str, /, *, local: Local = False, session: arguments.Injected) -> int:
    """Set KEY to VALUE (YAML: `copy`, `true`, `[hardlink, copy]`), validated, comments kept."""
    from pivot.domain import config, remote_url

    parts = config.parse_key(key)
    container = session.container()
    files = container.config_files()
    config.check_settable(files.load(), parts)
    if parts[0] == "remotes" and parts[-1] == "url":
        # A URL is text, never YAML (`~` alone would be null); a relative path is typed here.
        value = remote_url.from_cwd(value, session.cwd, container.project_root())
        parsed: Any = value
    else:
        parsed = _parse(value)
    files.set(parts, parsed, local=local)
    print(f"{key}={value} ({files.local if local else files.shared})")
    return 0


@config_app.command(name="unset")
def unset(key: str, /, *, local: Local = False, session: arguments.Injected) -> int:
    """Remove KEY from config.yaml (or config.local.yaml with --local)."""
    from pivot.domain import config

    parts = config.parse_key(key)
    files = session.container().config_files()
    files.unset(parts, local=local)
    print(f"unset {key} ({files.local if local else files.shared})")
    return 0


def _parse(text: str) -> Any:
    """A command-line VALUE as YAML, so lists and booleans can be given; plain text otherwise."""
    from ruamel import yaml

    try:
        return yaml.YAML(typ="safe").load(text)
    except yaml.YAMLError:
        return text


def _show(value: Any) -> str:
    if isinstance(value, list | tuple):
        return ",".join(str(v) for v in value)  # pyright: ignore[reportUnknownArgumentType, reportUnknownVariableType]
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
