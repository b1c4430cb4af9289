import difflib
import re
from collections.abc import Mapping
from typing import Any, Literal, TypeVar

import pydantic

LinkModeName = Literal["reflink", "hardlink", "symlink", "copy"]


class _Section(pydantic.BaseModel):
    # defer_build: the validator (and pydantic's plugin scan) is built on first validation, so
    # a project without config files gets its defaults without paying for it.
    model_config = pydantic.ConfigDict(extra="forbid", frozen=True, defer_build=True)


class CoreConfig(_Section):
    remote: str | None = None
    """Name of the default remote (`pivot remote default NAME`)."""


class CacheConfig(_Section):
    link_modes: tuple[LinkModeName, ...] | None = None
    """Order in which checkout and run restores try to place files; None = the built-in order."""


class FingerprintConfig(_Section):
    ignore_package_versions: bool = False


class RunConfig(_Section):
    executor: Literal["loky", "inline", "dask"] = "loky"
    scheduler: str | None = None
    """Dask scheduler address (`tcp://host:8786`) for `executor: dask`; None = a local cluster."""
    shared_fs: bool = True
    """False: Dask workers share no disk with the project; data moves through the remote."""
    fast: bool = True
    """A no-op `run`/`status` is answered from the snapshot of file stamps; False: always check
    in full (as `--no-fast`)."""


class RemoteConfig(_Section):
    url: str
    endpoint_url: str | None = None
    region: str | None = None
    allow_http: bool = False
    jobs: int | None = pydantic.Field(default=None, ge=1)
    timeout: float = pydantic.Field(default=30.0, gt=0)
    """Seconds to wait for a connection or a single request before giving up."""


_M = TypeVar("_M", bound=pydantic.BaseModel)


def _unvalidated(model: type[_M]) -> _M:
    """A section at its defaults, built without its validator (see `_Section`)."""
    return model.model_construct()


class Config(_Section):
    """Everything `.pivot/config.yaml` and `.pivot/config.local.yaml` may say (local wins)."""

    # Not `default_factory=CoreConfig.model_construct`: pydantic would pass the data as its
    # first argument.
    core: CoreConfig = pydantic.Field(default_factory=lambda: _unvalidated(CoreConfig))
    cache: CacheConfig = pydantic.Field(default_factory=lambda: _unvalidated(CacheConfig))
    fingerprint: FingerprintConfig = pydantic.Field(
        default_factory=lambda: _unvalidated(FingerprintConfig)
    )
    run: RunConfig = pydantic.Field(default_factory=lambda: _unvalidated(RunConfig))
    remotes: dict[str, RemoteConfig] = {}


def defaults() -> Config:
    """Every setting at its default, without building a validator (the no-op path's config)."""
    return Config.model_construct()


ENVIRONMENT = {
    "PIVOT_LINK_MODES": ("cache", "link_modes"),
    "PIVOT_IGNORE_PACKAGE_VERSIONS": ("fingerprint", "ignore_package_versions"),
    "PIVOT_EXECUTOR": ("run", "executor"),
    "PIVOT_DASK_SCHEDULER": ("run", "scheduler"),
    "PIVOT_REMOTE": ("core", "remote"),
    "PIVOT_FAST": ("run", "fast"),
}
"""Environment variables that override a setting (the one place they are read)."""


def env_overrides(environ: Mapping[str, str]) -> dict[tuple[str, ...], Any]:
    """Settings given in `environ`, as key path → raw value (validated with the files)."""
    found: dict[tuple[str, ...], Any] = {}
    for var, key in ENVIRONMENT.items():
        value = environ.get(var)
        if value is None:
            continue
        if key == ("cache", "link_modes"):
            found[key] = [v.strip() for v in value.split(",") if v.strip()]
        elif key in (("fingerprint", "ignore_package_versions"), ("run", "fast")):
            found[key] = value.strip().lower() not in ("", "0", "false", "no", "off")
        elif value:
            found[key] = value
    return found


def env_var_of(key: tuple[str | int, ...]) -> str | None:
    """The environment variable that sets `key` (or a prefix of it), if any."""
    for var, path in ENVIRONMENT.items():
        if tuple(key[: len(path)]) == path:
            return var
    return None


def merge(base: Mapping[str, Any], over: Mapping[str, Any]) -> dict[str, Any]:
    """Deep merge of two config mappings; `over` wins key by key."""
    merged: dict[str, Any] = dict(base)
    for key, value in over.items():
        old = merged.get(key)
        if isinstance(old, Mapping) and isinstance(value, Mapping):
            merged[key] = merge(old, value)  # pyright: ignore[reportUnknownArgumentType]
        else:
            merged[key] = value
    return merged


