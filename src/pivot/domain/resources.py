import re
from collections.abc import Mapping
from typing import Any

from pivot.domain import errors

_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([KMGT]i?B|B)\s*$", re.IGNORECASE)
_FACTORS = {
    "b": 1,
    "kb": 10**3,
    "mb": 10**6,
    "gb": 10**9,
    "tb": 10**12,
    "kib": 2**10,
    "mib": 2**20,
    "gib": 2**30,
    "tib": 2**40,
}

Resources = tuple[tuple[str, float], ...]


def parse(stage: str, raw: Mapping[str, Any] | None) -> Resources:
    """`{GPU: 1, memory: 8GiB}` as sorted (name, amount) pairs; sizes become bytes."""
    parsed: list[tuple[str, float]] = []
    for name, value in (raw or {}).items():
        if not isinstance(name, str) or not name.strip():
            raise errors.StageDefinitionError(
                f"stage '{stage}': resource names must be non-empty strings, got {name!r}"
            )
        amount = _amount(value)
        if amount is None or amount <= 0:
            raise errors.StageDefinitionError(
                f"stage '{stage}': resource '{name}' must be a positive number or a size "
                + f"such as 8GiB, got {value!r}"
            )
        parsed.append((name, amount))
    return tuple(sorted(parsed))


def _amount(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        match = _SIZE.match(value)
        if match:
            return float(match.group(1)) * _FACTORS[match.group(2).lower()]
        try:
            return float(value)
        except ValueError:
            return None
    return None
