import dataclasses
import io
import pathlib
from typing import Any

from pivot.adapters import fs
from pivot.adapters.discovery import yaml_document
from pivot.adapters.dvc import convert
from pivot.domain import errors

HEADER = "# Converted from {source} by `pivot import-dvc`."


@dataclasses.dataclass(frozen=True, slots=True)
class Imported:
    """What `pivot import-dvc` produced (or, with --dry-run, would produce)."""

    source: pathlib.Path
    target: pathlib.Path
    text: str
    stages: list[str]
    notes: list[convert.Note]
    conversion: convert.Conversion


def render(conversion: convert.Conversion, source: str) -> str:
    """pivot.yaml text: a header, what was not carried over (as comments), the pipeline."""
    from ruamel.yaml import YAML

    yaml = YAML(typ="rt")
    yaml.default_flow_style = False
    yaml.width = 100
    yaml.indent(mapping=2, sequence=4, offset=2)
    body = io.StringIO()
    yaml.dump(_plain(conversion.pivot_yaml), body)
    lines = [HEADER.format(source=source)]
    if conversion.notes:
        lines.append("# Not carried over (see the migration report):")
        lines.extend(f"#   {note}" for note in conversion.notes)
    return "\n".join(lines) + "\n" + body.getvalue()


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}  # pyright: ignore[reportUnknownVariableType]
    if isinstance(value, list):
        return [_plain(v) for v in value]  # pyright: ignore[reportUnknownVariableType]
    return value


def _check(target: pathlib.Path) -> None:
    """Load the written pipeline, so a conversion Pivot cannot run is never left behind."""
    from pivot.adapters.discovery import composite_source, yaml_source

    if target.name in yaml_source.FILE_NAMES:
        composite_source.default().load(target.parent)


def import_pipeline(
    source: pathlib.Path, target: pathlib.Path, *, dry_run: bool = False, force: bool = False
) -> Imported:
    """Convert `source` (dvc.yaml) into `target` (pivot.yaml); nothing is written on error."""
    if not source.is_file():
        raise errors.PivotError(
            f"no DVC pipeline at '{yaml_document.display(source)}'; give its path with -i"
        )
    if target.exists() and not force and not dry_run:
        raise errors.PivotError(
            f"'{yaml_document.display(target)}' already exists; pass --force to replace it"
        )
    conversion = convert.convert(source)
    text = render(conversion, yaml_document.display(source))
    if not dry_run:
        previous = target.read_bytes() if target.exists() else None
        fs.atomic_write_bytes(target, text.encode())
        try:
            _check(target)
        except errors.PivotError:
            if previous is None:
                target.unlink()
            else:
                fs.atomic_write_bytes(target, previous)
            raise
    return Imported(
        source=source,
        target=target,
        text=text,
        stages=[st.name for st in conversion.stages],
        notes=conversion.notes,
        conversion=conversion,
    )
