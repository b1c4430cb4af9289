import keyword
import pathlib
from collections.abc import Mapping, Sequence
from typing import Any

import pydantic

from pivot.adapters.discovery import declaration, python_scripts, shell_command
from pivot.domain import errors, loader, paths, specs, stage
from pivot.domain import params as params_mod
from pivot.domain import pipeline as pipeline_mod
from pivot.domain import resources as resources_mod

PathSpecLike = str | Sequence[str]
PathDecl = Sequence[PathSpecLike] | Mapping[str, PathSpecLike]
OutEntryLike = PathSpecLike | Mapping[str, Mapping[str, Any] | None]
"""An output path, or `{path: {cache: false, persist: true, x: ...}}` (cmd: stages)."""
OutDecl = Sequence[OutEntryLike] | Mapping[str, PathSpecLike]

OUT_SECTIONS: Mapping[str, type[specs.Out]] = {
    "outs": specs.Out,
    "metrics": specs.Metric,
    "plots": specs.Plot,
}


class CommandParams(params_mod.StageParams):
    """Base of the params model built for each `cmd:` stage from its declared values."""

    model_config = pydantic.ConfigDict(extra="forbid", frozen=True, protected_namespaces=())


class TrackedParams(CommandParams):
    """DVC-style params of a `cmd:` stage: the listed keys of params files, as read.

    Any key is allowed (they come from the user's files); params.yaml overrides never apply.
    """

    model_config = pydantic.ConfigDict(extra="allow", frozen=True, protected_namespaces=())


def _entries(decl: PathDecl) -> list[tuple[str | None, PathSpecLike, str | int]]:
    """(name or None, path spec, position in the declaration) of a list or mapping."""
    if isinstance(decl, Mapping):
        return [(str(name), spec, str(name)) for name, spec in decl.items()]
    return [(None, spec, index) for index, spec in enumerate(decl)]


def plain_deps(root: pathlib.Path, decl: PathDecl | None) -> tuple[stage.DepBinding, ...]:
    """Dependencies tracked by path only (PathOnly), named by their mapping key or path."""
    bound: list[stage.DepBinding] = []
    for name, spec, where in _entries(decl or ()):
        raw = (spec,) if isinstance(spec, str) else tuple(spec)
        if not raw or any(not p for p in raw):
            raise declaration.DeclarationError("a dependency path is empty", ("deps", where))
        bound.append(
            stage.DepBinding(
                name=name or "+".join(raw),
                paths=tuple(paths.normalize(p, root) for p in raw),
                loader=loader.PathOnly(),
                multi=not isinstance(spec, str),
            )
        )
    return tuple(bound)


def plain_outs(
    stage_name: str, root: pathlib.Path, sections: Mapping[str, OutDecl | None]
) -> tuple[tuple[stage.OutBinding, ...], shell_command.Returns]:
    """Outputs tracked by path only; one output has key None, several are keyed by name/path."""
    found: list[tuple[str, str, str, Mapping[str, Any], str | int]] = []
    for section, decl in sections.items():
        for name, given, where in _entries(decl or ()):  # pyright: ignore[reportArgumentType]
            spec: Any = given
            options: Mapping[str, Any] = {}
            if isinstance(given, Mapping):
                entry: Mapping[str, Any] = given  # pyright: ignore[reportUnknownVariableType]
                if len(entry) != 1:
                    raise declaration.DeclarationError(
                        "an output with options is one {path: {option: value}} mapping",
                        (section, where),
                    )
                spec, chosen = next(iter(entry.items()))
                options = {k: v for k, v in (chosen or {}).items() if v is not None}
            if not isinstance(spec, str):
                raise declaration.DeclarationError(
                    "an output is one path, not a list", (section, where)
                )
            found.append((section, name or spec, spec, options, where))
    single = len(found) == 1
    bound: list[stage.OutBinding] = []
    returns: list[tuple[str | None, str]] = []
    for section, key, raw, options, where in found:
        try:
            path = paths.check_output_path(raw, stage_name, root)
            out_spec = _out_spec(section, raw, options)
        except errors.StageDefinitionError as exc:
            raise declaration.DeclarationError(str(exc), (section, where)) from None
        out_key = None if single else key
        bound.append(stage.OutBinding(out_key, path, out_spec))
        returns.append((out_key, raw))
    return tuple(bound), tuple(returns)


