import collections
import os
import pathlib
import re
from typing import Any

from pivot.adapters import yaml_text
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


# A %YAML directive changes how plain scalars resolve (1.1: `yes` is a bool); the C parser does
# not pass it on to the resolver, so such files take the round-trip parse from the start.
_VERSION_DIRECTIVE = re.compile(r"^%YAML", re.MULTILINE)
_UNPARSED: Any = object()

parses: collections.Counter[str] = collections.Counter()
"""Parses in this process by loader ("safe", "round-trip"); a valid file needs no round-trip."""


class Document:
    """A YAML file's plain `data`; `tree` (line/column) comes from a round-trip parse on demand."""

    __slots__ = ("_tree", "data", "path", "text")

    def __init__(self, path: pathlib.Path, text: str, data: Any, tree: Any = _UNPARSED) -> None:
        self.path = path
        self.text = text
        self.data = data
        self._tree = tree

    @property
    def tree(self) -> Any:
        """ruamel's round-trip nodes, parsed at first use: only errors need positions."""
        if self._tree is _UNPARSED:
            self._tree = _round_trip(self.path, self.text)
        return self._tree

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
    """Parse a YAML file people edit (fast loader; positions later, if an error needs them)."""
    from ruamel.yaml import YAML
    from ruamel.yaml.error import YAMLError

    try:
        yaml_text.check_size(path.stat().st_size)
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise errors.PipelineDefinitionError(
            f"{display(path)}: byte {exc.start + 1} is not UTF-8 ({exc.reason}); "
            + "save the file as UTF-8"
        ) from None
    except (OSError, ValueError) as exc:
        raise errors.PipelineDefinitionError(f"{display(path)}: cannot read: {exc}") from None
    try:
        if _VERSION_DIRECTIVE.search(text) is None:
            try:
                # typ="safe" uses ruamel.yaml.clib's C parser: ~10x faster than round-trip.
                parses["safe"] += 1
                data = yaml_text.guarded(lambda: YAML(typ="safe").load(text))
            except YAMLError:
                pass  # the round-trip parse reports it as precisely, or accepts it (custom tags)
            else:
                return Document(path, text, to_plain(data))
        tree = _round_trip(path, text)
        return Document(path, text, to_plain(tree), tree)
    except yaml_text.YamlLimitError as exc:
        raise errors.PipelineDefinitionError(f"{display(path)}: {exc}") from None


def _round_trip(path: pathlib.Path, text: str) -> Any:
    from ruamel.yaml import YAML
    from ruamel.yaml.error import MarkedYAMLError, YAMLError

    parses["round-trip"] += 1
    try:
        return yaml_text.guarded(lambda: YAML(typ="rt").load(text))
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"{mark.line + 1}:{mark.column + 1}:" if mark is not None else ""
        problem = " ".join(part for part in (exc.context, exc.problem) if part) or str(exc)
        raise errors.PipelineDefinitionError(
            f"{display(path)}:{where} malformed YAML: {problem}"
        ) from None
    except YAMLError as exc:
        raise errors.PipelineDefinitionError(f"{display(path)}: malformed YAML: {exc}") from None
