from __future__ import annotations

import dataclasses
import difflib
import functools
import re
import typing
from collections.abc import Collection, Mapping
from typing import TYPE_CHECKING, Annotated, Any, ClassVar, Literal

if TYPE_CHECKING:
    import annotated_types  # imported by `validate`, which resolves the annotations

LinkModeName = Literal["reflink", "hardlink", "symlink", "copy"]

# The settings are plain frozen dataclasses: a project without config files gets its defaults
# without importing pydantic (start-up cost of every command). Files and environment overrides
# are validated by pydantic (`validate`), which reads `__pydantic_config__`: unknown keys are
# errors at every level.
_FORBID_EXTRA: dict[str, Any] = {"extra": "forbid"}


@dataclasses.dataclass(frozen=True)
class CoreConfig:
    __pydantic_config__: ClassVar[dict[str, Any]] = _FORBID_EXTRA
    remote: str | None = None
    """Name of the default remote (`pivot remote default NAME`)."""


@dataclasses.dataclass(frozen=True)
class CacheConfig:
    __pydantic_config__: ClassVar[dict[str, Any]] = _FORBID_EXTRA
    link_modes: tuple[LinkModeName, ...] | None = None
    """Order in which checkout and run restores try to place files; None = the built-in order."""


@dataclasses.dataclass(frozen=True)
class FingerprintConfig:
    __pydantic_config__: ClassVar[dict[str, Any]] = _FORBID_EXTRA
    ignore_package_versions: bool = False


@dataclasses.dataclass(frozen=True)
class RunConfig:
    __pydantic_config__: ClassVar[dict[str, Any]] = _FORBID_EXTRA
    executor: Literal["loky", "inline", "dask"] = "loky"
    scheduler: str | None = None
    """Dask scheduler address (`tcp://host:8786`) for `executor: dask`; None = a local cluster."""
    shared_fs: bool = True
    """False: Dask workers share no disk with the project; data moves through the remote."""
    fast: bool = True
    """A no-op `run`/`status` is answered from the snapshot of file stamps; False: always check
    in full (as `--no-fast`)."""


@dataclasses.dataclass(frozen=True)
class RemoteConfig:
    __pydantic_config__: ClassVar[dict[str, Any]] = _FORBID_EXTRA
    url: str
    endpoint_url: str | None = None
    region: str | None = None
    allow_http: bool = False
    jobs: Annotated[int | None, annotated_types.Ge(1)] = None
    timeout: Annotated[float, annotated_types.Gt(0)] = 30.0
    """Seconds to wait for a connection or a single request before giving up."""
    hardlink: bool = True
    """A directory remote on the cache's filesystem: large objects are hard-linked into the
    local cache (after re-hashing) instead of copied; False: always copy (ADR 0011)."""


@dataclasses.dataclass(frozen=True)
class Config:
    """Everything `.pivot/config.yaml` and `.pivot/config.local.yaml` may say (local wins)."""

    __pydantic_config__: ClassVar[dict[str, Any]] = _FORBID_EXTRA
    core: CoreConfig = dataclasses.field(default_factory=CoreConfig)
    cache: CacheConfig = dataclasses.field(default_factory=CacheConfig)
    fingerprint: FingerprintConfig = dataclasses.field(default_factory=FingerprintConfig)
    run: RunConfig = dataclasses.field(default_factory=RunConfig)
    remotes: dict[str, RemoteConfig] = dataclasses.field(default_factory=dict[str, RemoteConfig])


@functools.cache
def _sections() -> dict[str, type[Any]]:
    """The sections that are one mapping of settings (`remotes` maps names to RemoteConfig)."""
    hints = typing.get_type_hints(Config)
    return {
        f.name: hints[f.name]
        for f in dataclasses.fields(Config)
        if dataclasses.is_dataclass(hints[f.name])
    }


def defaults() -> Config:
    """Every setting at its default (no pydantic: the no-op path's config)."""
    return Config()


def validate(data: Mapping[str, Any]) -> Config:
    """Settings from plain data; raises pydantic.ValidationError (unknown keys included)."""
    # RemoteConfig's constraints: pydantic resolves the annotations in this module's namespace.
    global annotated_types  # noqa: PLW0603
    import annotated_types
    import pydantic

    return pydantic.TypeAdapter(Config).validate_python(data)


