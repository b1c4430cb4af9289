import pathlib


def default_output_path(
    root: pathlib.Path, pipeline: str, stage: str, key: str | None, extension: str
) -> pathlib.Path:
    """Where an output declared without a path lives: `data/{pipeline}/{stage}[/{key}].{ext}`."""
    suffix = f".{extension.lstrip('.')}" if extension else ""
    if key is None:
        return root / "data" / pipeline / f"{stage}{suffix}"
    return root / "data" / pipeline / stage / f"{key}{suffix}"
