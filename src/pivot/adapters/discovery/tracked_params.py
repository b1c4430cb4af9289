import difflib
import pathlib
from collections.abc import Mapping, Sequence
from typing import Any

from pivot.adapters.discovery import declaration, interpolation, yaml_document
from pivot.domain import paths

DEFAULT_FILE = "params.yaml"

Entry = str | Mapping[str, Sequence[str] | None]
"""`key` of params.yaml, or `{file: [keys]}`, or `{file: None}` for the whole file."""


class ParamsFiles:
    """Reads DVC-style params files of one pipeline directory, each at most once per load."""

    def __init__(self, directory: pathlib.Path) -> None:
        self._directory = directory
        self._read: dict[str, dict[str, Any]] = {}

    def values(self, entries: Sequence[Entry]) -> dict[str, Any]:
        """The listed keys with their values, nested as in the files (`train.epochs` → train)."""
        found: dict[str, Any] = {}
        origin: dict[str, str] = {}
        for index, entry in enumerate(entries):
            if isinstance(entry, str):
                groups: list[tuple[str, Sequence[str] | None, declaration.Where]] = [
                    (DEFAULT_FILE, [entry], ("params", index))
                ]
            else:
                groups = [(str(f), keys, ("params", index, str(f))) for f, keys in entry.items()]
            for name, keys, where in groups:
                data = self._file(name, where)
                for key in keys or list(data):
                    value = _lookup(data, str(key), name, where)
                    top = str(key).split(".")[0]
                    if origin.setdefault(top, name) != name:
                        raise declaration.DeclarationError(
                            f"param '{top}' is listed from both {origin[top]} and {name}; "
                            + "a stage may take each top-level key from one file only",
                            where,
                        )
                    _put(found, str(key).split("."), value)
        return found

    def _file(self, name: str, where: declaration.Where) -> dict[str, Any]:
        if name in self._read:
            return self._read[name]
        target = (self._directory / name).resolve()
        if not paths.is_within(target, self._directory) or not target.is_file():
            raise declaration.DeclarationError(
                f"params file '{name}' does not exist in '{self._directory}'; create it or "
                + "fix the name",
                where,
            )
        doc = yaml_document.read(target)
        data = doc.data if doc.data is not None else {}
        if not isinstance(data, dict):
            raise doc.error((), "a params file must be a mapping of keys to values")
        self._read[name] = data  # pyright: ignore[reportUnknownMemberType]
        return self._read[name]


def _lookup(data: Mapping[str, Any], key: str, name: str, where: declaration.Where) -> Any:
    try:
        return interpolation.lookup(data, key)
    except declaration.DeclarationError:
        known = leaf_keys(data)
        close = difflib.get_close_matches(key, known, n=1)
        hint = f"did you mean '{close[0]}'? " if close else ""
        raise declaration.DeclarationError(
            f"param '{key}' is not in {name}; {hint}keys: {', '.join(known) or 'none'}", where
        ) from None


def leaf_keys(data: Mapping[str, Any], prefix: str = "") -> list[str]:
    """Dotted names of every value that is not itself a mapping."""
    keys: list[str] = []
    for key, value in data.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping) and value:
            keys.extend(leaf_keys(value, f"{name}."))  # pyright: ignore[reportUnknownArgumentType]
        else:
            keys.append(name)
    return keys


def _put(target: dict[str, Any], parts: list[str], value: Any) -> None:
    for part in parts[:-1]:
        target = target.setdefault(part, {})
    target[parts[-1]] = value


def as_params_references(command: str, values: Mapping[str, Any]) -> str:
    """`${train.epochs}` → `${params.train.epochs}` for references into the tracked values."""

    def rename(ref: str) -> str | None:
        if ref.split(".", maxsplit=1)[0] == "params":
            return None
        try:
            interpolation.lookup(values, ref)
        except declaration.DeclarationError:
            return None
        return f"${{params.{ref}}}"

    return interpolation.replace_references(command, rename)