def _out_spec(section: str, raw: str, options: Mapping[str, Any]) -> specs.Out:
    spec_type = OUT_SECTIONS[section]
    kwargs: dict[str, Any] = {}
    if "cache" in options:
        kwargs["cache"] = bool(options["cache"])
    plot_options = {k: options[k] for k in ("x", "y", "template", "title") if k in options}
    if plot_options and spec_type is not specs.Plot:
        raise errors.StageDefinitionError(
            f"output '{raw}': {', '.join(plot_options)} apply to plots only; list it under plots:"
        )
    if options.get("persist"):
        if spec_type is not specs.Out:
            raise errors.StageDefinitionError(
                f"output '{raw}': persist applies to outs only, not {section}"
            )
        spec_type = specs.IncrementalOut
    return spec_type(raw, loader.PathOnly(), **kwargs, **plot_options)


def params_model(stage_name: str, values: Mapping[str, Any]) -> type[params_mod.StageParams] | None:
    """A StageParams subclass whose fields and defaults are the declared values."""
    if not values:
        return None
    fields: dict[str, Any] = {}
    for name, value in values.items():
        if not name.isidentifier() or keyword.iskeyword(name) or name.startswith("_"):
            raise declaration.DeclarationError(
                f"param name '{name}' must be a Python identifier not starting with '_'",
                ("params", name),
            )
        fields[name] = (_field_type(value), value)
    return pydantic.create_model(  # pyright: ignore[reportCallIssue, reportUnknownVariableType]
        f"CommandParams[{stage_name}]", __base__=CommandParams, **fields
    )


def _field_type(value: Any) -> Any:
    match value:
        case bool():
            return bool
        case int():
            return int
        case float():
            return float
        case str():
            return str
        case list():
            return list[Any]
        case dict():
            return dict[str, Any]
        case _:
            return Any


def register(
    pipe: pipeline_mod.Pipeline,
    *,
    name: str,
    template: str,
    deps: PathDecl | None = None,
    outs: OutDecl | None = None,
    metrics: OutDecl | None = None,
    plots: OutDecl | None = None,
    params: Mapping[str, Any] | None = None,
    mutex: Sequence[str] = (),
    tracked: bool = False,
    resources: Mapping[str, Any] | None = None,
) -> stage.Stage:
    """Add a shell-command stage to `pipe`; `template` may still hold `${params.*}`.

    `tracked`: `params` are DVC-style values read from params files (any key names).
    """
    pipeline_mod.check_stage_name(name)
    instance: params_mod.StageParams | None
    if tracked:
        instance = TrackedParams(**params) if params else None
    else:
        params_type = params_model(name, params or {})
        instance = params_type() if params_type is not None else None
    out_bindings, returns = plain_outs(
        name, pipe.root, {"outs": outs, "metrics": metrics, "plots": plots}
    )
    try:
        func = shell_command.ShellCommand.create(
            name, template, instance.model_dump(mode="json") if instance else {}, returns
        )
    except declaration.DeclarationError as exc:
        raise declaration.DeclarationError(str(exc), ("cmd",)) from None
    scripts = python_scripts.find(template, pipe.root)
    # A script the command runs is code: listed as a dep (as DVC needs), it is tracked by its
    # code fingerprint only, so a comment edit does not re-run the stage.
    code_files = {(script.file,) for script in scripts}
    built = stage.Stage(
        name=name,
        func=func,
        pipeline=pipe.name,
        root=pipe.root,
        deps=tuple(d for d in plain_deps(pipe.root, deps) if d.paths not in code_files),
        outs=out_bindings,
        params=instance,
        mutex=tuple(mutex),
        resources=resources_mod.parse(name, resources),
        scripts=scripts,
    )
    pipe.add(built)
    return built
