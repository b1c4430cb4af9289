import difflib
import pathlib
import shlex
from collections.abc import Callable, Mapping
from typing import Any

import pydantic

from pivot.adapters.discovery import (
    command_stage,
    declaration,
    function_stage,
    importing,
    interpolation,
    matrix,
    tracked_params,
    yaml_document,
    yaml_model,
)
from pivot.domain import errors, paths
from pivot.domain import pipeline as pipeline_mod

FILE_NAMES = ("pivot.yaml", "pivot.yml")
_DIMENSION = pydantic.TypeAdapter(yaml_model.MatrixDimension)


class YamlPipelineSource:
    """Loads `pivot.yaml` (or `pivot.yml`): python: and cmd: stages, matrix, vars."""

    def find(self, directory: pathlib.Path) -> pathlib.Path | None:
        return next((p for n in FILE_NAMES if (p := directory / n).is_file()), None)

    def load(self, directory: pathlib.Path) -> pipeline_mod.Pipeline:
        path = self.find(directory)
        if path is None:
            raise errors.PipelineDefinitionError(f"no pivot.yaml or pivot.yml in '{directory}'")
        return _Loader(yaml_document.read(path)).load()


class _Loader:
    def __init__(self, doc: yaml_document.Document) -> None:
        self._doc = doc
        self._directory = doc.path.parent.resolve()
        self._functions: dict[str, Callable[..., Any]] = {}
        self._params_files = tracked_params.ParamsFiles(self._directory)
        self._origins: dict[str, yaml_document.Document] = {}
        """Top-level variable name → the vars file that defined it last."""

    def load(self) -> pipeline_mod.Pipeline:
        config = self._validate()
        variables = self._variables(config.vars or [])
        pipe = pipeline_mod.Pipeline(config.pipeline or self._directory.name, root=self._directory)
        for base, stage_config in config.stages.items():
            self._add(pipe, base, stage_config, variables)
        return pipe

    def _validate(self) -> yaml_model.PipelineConfig:
        if not isinstance(self._doc.data, dict):
            raise self._doc.error(
                (),
                "the file must be a mapping with a 'stages:' key (and optionally "
                + "'pipeline:' and 'vars:')",
            )
        try:
            return yaml_model.PipelineConfig.model_validate(self._doc.data)
        except pydantic.ValidationError as exc:
            raise self._schema_error(exc) from None

    def _schema_error(self, exc: pydantic.ValidationError) -> errors.PipelineDefinitionError:
        # Unknown keys first; then, among a union's alternatives, the one that got furthest
        # into the data is the one the user meant.
        ranked = sorted(
            (
                ({"extra_forbidden": 0, "missing": 1}.get(e["type"], 2), -len(where), i),
                e,
                where,
            )
            for i, e in enumerate(exc.errors())
            for where in [_data_path(self._doc.data, e["loc"])]
        )
        _, error, where = ranked[0]
        subject = _subject(where)
        if error["type"] == "extra_forbidden":
            key = str(error["loc"][-1])
            allowed = _allowed_keys(where[:-1])
            close = difflib.get_close_matches(key, allowed, n=1)
            hint = f"; did you mean '{close[0]}'? Allowed keys: " if close else "; allowed keys: "
            return self._doc.error(
                where,
                f"{_subject(where[:-1])}unknown key '{key}'{hint}" + ", ".join(allowed),
                at_key=True,
            )
        if error["type"] == "missing":
            return self._doc.error(
                where, f"{subject}missing required key '{error['loc'][-1]}'", at_key=True
            )
        field = _field_name(where)
        if error["type"] in {"model_type", "dict_type"}:
            what = f"'{field}'" if field else "a stage" if subject else "the value"
            return self._doc.error(
                where,
                f"{subject}{what} must be a mapping"
                + (
                    " with 'python:' or 'cmd:' and its declarations"
                    if not field and subject
                    else ""
                ),
                at_key=True,
            )
        message = error["msg"].removeprefix("Value error, ")
        expected = _expected(where)
        return self._doc.error(
            where,
            f"{subject}{f'{field}: ' if field else ''}{message}"
            + (f"; expected: {expected}" if expected else ""),
            at_key=error["type"] == "value_error",
        )

    def _variables(self, items: list[str | dict[str, Any]]) -> dict[str, Any]:
        values: dict[str, Any] = {}
        for index, item in enumerate(items):
            if isinstance(item, dict):
                values.update(item)
                continue
            target = (self._directory / item).resolve()
            if not paths.is_within(target, self._directory):
                raise self._doc.error(
                    ("vars", index),
                    f"vars file '{item}' lies outside the pipeline directory "
                    + f"'{self._directory}'; keep vars files inside the pipeline directory",
                )
            if not target.is_file():
                raise self._doc.error(
                    ("vars", index), f"vars file '{item}' does not exist in '{self._directory}'"
                )
            loaded = yaml_document.read(target)
            if not isinstance(loaded.data, dict):
                raise loaded.error((), "a vars file must be a mapping of names to values")
            values.update(loaded.data)  # pyright: ignore[reportUnknownArgumentType]
            self._origins.update(dict.fromkeys(loaded.data, loaded))  # pyright: ignore[reportUnknownArgumentType]
        return values

    def _add(
        self,
        pipe: pipeline_mod.Pipeline,
        base: str,
        config: yaml_model.StageConfig,
        variables: Mapping[str, Any],
    ) -> None:
        at = ("stages", base)
        try:
            pipeline_mod.check_stage_name(base)
        except errors.StageDefinitionError as exc:
            raise self._doc.error(at, str(exc), at_key=True) from None
        decl = config.model_dump(exclude_none=True, exclude={"matrix", "name", "desc", "meta"})
        variants = [matrix.Variant(base, {}, {})]
        if config.matrix is not None:
            if matrix.SEPARATOR in base:
                raise self._doc.error(
                    at,
                    f"stage '{base}': a matrix stage's name must not contain "
                    + f"'{matrix.SEPARATOR}'; variants are named {base}{matrix.SEPARATOR}...",
                    at_key=True,
                )
            try:
                dimensions = self._dimensions(config.matrix, variables)
                variants = matrix.expand(base, dimensions, config.name)
            except declaration.DeclarationError as exc:
                raise self._doc.error((*at, *exc.where), f"stage '{base}': {exc}") from None
        for variant in variants:
            try:
                self._build(
                    pipe,
                    base,
                    variant.name,
                    matrix.merge(decl, variant.overrides),
                    {**variables, **variant.values},
                )
            except declaration.DeclarationError as exc:
                origin = self._origin(matrix.merge(decl, variant.overrides), exc.where)
                raise self._doc.error(
                    (*at, *exc.where),
                    f"stage '{variant.name}': {exc}{origin}",
                    at_key=exc.at_key,
                ) from None
            except errors.PivotError as exc:
                raise self._doc.error(at, str(exc), at_key=True) from None

    def _origin(self, decl: Mapping[str, Any], where: declaration.Where) -> str:
        """Where a bad value came from, when it is one whole `${ref}` read from a vars file."""
        node: Any = decl
        for step in where:
            try:
                node = node[step]
            except (KeyError, IndexError, TypeError):
                return ""
        ref = interpolation.whole_reference(node) if isinstance(node, str) else None
        source = self._origins.get(ref.split(".")[0]) if ref else None
        if ref is None or source is None:
            return ""
        line, column = source.locate(tuple(ref.split(".")))
        shown = yaml_document.display(source.path)
        return f" (the value of ${{{ref}}}, from {shown}:{line}:{column})"

    def _dimensions(
        self, dims: Mapping[str, yaml_model.MatrixDimension], variables: Mapping[str, Any]
    ) -> dict[str, matrix.Dimension]:
        resolved: dict[str, matrix.Dimension] = {}
        for dim, given in dims.items():
            value: yaml_model.MatrixDimension | None = given
            if isinstance(given, str):
                try:
                    value = _DIMENSION.validate_python(interpolation.interpolate(given, variables))
                except declaration.DeclarationError as exc:
                    raise declaration.DeclarationError(str(exc), ("matrix", dim)) from None
                except pydantic.ValidationError:
                    value = None
                if value is None or isinstance(value, str):
                    raise declaration.DeclarationError(
                        f"matrix dimension '{dim}' must be a list of values or a mapping "
                        + "{value: overrides} (directly or through one ${var})",
                        ("matrix", dim),
                    )
            if isinstance(value, dict):
                resolved[dim] = {
                    key: over.model_dump(exclude_none=True) if over is not None else None
                    for key, over in value.items()
                }
            else:
                resolved[dim] = value
        return resolved

    def _build(
        self,
        pipe: pipeline_mod.Pipeline,
        base: str,
        name: str,
        decl: dict[str, Any],
        context: Mapping[str, Any],
    ) -> None:
        cmd = decl.pop("cmd", None)
        reference = decl.pop("python", None)
        filled: dict[str, Any] = interpolation.walk(decl, context)
        common: dict[str, Any] = {
            "deps": filled.get("deps"),
            "outs": filled.get("outs"),
            "metrics": filled.get("metrics"),
            "plots": filled.get("plots"),
            "params": filled.get("params"),
            "mutex": [str(m) for m in filled.get("mutex", [])],
            "resources": filled.get("resources"),
        }
        tracked = isinstance(common["params"], list)
        if cmd is not None:
            if tracked:
                common["params"] = self._params_files.values(common["params"])
                values = common["params"]
                cmd = _map_strings(cmd, lambda c: tracked_params.as_params_references(c, values))
            commands = interpolation.walk(
                cmd, context, where=("cmd",), defer={"params"}, unescape=False, quote=shlex.quote
            )
            template = " && ".join(commands) if isinstance(commands, list) else str(commands)
            command_stage.register(pipe, name=name, template=template, tracked=tracked, **common)
            return
        if tracked:
            raise declaration.DeclarationError(
                "a list of params keys (DVC style) is for cmd: stages; a python: stage takes "
                + "a mapping {field: value} of its StageParams",
                ("params",),
            )
        for section in ("outs", "metrics", "plots"):
            declared = common[section]
            if isinstance(declared, list) and any(isinstance(e, dict) for e in declared):  # pyright: ignore[reportUnknownVariableType]
                raise declaration.DeclarationError(
                    "output options ({path: {cache: false}}) are for cmd: stages; a python: "
                    + "stage declares them in its annotations (outputs.Out(..., cache=False))",
                    (section,),
                )
        func = self._function(str(interpolation.walk(reference, context, where=("python",))))
        function_stage.register(pipe, func, name=name, base=base, **common)

    def _function(self, reference: str) -> Callable[..., Any]:
        if reference not in self._functions:
            try:
                self._functions[reference] = importing.resolve_function(reference, self._directory)
            except errors.PipelineDefinitionError as exc:
                raise declaration.DeclarationError(str(exc), ("python",)) from None
        return self._functions[reference]