def set_path(data: dict[str, Any], key: tuple[str, ...], value: Any) -> None:
    """Set `data[k1][k2]… = value`, creating mappings on the way."""
    node = data
    for part in key[:-1]:
        child = node.get(part)
        if not isinstance(child, dict):
            child = {}
            node[part] = child
        node = child  # pyright: ignore[reportUnknownVariableType]
    node[key[-1]] = value


def _section_model(parent: tuple[str, ...]) -> type[pydantic.BaseModel] | None:
    """The model of the mapping at `parent` (() is the whole config), None if there is none."""
    match parent:
        case ():
            return Config
        case ("remotes", _):
            return RemoteConfig
        case (section,) if section != "remotes":
            field = Config.model_fields.get(section)
            annotation = field.annotation if field is not None else None
            if isinstance(annotation, type) and issubclass(annotation, pydantic.BaseModel):
                return annotation
    return None


def parse_key(dotted: str) -> tuple[str, ...]:
    """`cache.link_modes` → ('cache', 'link_modes'); an unknown key raises with did-you-mean."""
    from pivot.domain import errors

    key: tuple[str, ...] = tuple(dotted.split("."))
    *parent, leaf = key
    model = _section_model(tuple(parent)) if all(key) and parent else None
    if model is not None and model is not Config and leaf in model.model_fields:
        return key
    known = all_keys()
    if parent and parent[0] == "remotes":
        known = [k.replace(".NAME.", f".{leaf if len(parent) == 1 else parent[1]}.") for k in known]
    raise errors.ConfigError(
        f"unknown setting '{dotted}'{suggest(dotted, known)}; "
        + "`pivot config list --all` lists every key"
    )


def all_keys() -> list[str]:
    """Every settable dotted key (remote options shown for a remote called NAME)."""
    keys: list[str] = []
    for section in Config.model_fields:
        if section == "remotes":
            keys.extend(f"remotes.NAME.{name}" for name in RemoteConfig.model_fields)
            continue
        model = _section_model((section,))
        assert model is not None
        keys.extend(f"{section}.{name}" for name in model.model_fields)
    return keys


def allowed_at(parent: tuple[str | int, ...]) -> list[str]:
    """Names allowed in the mapping at `parent` (for did-you-mean on an unknown key)."""
    model = _section_model(tuple(str(p) for p in parent))
    return list(model.model_fields) if model is not None else []


def suggest(word: str, known: list[str]) -> str:
    """ "; did you mean 'x'?" when something in `known` is close to `word`, else ''."""
    close = difflib.get_close_matches(word, known, n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else ""


def flatten(data: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """Nested settings → {'cache.link_modes': [...], …} (None values left out)."""
    flat: dict[str, Any] = {}
    for key, value in data.items():
        dotted = f"{prefix}{key}"
        if isinstance(value, Mapping):
            flat.update(flatten(value, dotted + "."))  # pyright: ignore[reportUnknownArgumentType]
        elif value is not None:
            flat[dotted] = list(value) if isinstance(value, tuple) else value  # pyright: ignore[reportUnknownArgumentType]
    return flat


def check_remote_name(name: str) -> None:
    """Remote names are plain words (they become config keys: remotes.NAME.url)."""
    from pivot.domain import errors

    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_-]*", name):
        raise errors.ConfigError(
            f"'{name}' is not a valid remote name: use letters, digits, '-' and '_' (like origin)"
        )


def pick_remote(settings: Config, name: str | None) -> tuple[str, RemoteConfig]:
    """The remote called `name`, else the default one (the only one, if there is just one)."""
    from pivot.domain import errors

    known = sorted(settings.remotes)
    if not known:
        raise errors.RemoteError(
            "no remote configured: add one with `pivot remote add NAME URL` "
            + "(URL: s3://bucket/prefix, gs://…, az://…, or a directory)"
        )
    chosen = name or settings.core.remote or (known[0] if len(known) == 1 else None)
    if chosen is None:
        raise errors.RemoteError(
            f"no default remote among {', '.join(known)}: pass -r NAME, "
            + "or set one with `pivot remote default NAME`"
        )
    if chosen not in settings.remotes:
        close = difflib.get_close_matches(chosen, known, n=1)
        hint = f"did you mean '{close[0]}'?" if close else f"remotes: {', '.join(known)}"
        where = "" if name else " (core.remote)"
        raise errors.RemoteError(f"unknown remote '{chosen}'{where}; {hint}")
    return chosen, settings.remotes[chosen]
