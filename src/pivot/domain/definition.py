import dataclasses
import inspect
import sys
import typing
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Annotated, Any

from pivot.domain import errors, specs

if TYPE_CHECKING:
    from pivot.domain import params

SINGLE_OUTPUT_KEY = None


@dataclasses.dataclass(frozen=True, slots=True)
class StageDefinition:
    """Everything a stage function declares through its annotations, read in one pass."""

    deps: Mapping[str, specs.Dep]
    """Function argument name → dependency spec (placeholders already filled in)."""
    outs: Mapping[str | None, specs.Out]
    """Output key → spec; the single key `None` when the return is one `Annotated` output."""
    params_arg: str | None
    params_type: "type[params.StageParams] | None"
    incremental_args: Mapping[str, specs.IncrementalOut]
    """Arguments that receive the previous version of an IncrementalOut."""


def _resolve_hints(func: Callable[..., Any], stage_name: str) -> dict[str, Any]:
    try:
        return typing.get_type_hints(func, include_extras=True)
    except Exception as exc:
        raise errors.StageDefinitionError(
            f"stage '{stage_name}': cannot resolve the type hints of "
            + f"'{func.__qualname__}': {type(exc).__name__}: {exc}. "
            + "Make every annotation importable at module level "
            + "(define TypedDicts, StageParams and loaders at module level)."
        ) from exc


def _metadata(hint: Any) -> tuple[Any, ...]:
    if typing.get_origin(hint) is Annotated:
        return typing.get_args(hint)[1:]
    return ()


def _is_params_type(hint: Any) -> bool:
    # pydantic (behind StageParams) is costly to import: when no module has imported
    # pivot.domain.params yet, no annotation can be a StageParams subclass.
    module = sys.modules.get("pivot.domain.params")
    return module is not None and isinstance(hint, type) and issubclass(hint, module.StageParams)


def _out_spec(hint: Any) -> specs.Out | None:
    return next((m for m in _metadata(hint) if isinstance(m, specs.Out)), None)


def extract(
    func: Callable[..., Any],
    stage_name: str,
    dep_path_overrides: Mapping[str, specs.PathSpec] | None = None,
) -> StageDefinition:
    """Read deps, outputs and params from `func`'s annotations; raise when they are invalid."""
    hints = _resolve_hints(func, stage_name)
    overrides = dict(dep_path_overrides or {})
    deps: dict[str, specs.Dep] = {}
    incremental: dict[str, specs.IncrementalOut] = {}
    params_arg: str | None = None
    params_type: type[params.StageParams] | None = None
    missing_placeholders: list[str] = []

    for arg_name, parameter in inspect.signature(func).parameters.items():
        hint = hints.get(arg_name)
        if hint is None:
            if parameter.default is inspect.Parameter.empty:
                raise errors.StageDefinitionError(
                    f"stage '{stage_name}': argument '{arg_name}' has no annotation and no "
                    + "default; annotate it as a StageParams subclass or "
                    + "Annotated[T, outputs.Dep(path, loader)]"
                )
            continue
        bare = typing.get_args(hint)[0] if typing.get_origin(hint) is Annotated else hint
        if _is_params_type(bare):
            params_arg, params_type = arg_name, bare
            continue
        spec = next(
            (
                m
                for m in _metadata(hint)
                if isinstance(m, specs.Dep | specs.PlaceholderDep | specs.IncrementalOut)
            ),
            None,
        )
        match spec:
            case specs.Dep():
                path = overrides.pop(arg_name, spec.path)
                deps[arg_name] = specs.Dep(path, spec.loader)
            case specs.PlaceholderDep():
                if arg_name not in overrides:
                    missing_placeholders.append(arg_name)
                    continue
                deps[arg_name] = specs.Dep(overrides.pop(arg_name), spec.loader)
            case specs.IncrementalOut():
                incremental[arg_name] = spec
            case None if parameter.default is inspect.Parameter.empty:
                raise errors.StageDefinitionError(
                    f"stage '{stage_name}': argument '{arg_name}' is neither a dependency "
                    + "nor StageParams; annotate it as Annotated[T, outputs.Dep(path, loader)] "
                    + "or give it a default"
                )
            case _:
                pass

    if missing_placeholders:
        raise errors.StageDefinitionError(
            f"stage '{stage_name}': PlaceholderDep argument(s) "
            + ", ".join(f"'{n}'" for n in missing_placeholders)
            + " need a path: pass dep_path_overrides={"
            + ", ".join(f"'{n}': 'path'" for n in missing_placeholders)
            + "}"
        )
    if overrides:
        raise errors.StageDefinitionError(
            f"stage '{stage_name}': dep_path_overrides names "
            + ", ".join(f"'{n}'" for n in sorted(overrides))
            + f" but '{func.__qualname__}' declares no such dependency; declared: "
            + (", ".join(f"'{n}'" for n in deps) or "none")
        )

    outs = _extract_outputs(hints.get("return"), stage_name)
    _check_incremental(incremental, outs, stage_name)
    return StageDefinition(
        deps=deps,
        outs=outs,
        params_arg=params_arg,
        params_type=params_type,
        incremental_args=incremental,
    )


def _extract_outputs(return_hint: Any, stage_name: str) -> dict[str | None, specs.Out]:
    if return_hint is None or return_hint is type(None):
        return {}
    single = _out_spec(return_hint)
    if single is not None:
        return {SINGLE_OUTPUT_KEY: single}
    if typing.is_typeddict(return_hint):
        field_hints = typing.get_type_hints(return_hint, include_extras=True)
        outs: dict[str | None, specs.Out] = {}
        for key, field_hint in field_hints.items():
            spec = _out_spec(field_hint)
            if spec is None:
                raise errors.StageDefinitionError(
                    f"stage '{stage_name}': output field '{key}' of "
                    + f"'{return_hint.__qualname__}' has no output spec; annotate it as "
                    + "Annotated[T, outputs.Out(path, loader)]"
                )
            outs[key] = spec
        return outs
    return {}


def _check_incremental(
    args: Mapping[str, specs.IncrementalOut],
    outs: Mapping[str | None, specs.Out],
    stage_name: str,
) -> None:
    """Each IncrementalOut argument must name an IncrementalOut the stage returns."""
    returned = [o.path for o in outs.values() if isinstance(o, specs.IncrementalOut)]
    for arg, spec in args.items():
        if spec.path is None or spec.path not in returned:
            raise errors.StageDefinitionError(
                f"stage '{stage_name}': argument '{arg}' is an IncrementalOut({spec.path!r}) "
                + "but the return annotation declares no IncrementalOut with that path; "
                + "declare the same IncrementalOut(path, loader) on the argument and on the "
                + "return value"
            )
        if returned.count(spec.path) > 1:
            raise errors.StageDefinitionError(
                f"stage '{stage_name}': IncrementalOut path {spec.path!r} is returned twice"
            )