def _map_strings(value: Any, change: Callable[[str], str]) -> Any:
    if isinstance(value, list):
        return [change(str(v)) for v in value]  # pyright: ignore[reportUnknownVariableType]
    return change(str(value))


def _data_path(data: Any, loc: tuple[int | str, ...]) -> declaration.Where:
    # pydantic's loc mixes data keys with union-member tags; keep only steps into the data.
    where: list[str | int] = []
    node = data
    for step in loc:
        if isinstance(node, dict) and str(step) in node:
            node = node[str(step)]  # pyright: ignore[reportUnknownVariableType]
            where.append(str(step))
        elif isinstance(node, list) and isinstance(step, int) and 0 <= step < len(node):  # pyright: ignore[reportUnknownArgumentType]
            node = node[step]  # pyright: ignore[reportUnknownVariableType]
            where.append(step)
    return tuple(where)


def _in_stage(where: declaration.Where) -> bool:
    return len(where) >= 2 and where[0] == "stages"


def _subject(where: declaration.Where) -> str:
    return f"stage '{where[1]}': " if _in_stage(where) else ""


def _field_name(where: declaration.Where) -> str:
    rest = where[2:] if _in_stage(where) else where
    text = ""
    for step in rest:
        text += f"[{step}]" if isinstance(step, int) else (f".{step}" if text else step)
    return text


def _model_at(parent: declaration.Where) -> type[pydantic.BaseModel] | None:
    if not parent:
        return yaml_model.PipelineConfig
    if len(parent) == 2 and parent[0] == "stages":
        return yaml_model.StageConfig
    if len(parent) == 5 and parent[0] == "stages" and parent[2] == "matrix":
        return yaml_model.VariantOverrides
    if len(parent) == 5 and parent[0] == "stages" and parent[2] in {"outs", "metrics", "plots"}:
        return yaml_model.OutOptions
    return None


def _allowed_keys(parent: declaration.Where) -> list[str]:
    model = _model_at(parent)
    return list(model.model_fields) if model is not None else []


def _expected(where: declaration.Where) -> str:
    model: type[pydantic.BaseModel]
    if len(where) > 5 and where[2] == "matrix":
        model, field = yaml_model.VariantOverrides, where[5]
    elif _in_stage(where) and len(where) > 2:
        model, field = yaml_model.StageConfig, where[2]
    elif where:
        model, field = yaml_model.PipelineConfig, where[0]
    else:
        return ""
    info = model.model_fields.get(str(field))
    return info.description or "" if info is not None else ""