def dump(
    settings: Any,
    *,
    exclude_none: bool = False,
    exclude_defaults: bool = False,
    exclude: Collection[str] = (),
) -> dict[str, Any]:
    """A settings dataclass as nested plain data (tuples kept)."""
    out: dict[str, Any] = {}
    for f in dataclasses.fields(settings):
        value = getattr(settings, f.name)
        if f.name in exclude or (exclude_none and value is None):
            continue
        if exclude_defaults and f.default is not dataclasses.MISSING and value == f.default:
            continue
        if dataclasses.is_dataclass(value):
            value = dump(value, exclude_none=exclude_none, exclude_defaults=exclude_defaults)
        elif isinstance(value, dict):
            value = {
                k: dump(v, exclude_none=exclude_none, exclude_defaults=exclude_defaults)
                if dataclasses.is_dataclass(v)
                else v
                for k, v in value.items()  # pyright: ignore[reportUnknownVariableType]
            }
        out[f.name] = value
    return out


def restore(data: Mapping[str, Any]) -> Config:
    """Settings from `dump`'s plain data of settings `validate` accepted (no pydantic: a memo of
    validated settings is read back with this). Lists become tuples again; raises TypeError
    when `data` does not fit the dataclasses."""
    sections = _sections()
    built: dict[str, Any] = {}
    for name, value in data.items():
        if name == "remotes":
            built[name] = {k: _rebuilt(RemoteConfig, v) for k, v in value.items()}
        elif name in sections:
            built[name] = _rebuilt(sections[name], value)
        else:
            raise TypeError(f"no settings section {name!r}")
    return Config(**built)


def _rebuilt(model: type[Any], value: Mapping[str, Any]) -> Any:
    return model(**{k: tuple(v) if isinstance(v, list) else v for k, v in value.items()})


def _field_names(model: type[Any]) -> list[str]:
    return [f.name for f in dataclasses.fields(model)]


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


def _section_model(parent: tuple[str, ...]) -> type[Any] | None:
    """The dataclass of the mapping at `parent` (() is the whole config), None if there is none."""
    match parent:
        case ():
            return Config
        case ("remotes", _):
            return RemoteConfig
        case (section,):
            return _sections().get(section)
    return None


def parse_key(dotted: str) -> tuple[str, ...]:
    """`cache.link_modes` → ('cache', 'link_modes'); an unknown key raises with did-you-mean."""
    from pivot.domain import errors

    key: tuple[str, ...] = tuple(dotted.split("."))
    *parent, leaf = key
    model = _section_model(tuple(parent)) if all(key) and parent else None
    if model is not None and model is not Config and leaf in _field_names(model):
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
    for section in _field_names(Config):
        if section == "remotes":
            keys.extend(f"remotes.NAME.{name}" for name in _field_names(RemoteConfig))
            continue
        model = _section_model((section,))
        assert model is not None
        keys.extend(f"{section}.{name}" for name in _field_names(model))
    return keys


def allowed_at(parent: tuple[str | int, ...]) -> list[str]:
    """Names allowed in the mapping at `parent` (for did-you-mean on an unknown key)."""
    model = _section_model(tuple(str(p) for p in parent))
    return _field_names(model) if model is not None else []


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


def no_remote(name: str, known: Collection[str]) -> str:
    """The message for a remote `name` that is not configured (did-you-mean among `known`)."""
    return (
        f"no remote '{name}'{suggest(name, list(known))}; add it with `pivot remote add {name} URL`"
    )


def check_settable(settings: Config, key: tuple[str, ...]) -> None:
    """A remote's option can be set only on a remote that exists (its url makes it one)."""
    from pivot.domain import errors

    if key[0] == "remotes" and key[-1] != "url" and key[1] not in settings.remotes:
        raise errors.ConfigError(no_remote(key[1], settings.remotes))


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
        raise errors.RemoteError(
            unknown_remote(chosen, known, where="" if name else " (core.remote)")
        )
    return chosen, settings.remotes[chosen]


def unknown_remote(name: str, known: list[str], *, where: str = "") -> str:
    """The message for a remote name that none of `known` is: did-you-mean, else the list."""
    close = difflib.get_close_matches(name, known, n=1)
    hint = f"did you mean '{close[0]}'?" if close else f"remotes: {', '.join(known) or 'none'}"
    return f"unknown remote '{name}'{where}; {hint}"
