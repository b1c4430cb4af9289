import inspect
import io
import os
import pathlib
import re
from collections.abc import Sequence
from typing import Any

from pivot.adapters import fs
from pivot.adapters.discovery import shell_command, yaml_document
from pivot.domain import errors, pipeline, specs, stage

HEADER = "# Written by `pivot export`; Python stages run through `python -m pivot exec STAGE`."
_DVC_NAME = re.compile(r"[^\w-]")


def dvc_name(name: str) -> str:
    """A DVC stage name for a Pivot stage (DVC reserves '@' for foreach; no '/' or '.')."""
    return _DVC_NAME.sub("_", name)


def _relative(path: pathlib.Path, root: pathlib.Path) -> str:
    return pathlib.PurePath(os.path.relpath(path, root)).as_posix()


def stage_entry(st: stage.Stage, root: pathlib.Path) -> dict[str, Any]:
    """The dvc.yaml entry of one stage."""
    func = st.func
    deps = [_relative(p, root) for p in st.dep_paths()]
    if isinstance(func, shell_command.ShellCommand):
        cmd = func.command
    else:
        cmd = f"python -m pivot exec {st.name}"
        # DVC re-runs a stage when a dependency changes: the code and the pipeline definition.
        for source in _code_files(st, root):
            if source not in deps:
                deps.append(source)
    entry: dict[str, Any] = {"cmd": cmd}
    if deps:
        entry["deps"] = deps
    if st.params is not None and (root / "params.yaml").is_file():
        entry["params"] = [{"params.yaml": None}]
    for section, outs in _outputs(st, root).items():
        if outs:
            entry[section] = outs
    return entry


def _code_files(st: stage.Stage, root: pathlib.Path) -> list[str]:
    files: list[str] = []
    try:
        source = inspect.getsourcefile(st.func)
    except TypeError:
        source = None
    for candidate in (
        source,
        *(str(st.root / n) for n in ("pipeline.py", "pivot.yaml", "pivot.yml")),
    ):
        if candidate is None or not pathlib.Path(candidate).is_file():
            continue
        path = pathlib.Path(candidate).resolve()
        if path.is_relative_to(root.resolve()):
            rel = _relative(path, root.resolve())
            if rel not in files:
                files.append(rel)
    return files


def _outputs(st: stage.Stage, root: pathlib.Path) -> dict[str, list[Any]]:
    sections: dict[str, list[Any]] = {"outs": [], "metrics": [], "plots": []}
    for out in st.outs:
        path = _relative(out.path, root)
        options: dict[str, Any] = {}
        section = "outs"
        match out.kind:
            case specs.OutKind.METRIC:
                section = "metrics"
            case specs.OutKind.PLOT:
                section = "plots"
                plot = out.spec
                assert isinstance(plot, specs.Plot)
                for key in ("x", "y", "template", "title"):
                    if getattr(plot, key) is not None:
                        options[key] = getattr(plot, key)
            case specs.OutKind.INCREMENTAL:
                options["persist"] = True
            case _:
                pass
        if not out.cached:
            options["cache"] = False
        sections[section].append({path: options} if options else path)
    return sections


def render(entries: dict[str, dict[str, Any]]) -> str:
    from ruamel.yaml import YAML

    yaml = YAML(typ="rt")
    yaml.default_flow_style = False
    yaml.width = 100
    yaml.indent(mapping=2, sequence=4, offset=2)
    body = io.StringIO()
    yaml.dump({"stages": entries}, body)
    return HEADER + "\n" + body.getvalue()


def export(
    pipe: pipeline.Pipeline,
    names: Sequence[str],
    target: pathlib.Path,
    *,
    force: bool = False,
) -> str:
    """Write `target` (dvc.yaml) for the named stages, in pipeline order; returns its text."""
    if target.exists() and not force:
        raise errors.PivotError(
            f"'{yaml_document.display(target)}' already exists; pass --force to replace it"
        )
    root = target.parent
    entries: dict[str, dict[str, Any]] = {}
    for name in names:
        st = pipe.stages[name]
        key = dvc_name(name)
        if key in entries:
            raise errors.PivotError(
                f"stages '{name}' and another both become '{key}' in dvc.yaml; rename one"
            )
        entries[key] = stage_entry(st, root)
    text = render(entries)
    fs.atomic_write_bytes(target, text.encode())
    return text
