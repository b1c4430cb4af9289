import dataclasses
import difflib
import inspect
import typing
from collections.abc import Callable, Mapping, Sequence
from typing import Annotated, Any

import pydantic

from pivot.adapters.discovery import command_stage, declaration, shell_command
from pivot.domain import definition, specs, stage
from pivot.domain import params as params_mod
from pivot.domain import pipeline as pipeline_mod

_SECTION_KINDS: Mapping[str, frozenset[specs.OutKind]] = {
    "outs": frozenset({specs.OutKind.OUT, specs.OutKind.INCREMENTAL, specs.OutKind.DIRECTORY}),
    "metrics": frozenset({specs.OutKind.METRIC}),
    "plots": frozenset({specs.OutKind.PLOT}),
}


@dataclasses.dataclass(frozen=True, slots=True)
class PlainCall:
    """A stage function plus path-only deps/outs declared outside its annotations.

    The function receives only the arguments it names; declared outputs are reported by path.
    """

    func: Callable[..., Any]
    accepted: tuple[str, ...] | None
    """Argument names the function takes; None when it takes **kwargs."""
    returns: shell_command.Returns = ()

    @property
    def __wrapped__(self) -> Callable[..., Any]:
        return self.func

    def __call__(self, **kwargs: Any) -> Any:
        given = (
            kwargs
            if self.accepted is None
            else {k: v for k, v in kwargs.items() if k in self.accepted}
        )
        result = self.func(**given)
        return shell_command.declared_outputs(self.returns) if self.returns else result


def declared_dep_names(func: Callable[..., Any]) -> list[str]:
    """Arguments annotated as Dep or PlaceholderDep, in signature order."""
    try:
        hints = typing.get_type_hints(func, include_extras=True)
    except Exception:
        return []  # definition.extract reports unresolvable hints with a proper message
    names: list[str] = []
    for arg in inspect.signature(func).parameters:
        hint = hints.get(arg)
        if typing.get_origin(hint) is Annotated and any(
            isinstance(meta, specs.Dep | specs.PlaceholderDep) for meta in typing.get_args(hint)[1:]
        ):
            names.append(arg)
    return names


def register(
    pipe: pipeline_mod.Pipeline,
    func: Callable[..., Any],
    *,
    name: str,
    base: str | None = None,
    deps: command_stage.PathDecl | None = None,
    outs: command_stage.PathDecl | None = None,
    metrics: command_stage.PathDecl | None = None,
    plots: command_stage.PathDecl | None = None,
    params: pipeline_mod.ParamsArg = None,
    mutex: Sequence[str] = (),
    resources: Mapping[str, Any] | None = None,
) -> stage.Stage:
    """Add `func` as stage `name`; lists and mappings override its annotated paths.

    A function that declares no deps (or no outputs) gets the given paths as path-only
    deps (outputs) it reads (writes) itself. `base` is the stage's name before any `@variant`.
    """
    pipeline_mod.check_stage_name(name)
    pipeline_mod.check_stage_function(func, name)
    declared = declared_dep_names(func)
    dep_overrides: dict[str, specs.PathSpec] = {}
    extra_deps: tuple[stage.DepBinding, ...] = ()
    if deps is not None and declared:
        dep_overrides = _dep_overrides(func, declared, deps)
    elif deps is not None:
        extra_deps = command_stage.plain_deps(pipe.root, deps)

    defn = definition.extract(func, name, dep_overrides)
    sections = {"outs": outs, "metrics": metrics, "plots": plots}
    out_overrides: dict[str, str] = {}
    extra_outs: tuple[stage.OutBinding, ...] = ()
    returns: shell_command.Returns = ()
    if defn.outs:
        for section, decl in sections.items():
            if decl is not None:
                out_overrides.update(
                    _out_overrides(
                        func,
                        name=name,
                        base=base or name,
                        declared=defn.outs,
                        section=section,
                        decl=decl,
                    )
                )
    elif any(decl is not None for decl in sections.values()):
        extra_outs, returns = command_stage.plain_outs(name, pipe.root, sections)

    _check_params(func, defn.params_type, params)
    scratch = pipeline_mod.Pipeline(pipe.name, root=pipe.root)
    built = scratch.register(
        func,
        name=name,
        params=params,
        mutex=mutex,
        resources=resources,
        dep_path_overrides=dep_overrides,
        out_path_overrides=out_overrides,
    )
    if extra_deps or extra_outs:
        built = dataclasses.replace(
            built,
            func=PlainCall(func, _accepted(func), returns),
            deps=built.deps + extra_deps,
            outs=built.outs + extra_outs,
        )
    pipe.add(built)
    return built


def _accepted(func: Callable[..., Any]) -> tuple[str, ...] | None:
    parameters = inspect.signature(func).parameters.values()
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters):
        return None
    return tuple(p.name for p in parameters)


def _path_spec(raw: command_stage.PathSpecLike) -> specs.PathSpec:
    return raw if isinstance(raw, str) else tuple(raw)


def _listing(names: Sequence[str]) -> str:
    return ", ".join(f"'{n}'" for n in names) or "none"


