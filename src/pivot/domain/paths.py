import os
import pathlib

from pivot.domain import errors


def normalize(path: str | os.PathLike[str], base: pathlib.Path) -> pathlib.Path:
    """Absolute, lexically normalised path (symlinks are kept, `..` folded)."""
    return pathlib.Path(os.path.normpath(base / path))


def is_within(path: pathlib.Path, root: pathlib.Path) -> bool:
    return path == root or root in path.parents


def relative(path: pathlib.Path, base: pathlib.Path) -> str:
    """POSIX path of `path` relative to `base` (may climb with `..`)."""
    text, prefix = str(path), str(base)
    # The common case (inside `base`) by string slicing: this runs for every dep and output
    # of every stage on each `status`.
    if os.sep == "/" and text.startswith(prefix) and text[len(prefix) : len(prefix) + 1] == "/":
        return text[len(prefix) + 1 :]
    return pathlib.PurePath(os.path.relpath(path, base)).as_posix()


def check_output_path(raw: str, stage: str, root: pathlib.Path) -> pathlib.Path:
    """Resolve an output path against the pipeline root; reject paths that escape it."""
    if not raw:
        raise errors.StageDefinitionError(f"stage '{stage}': an output path is empty")
    if pathlib.PurePath(raw).is_absolute():
        raise errors.StageDefinitionError(
            f"stage '{stage}': output '{raw}' is an absolute path; outputs must be relative "
            + "to the pipeline root"
        )
    resolved = normalize(raw, root)
    if not is_within(resolved, root) or resolved == root:
        raise errors.StageDefinitionError(
            f"stage '{stage}': output '{raw}' lies outside the pipeline root '{root}'; "
            + "outputs must stay inside the pipeline directory"
        )
    return resolved
