import dataclasses
from typing import Any

import pydantic

from pivot.adapters.discovery import (
    command_stage,
    function_stage,
    matrix,
    shell_command,
    yaml_document,
)
from pivot.domain import pipeline as pipeline_mod
from pivot.domain import stage as stage_mod

FILE_NAME = "params.yaml"


def apply(pipe: pipeline_mod.Pipeline) -> pipeline_mod.Pipeline:
    """`pipe` with the pipeline root's params.yaml applied: `stage:` then `stage@variant:`.

    params.yaml is shared with other tools (DVC, scripts reading it): sections that name no
    stage are left alone.

    Precedence: StageParams defaults < registration/pivot.yaml params < params.yaml.
    Returns `pipe` itself when nothing changes.
    """
    path = pipe.root / FILE_NAME
    if not path.is_file():
        return pipe
    doc = yaml_document.read(path)
    if doc.data is None:
        return pipe
    if not isinstance(doc.data, dict):
        raise doc.error((), "params.yaml must map stage names to params, e.g. train: {lr: 0.1}")
    sections: dict[str, Any] = doc.data  # pyright: ignore[reportUnknownVariableType]
    local = [st for st in pipe.stages.values() if st.root == pipe.root]
    if any(isinstance(st.params, command_stage.TrackedParams) for st in local):
        # A DVC-style params file: stages list its keys; only StageParams stages named by a
        # section take that section as overrides.
        local = [st for st in local if _overridable(st)]
    else:
        _check_sections(doc, sections, [st.name for st in local])

    replaced: dict[str, stage_mod.Stage] = {}
    for st in local:
        keys = [k for k in dict.fromkeys((matrix.base_name(st.name), st.name)) if k in sections]
        if not keys:
            continue
        updated = _apply_to(doc, st, keys, sections)
        if updated is not st:
            replaced[st.name] = updated
    if not replaced:
        return pipe
    result = pipeline_mod.Pipeline(pipe.name, root=pipe.root)
    for st in pipe.stages.values():
        result.add(replaced.get(st.name, st))
    return result


def _overridable(st: stage_mod.Stage) -> bool:
    return st.params is not None and not isinstance(st.params, command_stage.TrackedParams)


def _check_sections(
    doc: yaml_document.Document, sections: dict[str, Any], names: list[str]
) -> None:
    """A section named after a stage must be a mapping; other sections belong to other tools."""
    known = {*names, *(matrix.base_name(n) for n in names)}
    for key, value in sections.items():
        if key in known and not isinstance(value, dict):
            raise doc.error((key,), f"params of '{key}' must be a mapping of param names to values")


def _apply_to(
    doc: yaml_document.Document,
    st: stage_mod.Stage,
    keys: list[str],
    sections: dict[str, Any],
) -> stage_mod.Stage:
    if st.params is None:
        raise doc.error(
            (keys[-1],),
            f"stage '{st.name}' takes no params; remove '{keys[-1]}' from params.yaml or give "
            + "the stage a StageParams argument",
            at_key=True,
        )
    params_type = type(st.params)
    merged = st.params.model_dump()
    for key in keys:
        merged = matrix.deep_merge(merged, sections[key])
    try:
        updated = params_type.model_validate(merged)
    except pydantic.ValidationError as exc:
        first = exc.errors()[0]
        loc = first["loc"]
        key = next((k for k in reversed(keys) if _contains(sections[k], loc)), keys[-1])
        raise doc.error(
            (key, *loc),
            f"stage '{st.name}': {function_stage.params_problem(exc, params_type)}",
            at_key=first["type"] == "extra_forbidden",
        ) from None
    if updated == st.params:
        return st
    func = st.func
    if isinstance(func, shell_command.ShellCommand):
        func = func.with_params(updated.model_dump(mode="json"))
    return dataclasses.replace(st, params=updated, func=func)


def _contains(section: Any, loc: tuple[int | str, ...]) -> bool:
    node = section
    for step in loc:
        if not isinstance(node, dict) or step not in node:
            return False
        node = node[step]  # pyright: ignore[reportUnknownVariableType]
    return True


def effective(pipe: pipeline_mod.Pipeline) -> dict[str, dict[str, Any]]:
    """Stage name → effective params as JSON values (what `pivot params show` prints)."""
    return {name: st.params_dict() for name, st in pipe.stages.items() if st.params is not None}
