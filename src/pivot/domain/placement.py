import pathlib

from pivot.domain import specs


def default_output_path(
    root: pathlib.Path, pipeline: str, stage: str, key: str | None, spec: specs.Out
) -> pathlib.Path:
    """Where an output declared without a path lives: `data/{pipeline}/{stage}[/{key}].{ext}`.

    The extension is the loader's; a directory output gets none.
    """
    extension = "" if spec.kind is specs.OutKind.DIRECTORY else spec.loader.extension
    suffix = f".{extension.lstrip('.')}" if extension else ""
    if key is None:
        return root / "data" / pipeline / f"{stage}{suffix}"
    return root / "data" / pipeline / stage / f"{key}{suffix}"
