import dataclasses
import itertools
from collections.abc import Mapping, Sequence
from typing import Any

from pivot.adapters.discovery import declaration, interpolation

SEPARATOR = "@"

Dimension = Sequence[Any] | Mapping[str, Mapping[str, Any] | None]


@dataclasses.dataclass(frozen=True, slots=True)
class Variant:
    """One point of a stage's matrix: its full name, its `${dim}` values and its overrides."""

    name: str
    values: Mapping[str, Any]
    """Dimension → value: the list item, or the key of a mapping dimension."""
    overrides: Mapping[str, Any]
    """The per-value overrides of every mapping dimension, merged in dimension order."""


def base_name(name: str) -> str:
    """`train` for `train@a_x` (and for `train`)."""
    return name.split(SEPARATOR, 1)[0]


def expand(
    base: str, dimensions: Mapping[str, Dimension], name_template: str | None = None
) -> list[Variant]:
    """The cross product of the dimensions, in dimension order, named `base@v1_v2`.

    `name_template` replaces the part after `@`, e.g. `${model}-${dataset}`.
    """
    if not dimensions:
        raise declaration.DeclarationError(
            "matrix has no dimensions; give at least one, e.g. matrix: {model: [a, b]}",
            ("matrix",),
        )
    axes: list[list[tuple[str, str, Any, Mapping[str, Any]]]] = []
    for dim, choices in dimensions.items():
        axis: list[tuple[str, str, Any, Mapping[str, Any]]]
        if isinstance(choices, Mapping):
            axis = [(dim, str(key), str(key), over or {}) for key, over in choices.items()]
        else:
            axis = [(dim, _text(value, dim), value, {}) for value in choices]
        if not axis:
            raise declaration.DeclarationError(
                f"matrix dimension '{dim}' is empty; give at least one value", ("matrix", dim)
            )
        axes.append(axis)

    variants: list[Variant] = []
    named: dict[str, Mapping[str, str]] = {}
    for combo in itertools.product(*axes):
        texts = {dim: text for dim, text, _, _ in combo}
        name = f"{base}{SEPARATOR}{_suffix(texts, name_template)}"
        if name in named:
            raise declaration.DeclarationError(
                f"matrix values {dict(named[name])} and {texts} both give the stage name "
                + f"'{name}'; make the name template use every dimension",
                ("name",) if name_template else ("matrix",),
            )
        named[name] = texts
        overrides: dict[str, Any] = {}
        for dim, key, _, over in combo:
            overrides = merge(overrides, over, where=("matrix", dim, key))
        variants.append(Variant(name, {dim: value for dim, _, value, _ in combo}, overrides))
    return variants


def _text(value: Any, dim: str) -> str:
    try:
        return interpolation.as_text(value, dim)
    except declaration.DeclarationError:
        raise declaration.DeclarationError(
            f"matrix dimension '{dim}' holds {value!r}; list values must be strings, numbers "
            + "or booleans (use a mapping {name: overrides} for richer variants)",
            ("matrix", dim),
        ) from None


def _suffix(texts: Mapping[str, str], template: str | None) -> str:
    if template is None:
        return "_".join(texts.values())
    try:
        suffix = str(interpolation.interpolate(template, texts, keep_type=False))
    except declaration.DeclarationError as exc:
        raise declaration.DeclarationError(
            f"name template '{template}': {exc}", ("name",)
        ) from None
    if not suffix or SEPARATOR in suffix:
        raise declaration.DeclarationError(
            f"name template '{template}' gives {suffix!r} for {dict(texts)}; the variant name "
            + f"must be non-empty and must not contain '{SEPARATOR}'",
            ("name",),
        )
    return suffix


def merge(
    base: Mapping[str, Any], override: Mapping[str, Any], *, where: declaration.Where = ()
) -> dict[str, Any]:
    """A stage declaration with a variant's overrides: params merge deeply, mappings update,
    lists extend."""
    merged = dict(base)
    for key, value in override.items():
        current = merged.get(key)
        if current is None:
            merged[key] = value
        elif isinstance(current, Mapping) and isinstance(value, Mapping):
            merged[key] = deep_merge(current, value) if key == "params" else {**current, **value}  # pyright: ignore[reportUnknownArgumentType]
        elif isinstance(current, list) and isinstance(value, list):
            merged[key] = [*current, *value]  # pyright: ignore[reportUnknownVariableType]
        else:
            raise declaration.DeclarationError(
                f"'{key}' is a {_form(current)} in the stage but a {_form(value)} in this "
                + "variant; use the same form in both (a list extends, a mapping updates)",
                (*where, key),
            )
    return merged


def _form(value: Any) -> str:
    if isinstance(value, Mapping):
        return "mapping"
    return "list" if isinstance(value, list) else type(value).__name__


def deep_merge(base: Mapping[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    """`base` updated by `override`, recursing into mappings present in both."""
    merged = dict(base)
    for key, value in override.items():
        current = merged.get(key)
        if isinstance(current, Mapping) and isinstance(value, Mapping):
            merged[key] = deep_merge(current, value)  # pyright: ignore[reportUnknownArgumentType]
        else:
            merged[key] = value
    return merged
