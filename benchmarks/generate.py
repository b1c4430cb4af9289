import enum
import json
import os
import pathlib
import re

from benchmarks import shape as shape_mod

PIPELINE_NAME = "bench"
HELPER_RE = re.compile(r"^    return text\.strip\(\).*$", re.MULTILINE)


class Form(enum.StrEnum):
    """The equivalent ways the same synthetic pipeline is written."""

    PIVOT_PYTHON = "pivot-python"
    PIVOT_CMD = "pivot-cmd"
    DVC = "dvc"
    LOWER_BOUND = "lower-bound"


WORK_PY = '''\
import pathlib
import zlib

BURN = {burn}
"""Iterations of CPU work per stage (0 for the trivial pipeline)."""


def burn(iterations: int) -> int:
    acc = 0
    for i in range(iterations):
        acc = (acc * 31 + i) & 0xFFFFFFFF
    return acc


def body(
    name: str, inputs: list[pathlib.Path], output: pathlib.Path, extra: str = ""
) -> pathlib.Path:
    crc = 0
    for path in inputs:
        crc = zlib.crc32(path.read_bytes(), crc)
    if BURN:
        crc = zlib.crc32(str(burn(BURN)).encode(), crc)
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(f"{{name}} {{crc:08x}}{{extra}}\\n")
    return output
'''

STAGE_CMD_PY = """\
import pathlib
import sys

import work

name, *inputs, output = sys.argv[1:]
work.body(name, [pathlib.Path(p) for p in inputs], pathlib.Path(output))
"""

STAGES_HEADER = '''\
import pathlib
from typing import Annotated

from pivot import loaders, outputs

import work


def tweak(text: str) -> str:
    """The helper one stage uses; the benchmark edits its body."""
    return text.strip()
'''


def _stage_function(stage: shape_mod.StageShape) -> str:
    params = "".join(
        f'    d{i}: Annotated[pathlib.Path, outputs.Dep("{dep}", loaders.PathOnly())],\n'
        for i, dep in enumerate(stage.deps)
    )
    args = ", ".join(f"d{i}" for i in range(len(stage.deps)))
    extra = ', tweak("")' if stage.uses_helper else ""
    return (
        f"\n\ndef {stage.name}(\n{params}"
        + f') -> Annotated[pathlib.Path, outputs.Out("{stage.out}", loaders.PathOnly())]:\n'
        + f'    return work.body("{stage.name}", [{args}], pathlib.Path("{stage.out}"){extra})\n'
    )


def stages_py(project: shape_mod.ProjectShape) -> str:
    return STAGES_HEADER + "".join(_stage_function(s) for s in project.stages)


def pipeline_py(project: shape_mod.ProjectShape) -> str:
    lines = [
        "from pivot.pipeline import Pipeline",
        "",
        "import stages",
        "",
        f'pipeline = Pipeline("{PIPELINE_NAME}")',
        *(f"pipeline.register(stages.{s.name})" for s in project.stages),
    ]
    return "\n".join(lines) + "\n"


def stage_command(stage: shape_mod.StageShape) -> str:
    return " ".join(["python", "stage_cmd.py", stage.name, *stage.deps, stage.out])


def _yaml_list(items: tuple[str, ...]) -> str:
    # JSON strings are valid YAML scalars, so no YAML library is needed to write these files.
    return "[" + ", ".join(json.dumps(i) for i in items) + "]"


def cmd_stages_yaml(project: shape_mod.ProjectShape, *, header: str) -> str:
    parts = [header, "stages:\n"]
    for stage in project.stages:
        parts.append(
            f"  {stage.name}:\n"
            + f"    cmd: {stage_command(stage)}\n"
            + f"    deps: {_yaml_list(('stage_cmd.py', 'work.py', *stage.deps))}\n"
            + f"    outs: {_yaml_list((stage.out,))}\n"
        )
    return "".join(parts)


def lower_bound_py(project: shape_mod.ProjectShape) -> str:
    table = ",\n".join(f"    ({s.name!r}, {list(s.deps)!r}, {s.out!r})" for s in project.stages)
    return (
        "import pathlib\n\nimport work\n\nSTAGES = [\n"
        + table
        + ",\n]\n\nfor name, deps, out in STAGES:\n"
        + "    work.body(name, [pathlib.Path(d) for d in deps], pathlib.Path(out))\n"
    )


def write_project(
    project: shape_mod.ProjectShape, form: Form, dest: pathlib.Path, *, burn: int = 0
) -> None:
    """Write one form of the synthetic project into the empty directory `dest`."""
    dest.mkdir(parents=True, exist_ok=True)
    files = {
        shape_mod.SHARED_INPUT: "shared input\n" * 64,
        shape_mod.LEAF_INPUT: "leaf input 0\n",
        "work.py": WORK_PY.format(burn=burn),
    }
    match form:
        case Form.PIVOT_PYTHON:
            files["stages.py"] = stages_py(project)
            files["pipeline.py"] = pipeline_py(project)
        case Form.PIVOT_CMD:
            files["stage_cmd.py"] = STAGE_CMD_PY
            files["pivot.yaml"] = cmd_stages_yaml(project, header=f"pipeline: {PIPELINE_NAME}\n")
        case Form.DVC:
            files["stage_cmd.py"] = STAGE_CMD_PY
            files["dvc.yaml"] = cmd_stages_yaml(project, header="")
        case Form.LOWER_BOUND:
            files["lower_bound.py"] = lower_bound_py(project)
    for rel, text in files.items():
        path = dest / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


def _rewrite(path: pathlib.Path, text: str) -> None:
    # Push mtime forward by a whole second: Python's .pyc check and the tools' stat memos
    # both key on mtime, and edits can land within one timestamp tick.
    before = path.stat().st_mtime_ns
    path.write_text(text)
    after = path.stat()
    os.utime(path, ns=(after.st_atime_ns, max(after.st_mtime_ns, before + 1_000_000_000)))


def change_leaf_input(root: pathlib.Path, version: int) -> None:
    """Give the leaf input new content (unique per version, so no run cache can hit)."""
    _rewrite(root / shape_mod.LEAF_INPUT, f"leaf input {version}\n")


def edit_helper(root: pathlib.Path, version: int) -> None:
    """Change the body of the helper function one stage calls."""
    path = root / "stages.py"
    text = path.read_text()
    new_line = f'    return text.strip() + "{version}"'
    edited, count = HELPER_RE.subn(new_line, text, count=1)
    if count != 1:
        raise ValueError(f"{path}: helper function 'tweak' not found")
    _rewrite(path, edited)
