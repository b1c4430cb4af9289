import dataclasses
import difflib
import inspect
import pathlib
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any

from pivot.domain import definition, errors, paths, placement, specs, stage
from pivot.domain import resources as resources_mod

if TYPE_CHECKING:
    from pivot.domain import params as params_mod

ParamsArg = Any
"""A StageParams instance, or a mapping of field overrides for the stage's StageParams."""


def _caller_root() -> pathlib.Path:
    frame = inspect.currentframe()
    # Two frames up: _caller_root ← Pipeline.__init__ ← the user's module.
    caller = frame.f_back.f_back if frame and frame.f_back else None
    caller_file = caller.f_globals.get("__file__") if caller else None
    if caller_file is None:
        return pathlib.Path.cwd()
    return pathlib.Path(caller_file).resolve().parent


def check_stage_function(func: Callable[..., Any], name: str) -> None:
    """Reject functions that worker processes cannot load."""
    if not callable(func):
        raise errors.StageDefinitionError(f"stage '{name}': {func!r} is not a function")
    qualname = getattr(func, "__qualname__", "")
    if getattr(func, "__name__", "") == "<lambda>":
        raise errors.StageDefinitionError(
            f"stage '{name}': a lambda cannot be a stage; define a named function at module "
            + "level so worker processes can load it and Pivot can fingerprint its code"
        )
    if "<locals>" in qualname:
        raise errors.StageDefinitionError(
            f"stage '{name}': '{qualname}' is defined inside another function (a closure); "
            + "define stage functions at module level so worker processes can load them"
        )
    if getattr(func, "__module__", None) == "__main__":
        raise errors.StageDefinitionError(
            f"stage '{name}': '{qualname}' is defined in __main__, which worker processes "
            + "cannot import; move it into pipeline.py or a module beside it"
        )


def check_stage_name(name: str) -> None:
    if not name or name != name.strip() or ":" in name or any(c.isspace() for c in name):
        raise errors.StageDefinitionError(
            f"invalid stage name {name!r}: use letters, digits, '_', '-', '/', '@' or '.' "
            + "(no ':' or whitespace)"
        )


def effective_params(
    name: str, params_type: "type[params_mod.StageParams] | None", given: ParamsArg
) -> "params_mod.StageParams | None":
    if params_type is None:
        if given is not None:
            raise errors.StageDefinitionError(
                f"stage '{name}': params were given but the function takes no StageParams "
                + "argument"
            )
        return None
    if isinstance(given, params_type):
        return given
    import pydantic  # a StageParams class exists, so pydantic is loaded already

    overrides = given.model_dump() if isinstance(given, pydantic.BaseModel) else dict(given or {})
    try:
        return params_type(**overrides)
    except pydantic.ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or '(params)'}: {e['msg']}" for e in exc.errors()
        )
        raise errors.StageDefinitionError(
            f"stage '{name}': invalid params for {params_type.__name__}: {problems}"
        ) from None


