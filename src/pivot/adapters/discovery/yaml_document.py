import dataclasses
import os
import pathlib
from typing import Any

from pivot.adapters.discovery import declaration
from pivot.domain import errors


def display(path: pathlib.Path) -> str:
    """The path as a user would type it: relative to the working directory when inside it."""
    try:
        return os.path.relpath(path) if path.is_relative_to(pathlib.Path.cwd()) else str(path)
    except (OSError, ValueError):
        return str(path)


def to_plain(node: Any) -> Any:
    """Plain dicts (string keys), lists, str, int, float and bool from ruamel's node types."""
    if isinstance(node, dict):
        return {str(k): to_plain(v) for k, v in node.items()}  # pyright: ignore[reportUnknownVariableType]
    if isinstance(node, list):
        return [to_plain(v) for v in node]  # pyright: ignore[reportUnknownVariableType]
    if isinstance(node, bool) or node is None:
        return node
    for plain in (str, int, float):
        if isinstance(node, plain):
            return plain(node)
    return node


@dataclasses.dataclass(frozen=True, slots=True)
class Document:
    """A YAML file read with positions: `tree` keeps line/column, `data` is plain Python."""

    path: pathlib.Path
    tree: Any
    data: Any

    def locate(self, where: declaration.Where, *, at_key: bool = False) -> tuple[int, int]:
        """1-based line and column of the deepest node of `where` present in the file."""
        node, position = self.tree, (0, 0)
        for step in where:
            if isinstance(node, dict):
                key = next((k for k in node if str(k) == str(step)), None)  # pyright: ignore[reportUnknownVariableType]
                if key is None:
                    break
                child: Any = node[key]
                container = isinstance(child, dict | list)
                lc: Any = getattr(node, "lc", None)
                if lc is not None:
                    position = lc.key(key) if at_key or container else lc.value(key)
                node = child
            elif isinstance(node, list) and isinstance(step, int) and 0 <= step < len(node):  # pyright: ignore[reportUnknownArgumentType]
                lc = getattr(node, "lc", None)
                if lc is not None:
                    position = lc.item(step)
                node = node[step]
            else:
                break
        return position[0] + 1, position[1] + 1

    def error(
        self, where: declaration.Where, message: str, *, at_key: bool = False
    ) -> errors.PipelineDefinitionError:
        line, column = self.locate(where, at_key=at_key)
        return errors.PipelineDefinitionError(f"{display(self.path)}:{line}:{column}: {message}")


def read(path: pathlib.Path) -> Document:
    """Parse a YAML file people edit (round-trip, for positions); one clear error if broken."""
    from ruamel.yaml import YAML
    from ruamel.yaml.error import MarkedYAMLError, YAMLError

    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise errors.PipelineDefinitionError(f"{display(path)}: cannot read: {exc}") from None
    try:
        tree = YAML(typ="rt").load(text)
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"{mark.line + 1}:{mark.column + 1}:" if mark is not None else ""
        problem = " ".join(part for part in (exc.context, exc.problem) if part) or str(exc)
        raise errors.PipelineDefinitionError(
            f"{display(path)}:{where} malformed YAML: {problem}"
        ) from None
    except YAMLError as exc:
        raise errors.PipelineDefinitionError(f"{display(path)}: malformed YAML: {exc}") from None
    return Document(path, tree, to_plain(tree))
