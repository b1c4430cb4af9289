import re
from collections.abc import Callable, Collection, Mapping
from typing import Any

from pivot.adapters.discovery import declaration

_TOKEN = re.compile(r"(\\)?\$\{\s*([^${}\s]*)\s*\}")


def lookup(context: Mapping[str, Any], ref: str) -> Any:
    """The value of a dotted reference such as `model` or `data.train.path`."""
    value: Any = context
    for part in ref.split("."):
        if isinstance(value, Mapping) and part in value:
            value = value[part]  # pyright: ignore[reportUnknownVariableType]
        elif isinstance(value, list) and part.isdigit() and int(part) < len(value):
            value = value[int(part)]  # pyright: ignore[reportUnknownVariableType]
        else:
            raise declaration.DeclarationError(_unresolved(ref, context))
    return value  # pyright: ignore[reportUnknownVariableType]


def _unresolved(ref: str, context: Mapping[str, Any]) -> str:
    known = ", ".join(sorted(context)) or "none"
    hint = ""
    if ref.split(".", maxsplit=1)[0] == "params":
        hint = " (${params.*} is only available in 'cmd:' and names the stage's own params)"
    return f"unresolved ${{{ref}}}{hint}; defined variables: {known}"


def as_text(value: Any, ref: str) -> str:
    """How a variable's value reads inside a string (YAML spelling for booleans and null)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, str | int | float):
        return str(value)
    raise declaration.DeclarationError(
        f"${{{ref}}} is a {type(value).__name__}, which cannot be inserted into text; "
        + "refer to one scalar value"
    )


def interpolate(
    text: str,
    context: Mapping[str, Any],
    *,
    defer: Collection[str] = (),
    unescape: bool = True,
    keep_type: bool = True,
    quote: Callable[[str], str] | None = None,
) -> Any:
    """Fill `${name}` references; a string that is one whole reference keeps the value's type.

    References whose first part is in `defer` are left for a later pass; `\\${...}` is a literal.
    `quote` (`shlex.quote` for a command) is applied to each value inserted into text.
    """
    whole = _TOKEN.fullmatch(text)
    if keep_type and whole and not whole.group(1) and whole.group(2).split(".")[0] not in defer:
        return lookup(context, _checked(whole.group(2)))

    def replace(match: re.Match[str]) -> str:
        escaped, ref = match.group(1), match.group(2)
        if escaped:
            return match.group(0)[1:] if unescape else match.group(0)
        if ref.split(".")[0] in defer:
            return match.group(0)
        text = as_text(lookup(context, _checked(ref)), ref)
        return quote(text) if quote is not None else text

    return _TOKEN.sub(replace, text)


def _checked(ref: str) -> str:
    if not ref:
        raise declaration.DeclarationError("empty ${} reference; write ${name}")
    return ref


def walk(
    value: Any,
    context: Mapping[str, Any],
    *,
    where: declaration.Where = (),
    defer: Collection[str] = (),
    unescape: bool = True,
    quote: Callable[[str], str] | None = None,
) -> Any:
    """Interpolate every string inside nested lists and mappings; errors carry their location."""
    if isinstance(value, str):
        try:
            return interpolate(value, context, defer=defer, unescape=unescape, quote=quote)
        except declaration.DeclarationError as exc:
            raise declaration.DeclarationError(str(exc), where) from None
    if isinstance(value, Mapping):
        return {
            k: walk(v, context, where=(*where, k), defer=defer, unescape=unescape, quote=quote)
            for k, v in value.items()  # pyright: ignore[reportUnknownVariableType]
        }
    if isinstance(value, list):
        return [
            walk(v, context, where=(*where, i), defer=defer, unescape=unescape, quote=quote)
            for i, v in enumerate(value)  # pyright: ignore[reportUnknownVariableType, reportUnknownArgumentType]
        ]
    return value


def replace_references(text: str, replace: Callable[[str], str | None]) -> str:
    """`text` with each unescaped `${ref}` replaced by the text `replace(ref)` (None keeps it)."""

    def substitute(match: re.Match[str]) -> str:
        if match.group(1):
            return match.group(0)
        replaced = replace(match.group(2))
        return match.group(0) if replaced is None else replaced

    return _TOKEN.sub(substitute, text)


def whole_reference(text: str) -> str | None:
    """`name.key` when `text` is exactly one unescaped `${name.key}`, else None."""
    match = _TOKEN.fullmatch(text)
    return match.group(2) if match and not match.group(1) else None