class Pipeline:
    """A named set of stages rooted at a directory, with its own lock files."""

    def __init__(self, name: str | None = None, *, root: pathlib.Path | str | None = None) -> None:
        self._root = pathlib.Path(root).resolve() if root is not None else _caller_root()
        self._name = name or self._root.name
        self._stages: dict[str, stage.Stage] = {}

    @property
    def name(self) -> str:
        return self._name

    @property
    def root(self) -> pathlib.Path:
        return self._root

    @property
    def state_dir(self) -> pathlib.Path:
        return self._root / ".pivot"

    @property
    def stages(self) -> Mapping[str, stage.Stage]:
        return self._stages

    def list_stages(self) -> list[str]:
        return list(self._stages)

    def get(self, name: str) -> stage.Stage:
        try:
            return self._stages[name]
        except KeyError:
            raise errors.StageNotFoundError(unknown_stage_message(name, self._stages)) from None

    def add(self, registered: stage.Stage) -> None:
        """Add an already-built stage (used by discovery adapters and `include`)."""
        if registered.name in self._stages:
            raise errors.StageDefinitionError(
                f"stage '{registered.name}' is registered twice in pipeline '{self._name}'"
            )
        self._stages[registered.name] = registered

    def include(self, other: "Pipeline") -> list[stage.Stage]:
        """Add `other`'s stages; a colliding name becomes `other.name/name`. Returns them."""
        added: list[stage.Stage] = []
        for st in other.stages.values():
            name = st.name
            if name in self._stages:
                if _same_stage(self._stages[name], st):
                    continue
                name = f"{other.name}/{st.name}"
                if name in self._stages and _same_stage(self._stages[name], st):
                    continue
                if name in self._stages:
                    raise errors.StageDefinitionError(
                        f"cannot include stage '{st.name}' of pipeline '{other.name}' into "
                        + f"'{self._name}': both '{st.name}' and '{name}' are taken; rename "
                        + "one of the stages"
                    )
            # Root, pipeline and paths stay: the stage keeps its own lock files and paths.
            included = (
                st
                if name == st.name
                else dataclasses.replace(st, name=name, home_name=st.lock_name)
            )
            self.add(included)
            added.append(included)
        return added

    def register(
        self,
        func: Callable[..., Any],
        *,
        name: str | None = None,
        params: ParamsArg = None,
        mutex: Iterable[str] | None = None,
        resources: Mapping[str, Any] | None = None,
        dep_path_overrides: Mapping[str, specs.PathSpec] | None = None,
        out_path_overrides: Mapping[str, str] | None = None,
    ) -> stage.Stage:
        """Register `func` as a stage; returns the bound stage."""
        stage_name = name or getattr(func, "__name__", "")
        check_stage_name(stage_name)
        check_stage_function(func, stage_name)
        defn = definition.extract(func, stage_name, dep_path_overrides)
        built = stage.Stage(
            name=stage_name,
            func=func,
            pipeline=self._name,
            root=self._root,
            deps=tuple(
                _bind_dep(arg, dep, self._root, stage_name) for arg, dep in defn.deps.items()
            ),
            outs=self._bind_outs(stage_name, defn.outs, dict(out_path_overrides or {})),
            params=effective_params(stage_name, defn.params_type, params),
            params_arg=defn.params_arg,
            mutex=tuple(mutex or ()),
            resources=resources_mod.parse(stage_name, resources),
            incremental_args=defn.incremental_args,
        )
        self.add(built)
        return built

    def _bind_outs(
        self,
        stage_name: str,
        outs: Mapping[str | None, specs.Out],
        overrides: dict[str, str],
    ) -> tuple[stage.OutBinding, ...]:
        bound: list[stage.OutBinding] = []
        for key, spec in outs.items():
            override_key = stage_name if key is None else key
            raw = overrides.pop(override_key, spec.path)
            if raw is None:
                path = placement.default_output_path(self._root, self._name, stage_name, key, spec)
                bound.append(stage.OutBinding(key, path, spec, placed=True))
                continue
            if not isinstance(raw, str):
                raise errors.StageDefinitionError(
                    f"stage '{stage_name}': output '{override_key}' must be one path, got {raw!r}"
                )
            path = paths.check_output_path(raw, stage_name, self._root)
            bound.append(stage.OutBinding(key, path, spec))
        if overrides:
            valid = [stage_name if k is None else k for k in outs]
            raise errors.StageDefinitionError(
                f"stage '{stage_name}': out_path_overrides names "
                + ", ".join(f"'{k}'" for k in sorted(overrides))
                + " but the stage declares no such output; declared: "
                + (", ".join(f"'{k}'" for k in valid) or "none")
            )
        return tuple(bound)


def _same_stage(existing: stage.Stage, incoming: stage.Stage) -> bool:
    """True when `existing` is `incoming`, possibly under a prefixed name (repeat includes)."""
    return existing == dataclasses.replace(
        incoming, name=existing.name, home_name=existing.home_name
    )


def _bind_dep(arg: str, dep: specs.Dep, root: pathlib.Path, stage_name: str) -> stage.DepBinding:
    raw = (dep.path,) if isinstance(dep.path, str) else tuple(dep.path)
    if not raw or any(not p for p in raw):
        raise errors.StageDefinitionError(f"stage '{stage_name}': dependency '{arg}' has no path")
    return stage.DepBinding(
        name=arg,
        paths=tuple(paths.normalize(p, root) for p in raw),
        loader=dep.loader,
        multi=not isinstance(dep.path, str),
    )


def unknown_stage_message(name: str, known: Iterable[str]) -> str:
    known = list(known)
    close = difflib.get_close_matches(name, known, n=1)
    hint = f"; did you mean '{close[0]}'?" if close else ""
    listing = "" if close else f"; stages: {', '.join(sorted(known)) or 'none'}"
    return f"unknown stage '{name}'{hint}{listing}"
