from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")

MAX_BYTES = 8 << 20
"""Largest YAML file Pivot parses (pivot.yaml, params, config): anything bigger is not one."""
MAX_VALUES = 1_000_000
"""Most values a document may hold once its aliases are expanded (billion laughs)."""
MAX_DEPTH = 500
"""Deepest nesting of lists and mappings."""


class YamlLimitError(ValueError):
    """The YAML is too large, too deep or expands too far to be a file people write."""


def check_size(size: int) -> None:
    if size > MAX_BYTES:
        raise YamlLimitError(
            f"too large to be a YAML file Pivot reads ({size / (1 << 20):.1f} MiB; "
            + f"the limit is {MAX_BYTES >> 20} MiB)"
        )


def guarded(parse: Callable[[], T]) -> T:
    """Run `parse`; a document nested past the recursion limit is a YamlLimitError, and so is
    one whose aliases expand past MAX_VALUES values or that nests deeper than MAX_DEPTH."""
    try:
        data = parse()
    except RecursionError:
        raise _too_deep() from None
    _check_expansion(data)
    return data


def _check_expansion(data: Any) -> None:
    # Iterative, and each shared node (an alias) counted as often as it is used: the size a
    # plain copy of the document would have, computed without making it.
    sizes: dict[int, int] = {}
    stack: list[tuple[Any, int, bool]] = [(data, 1, False)]
    while stack:
        node, depth, done = stack.pop()
        if not isinstance(node, (dict, list)) or (not done and id(node) in sizes):
            continue
        if depth > MAX_DEPTH:
            raise _too_deep()
        children: list[Any] = (
            [*node.keys(), *node.values()] if isinstance(node, dict) else list(node)  # pyright: ignore[reportUnknownArgumentType, reportUnknownMemberType]
        )
        if not done:
            stack.append((node, depth, True))
            stack.extend((child, depth + 1, False) for child in children)
            continue
        total = 1 + sum(sizes.get(id(c), 1) for c in children)
        if total > MAX_VALUES:
            raise YamlLimitError(
                f"its aliases expand to more than {MAX_VALUES:,} values (a YAML bomb?); "
                + "use fewer nested aliases"
            )
        sizes[id(node)] = total


def _too_deep() -> YamlLimitError:
    return YamlLimitError(f"nested too deeply (more than {MAX_DEPTH} levels of lists and maps)")


def load(text: str) -> Any:
    """Safe-load YAML text; a syntax error or a limit is a ValueError naming the problem."""
    from ruamel import yaml

    check_size(len(text))
    try:
        return guarded(lambda: yaml.YAML(typ="safe").load(text))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        raise ValueError(f"invalid YAML{where}") from None