def _hint(name: str, known: Sequence[str]) -> str:
    close = difflib.get_close_matches(name, known, n=1)
    return f"did you mean '{close[0]}'? " if close else ""


def _dep_overrides(
    func: Callable[..., Any], declared: Sequence[str], decl: command_stage.PathDecl
) -> dict[str, specs.PathSpec]:
    qualname = getattr(func, "__qualname__", repr(func))
    if isinstance(decl, Mapping):
        for dep_name in decl:
            if dep_name not in declared:
                raise declaration.DeclarationError(
                    f"deps names '{dep_name}' but '{qualname}' declares no such dependency; "
                    + _hint(dep_name, declared)
                    + f"declared deps: {_listing(declared)}",
                    ("deps", dep_name),
                    at_key=True,
                )
        return {dep_name: _path_spec(raw) for dep_name, raw in decl.items()}
    if len(decl) != len(declared):
        raise declaration.DeclarationError(
            f"deps lists {len(decl)} path(s) but '{qualname}' declares {len(declared)} "
            + f"dependencies ({_listing(declared)}, in this order); give one path per "
            + "dependency in that order, or a mapping {name: path}",
            ("deps",),
        )
    return {dep_name: _path_spec(raw) for dep_name, raw in zip(declared, decl, strict=True)}


def _out_overrides(
    func: Callable[..., Any],
    *,
    name: str,
    base: str,
    declared: Mapping[str | None, specs.Out],
    section: str,
    decl: command_stage.PathDecl,
) -> dict[str, str]:
    qualname = getattr(func, "__qualname__", repr(func))
    kinds = _SECTION_KINDS[section]
    candidates = [key for key, spec in declared.items() if spec.kind in kinds]
    shown = [base if key is None else key for key in candidates]
    resolved: list[tuple[str | None, Any, str | int]] = []
    if isinstance(decl, Mapping):
        for out_name, raw in decl.items():
            resolved.append((_out_key(qualname, base, declared, section, out_name), raw, out_name))
    elif len(decl) != len(candidates):
        raise declaration.DeclarationError(
            f"{section} lists {len(decl)} path(s) but '{qualname}' declares "
            + f"{len(candidates)} such output(s) ({_listing(shown)}, in this order); give one "
            + "path per output in that order, or a mapping {name: path}",
            (section,),
        )
    else:
        resolved = [
            (key, raw, i) for i, (key, raw) in enumerate(zip(candidates, decl, strict=True))
        ]
    overrides: dict[str, str] = {}
    for key, raw, where in resolved:
        if not isinstance(raw, str):
            raise declaration.DeclarationError(
                f"output '{base if key is None else key}' takes one path, not a list",
                (section, where),
            )
        overrides[name if key is None else key] = raw
    return overrides


def _out_key(
    qualname: str,
    base: str,
    declared: Mapping[str | None, specs.Out],
    section: str,
    out_name: str,
) -> str | None:
    kinds = _SECTION_KINDS[section]
    key: str | None = None if out_name == base and None in declared else out_name
    spec = declared.get(key)
    if spec is None:
        known = [base if k is None else k for k in declared]
        raise declaration.DeclarationError(
            f"{section} names '{out_name}' but '{qualname}' declares no such output; "
            + _hint(out_name, known)
            + f"declared outputs: {_listing(known)}",
            (section, out_name),
            at_key=True,
        )
    if spec.kind not in kinds:
        right = next(s for s, ks in _SECTION_KINDS.items() if spec.kind in ks)
        raise declaration.DeclarationError(
            f"output '{out_name}' of '{qualname}' is declared as {type(spec).__name__}; "
            + f"list it under '{right}:'",
            (section, out_name),
            at_key=True,
        )
    return key


def _check_params(
    func: Callable[..., Any],
    params_type: type[params_mod.StageParams] | None,
    given: pipeline_mod.ParamsArg,
) -> None:
    if given is None:
        return
    qualname = getattr(func, "__qualname__", repr(func))
    if params_type is None:
        raise declaration.DeclarationError(
            f"params were given but '{qualname}' takes no StageParams argument; add an "
            + "argument annotated with a StageParams subclass",
            ("params",),
        )
    if not isinstance(given, Mapping):
        return
    try:
        params_type.model_validate(dict(given))  # pyright: ignore[reportUnknownArgumentType]
    except pydantic.ValidationError as exc:
        first = exc.errors()[0]
        raise declaration.DeclarationError(
            params_problem(exc, params_type),
            ("params", *first["loc"]),
            at_key=first["type"] == "extra_forbidden",
        ) from None


def params_problem(exc: pydantic.ValidationError, params_type: type[pydantic.BaseModel]) -> str:
    """One sentence naming the first invalid field of `params_type` and what is wrong."""
    error = exc.errors()[0]
    field = ".".join(str(p) for p in error["loc"])
    model = params_type.__name__
    if error["type"] == "extra_forbidden":
        fields = list(params_type.model_fields)
        return (
            f"'{field}' is not a parameter of {model}; {_hint(field, fields)}"
            + f"parameters: {_listing(fields)}"
        )
    return f"invalid value for param '{field}' of {model}: {error['msg']}"
