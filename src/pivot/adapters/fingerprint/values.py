import dataclasses
import enum
import pathlib

_MAX_DEPTH = 8


def encode(value: object, depth: int = 0) -> str:
    """A canonical text for a configuration value: equal in every process for equal values."""
    if depth > _MAX_DEPTH:
        return "..."
    inner = depth + 1
    match value:
        case None | bool() | int() | float() | complex() | str() | bytes():
            return f"{type(value).__name__}:{value!r}"
        case enum.Enum():
            return f"{_name(type(value))}.{value.name}"
        case pathlib.PurePath():
            return f"{type(value).__name__}({value.as_posix()!r})"
        case tuple() | list():
            items = ",".join(encode(item, inner) for item in value)
            return f"{type(value).__name__}({items})"
        case dict():
            items = sorted(f"{encode(k, inner)}:{encode(v, inner)}" for k, v in value.items())
            return "dict(" + ",".join(items) + ")"
        case set() | frozenset():
            return (
                f"{type(value).__name__}(" + ",".join(sorted(encode(i, inner) for i in value)) + ")"
            )
        case type():
            return f"type:{_name(value)}"
        case _ if dataclasses.is_dataclass(value):
            fields = ",".join(
                f"{f.name}={encode(getattr(value, f.name), inner)}"
                for f in dataclasses.fields(value)
            )
            return f"{_name(type(value))}({fields})"
        case _ if callable(value) and hasattr(value, "__qualname__"):
            return f"callable:{value.__qualname__}"
        case _:
            # Default reprs carry memory addresses: only the type is stable across processes.
            return f"<{_name(type(value))}>"


def _name(cls: type) -> str:
    # Not the module: a pipeline.py run by path gets a module name made from its directory,
    # and a manifest must not change when the project is checked out elsewhere.
    return cls.__qualname__
