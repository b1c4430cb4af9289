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
    """Resolve an output path against the pipeline root.

    An output may climb out of its pipeline (`../shared/data.txt`): the project boundary is
    checked once the project root is known (`check_inside_project`).
    """
    if not raw:
        raise errors.StageDefinitionError(f"stage '{stage}': an output path is empty")
    if pathlib.PurePath(raw).is_absolute():
        raise errors.StageDefinitionError(
            f"stage '{stage}': output '{raw}' is an absolute path; outputs must be relative "
            + "to the pipeline root"
        )
    resolved = normalize(raw, root)
    if resolved == root or is_within(root, resolved):
        raise errors.StageDefinitionError(
            f"stage '{stage}': output '{raw}' is the pipeline directory or one of its parents; "
            + "name a file or directory instead"
        )
    return resolved


def check_inside_project(
    stage: str, raw: str, path: pathlib.Path, project_root: pathlib.Path
) -> None:
    """Reject an output outside the project (the directory holding `.pivot/`), or inside
    git's or Pivot's own directories (a run deletes an output before writing it)."""
    if is_within(path, project_root) and path != project_root:
        owned = reserved_part(path.relative_to(project_root))
        if owned is None:
            return
        raise errors.StageDefinitionError(
            f"stage '{stage}': output '{raw}' is inside '{owned}', "
            + ("git's repository" if owned == ".git" else "Pivot's own directory")
            + ", which a run would overwrite; choose a path outside it"
        )
    raise errors.StageDefinitionError(
        f"stage '{stage}': output '{raw}' lies outside the project '{project_root}'; "
        + "outputs must stay inside the project (the directory holding .pivot/)"
    )


RESERVED = frozenset({".git", ".pivot"})
"""Directories no output or tracked path may be (or be inside): git's and Pivot's own."""


def reserved_part(relative: pathlib.PurePath) -> str | None:
    """The reserved directory (`.git`, `.pivot`) that a project-relative path is or is in."""
    return next((part for part in relative.parts if part in RESERVED), None)
