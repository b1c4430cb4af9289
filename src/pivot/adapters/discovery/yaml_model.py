from typing import Any

import pydantic

PathSpec = str | list[str]
PathDecl = list[PathSpec] | dict[str, PathSpec]
Scalar = str | int | float | bool

_DEPS = (
    "Inputs. For a python: stage, a mapping {argument: path} overriding annotated Dep paths, "
    + "or a list of paths in argument order; a function without Dep annotations (and a cmd: "
    + "stage) tracks the listed paths and reads them itself."
)
_OUTS = (
    "Cached outputs. For a python: stage, a mapping {output: path} overriding annotated Out "
    + "paths, or a list in declaration order; for a cmd: stage, the paths the command writes."
)
_METRICS = "Metric outputs (hashed, not cached, committed to git); same forms as outs."
_PLOTS = "Plot data outputs; same forms as outs."
_PARAMS = (
    "Parameter values: overrides of the function's StageParams fields, or for a cmd: stage "
    + "the params themselves (referenced as ${params.name}); params.yaml overrides these."
)
_MUTEX = "Mutex groups: stages sharing a group never run at the same time."
_TRACKED = (
    " For a cmd: stage, a list tracks keys of params files as DVC does: [lr, train.epochs] "
    + "(keys of params.yaml), [{other.yaml: [a, b]}] or [{other.yaml: }] (the whole file); "
    + "the stage re-runs only when one of its listed keys changes, and ${lr} / ${params.lr} "
    + "in the command insert the value."
)
_RESOURCES = (
    "What a worker must offer to run the stage, e.g. {GPU: 1, memory: 8GiB} (sizes in bytes); "
    + "honoured by the Dask executor (dask worker --resources 'GPU=1')."
)


class _Strict(pydantic.BaseModel):
    model_config = pydantic.ConfigDict(extra="forbid")


class OutOptions(_Strict):
    """Options of one output of a cmd: stage: `outs: [{path: {cache: false}}]`."""

    cache: bool | None = pydantic.Field(None, description="false: hashed and recorded, not cached")
    persist: bool | None = pydantic.Field(
        None, description="true: the previous version stays in place when the stage runs"
    )
    x: str | None = pydantic.Field(None, description="Plots: the x-axis field.")
    y: str | None = pydantic.Field(None, description="Plots: the y-axis field.")
    template: str | None = pydantic.Field(None, description="Plots: the chart template.")
    title: str | None = pydantic.Field(None, description="Plots: the chart title.")


OutEntry = str | list[str] | dict[str, OutOptions | None]
OutDecl = list[OutEntry] | dict[str, PathSpec]
TrackedParam = str | dict[str, list[str] | None]


class VariantOverrides(_Strict):
    """What one value of a mapping-form matrix dimension adds to the stage."""

    deps: PathDecl | None = pydantic.Field(None, description=_DEPS)
    outs: OutDecl | None = pydantic.Field(None, description=_OUTS)
    metrics: OutDecl | None = pydantic.Field(None, description=_METRICS)
    plots: OutDecl | None = pydantic.Field(None, description=_PLOTS)
    params: dict[str, Any] | list[TrackedParam] | None = pydantic.Field(
        None, description=_PARAMS + _TRACKED
    )
    mutex: list[str] | None = pydantic.Field(None, description=_MUTEX)
    resources: dict[str, float | str] | None = pydantic.Field(None, description=_RESOURCES)


MatrixDimension = list[Scalar] | dict[str, VariantOverrides | None] | str


class StageConfig(_Strict):
    """One stage: exactly one of python: or cmd:, plus its declarations."""

    python: str | None = pydantic.Field(
        None, description="The stage function: 'module:function' or 'module.function'."
    )
    cmd: str | list[str] | None = pydantic.Field(
        None,
        description="A shell command run in the pipeline directory (a list runs in order, "
        + "stopping at the first failure); ${params.name} inserts a param value.",
    )
    deps: PathDecl | None = pydantic.Field(None, description=_DEPS)
    outs: OutDecl | None = pydantic.Field(None, description=_OUTS)
    metrics: OutDecl | None = pydantic.Field(None, description=_METRICS)
    plots: OutDecl | None = pydantic.Field(None, description=_PLOTS)
    params: dict[str, Any] | list[TrackedParam] | None = pydantic.Field(
        None, description=_PARAMS + _TRACKED
    )
    mutex: list[str] | None = pydantic.Field(None, description=_MUTEX)
    resources: dict[str, float | str] | None = pydantic.Field(None, description=_RESOURCES)
    matrix: dict[str, MatrixDimension] | None = pydantic.Field(
        None,
        description="Fan the stage out over the cross product of dimensions: each a list of "
        + "values, a mapping {value: overrides}, or one ${var} naming either; variants are "
        + "named stage@v1_v2 and ${dimension} is filled in everywhere.",
    )
    name: str | None = pydantic.Field(
        None,
        description="With matrix: template of the variant part of the name, e.g. "
        + "'${model}-${dataset}' gives train@bert-swe.",
    )
    desc: str | None = pydantic.Field(None, description="A description (documentation only).")
    meta: Any = pydantic.Field(None, description="Free-form metadata (documentation only).")

    @pydantic.model_validator(mode="after")
    def _one_kind(self) -> "StageConfig":
        if (self.python is None) == (self.cmd is None):
            raise ValueError(
                "give exactly one of 'python:' (a function) or 'cmd:' (a shell command)"
            )
        if self.name is not None and self.matrix is None:
            raise ValueError("'name:' is a template for matrix variants; it needs 'matrix:'")
        return self


class PipelineConfig(_Strict):
    """A pivot.yaml file."""

    model_config = pydantic.ConfigDict(title="pivot.yaml")

    pipeline: str | None = pydantic.Field(
        None, description="The pipeline's name; defaults to the directory name."
    )
    vars: list[str | dict[str, Any]] | None = pydantic.Field(
        None,
        description="Values for ${name} interpolation: YAML files inside the pipeline "
        + "directory, or inline mappings; later entries win.",
    )
    stages: dict[str, StageConfig] = pydantic.Field(description="Stage name → stage.")


def json_schema() -> dict[str, Any]:
    """The JSON Schema of pivot.yaml (what `pivot schema` prints)."""
    return PipelineConfig.model_json_schema()
