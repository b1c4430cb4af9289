import csv
import dataclasses
import io
import json
import math
from collections.abc import Callable, Mapping
from typing import Any

from pivot.domain import errors

Value = float | int | bool | str | None
"""A flattened metric leaf; numbers are what `diff` compares."""

SUFFIXES = (".json", ".yaml", ".yml", ".csv", ".tsv")


@dataclasses.dataclass(frozen=True, slots=True)
class Change:
    path: str
    key: str
    old: Value
    new: Value

    @property
    def delta(self) -> float | None:
        """new − old when both are numbers."""
        if _number(self.old) and _number(self.new):
            return self.new - self.old  # pyright: ignore[reportOperatorIssue, reportOptionalOperand]
        return None

    @property
    def percent(self) -> float | None:
        """The change relative to |old|, in percent (None when old is 0 or not a number)."""
        delta = self.delta
        if delta is None or not self.old:
            return None
        return 100.0 * delta / abs(self.old)  # pyright: ignore[reportArgumentType]

    @property
    def changed(self) -> bool:
        return self.old != self.new


def _number(value: Value) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def parse(path: str, data: bytes, load_yaml: Callable[[str], Any]) -> dict[str, Value]:
    """A metric file's values flattened to dotted keys (`eval.f1`, `loss.0`).

    JSON, YAML, key,value CSV/TSV or a one-row table; anything else is a MetricError naming
    the file. A file without a single number is an error too. `load_yaml` parses YAML text
    (raising ValueError with a short reason) so the domain stays free of the YAML library.
    """
    suffix = path[path.rfind(".") :].lower() if "." in path else ""
    try:
        text = data.decode()
    except UnicodeDecodeError:
        raise errors.MetricError(f"metric file '{path}' is not text (binary data)") from None
    match suffix:
        case ".json":
            try:
                raw: Any = json.loads(text)
            except ValueError as exc:
                raise errors.MetricError(f"metric file '{path}': invalid JSON ({exc})") from None
        case ".yaml" | ".yml":
            try:
                raw = load_yaml(text)
            except ValueError as exc:
                raise errors.MetricError(f"metric file '{path}': {exc}") from None
        case ".csv" | ".tsv":
            raw = _table(path, text, "\t" if suffix == ".tsv" else ",")
        case _:
            raise errors.MetricError(
                f"'{path}' is not a metric file: use one of {', '.join(SUFFIXES)}"
            )
    flat = flatten(raw)
    if not any(_number(v) for v in flat.values()):
        raise errors.MetricError(
            f"metric file '{path}' holds no numbers: write a mapping of names to numbers, "
            + 'e.g. {"accuracy": 0.91}'
        )
    return flat


def flatten(raw: Any, prefix: str = "") -> dict[str, Value]:
    """Nested mappings and lists to `{dotted.key: leaf}`."""
    if isinstance(raw, Mapping):
        items: list[tuple[str, Any]] = [(str(k), v) for k, v in raw.items()]  # pyright: ignore[reportUnknownVariableType, reportUnknownArgumentType]
    elif isinstance(raw, list):
        items = [(str(i), v) for i, v in enumerate(raw)]  # pyright: ignore[reportUnknownVariableType, reportUnknownArgumentType]
    else:
        leaf = raw if raw is None or isinstance(raw, bool | int | float | str) else str(raw)
        if isinstance(leaf, float) and math.isnan(leaf):
            leaf = None
        return {prefix or "value": leaf}
    flat: dict[str, Value] = {}
    for key, value in items:
        flat.update(flatten(value, f"{prefix}.{key}" if prefix else key))
    return flat


def _cell(text: str) -> Value:
    stripped = text.strip()
    for kind in (int, float):
        try:
            return kind(stripped)
        except ValueError:
            pass
    return stripped


def _table(path: str, text: str, delimiter: str) -> dict[str, Value]:
    rows = [
        r for r in csv.reader(io.StringIO(text), delimiter=delimiter) if any(c.strip() for c in r)
    ]
    if not rows:
        raise errors.MetricError(f"metric file '{path}' is empty")
    cells = [[_cell(c) for c in r] for r in rows]
    body = cells[1:] if len(cells[0]) == 2 and not _number(cells[0][1]) else cells
    if body and all(len(r) == 2 and isinstance(r[0], str) and _number(r[1]) for r in body):
        return {str(r[0]): r[1] for r in body}
    if len(rows) == 2 and len(rows[0]) == len(rows[1]):
        return {name.strip(): value for name, value in zip(rows[0], cells[1], strict=True)}
    raise errors.MetricError(
        f"metric file '{path}' is neither `name{delimiter}number` rows nor a one-row table "
        + f"(header and one row); it has {len(rows)} rows"
    )


def diff(
    path: str, old: Mapping[str, Value] | None, new: Mapping[str, Value] | None, *, all: bool
) -> list[Change]:
    """Per-key changes of one metric file (unchanged keys only with `all`)."""
    before, after = old or {}, new or {}
    keys = list(dict.fromkeys([*before, *after]))
    changes = [Change(path, k, before.get(k), after.get(k)) for k in keys]
    return [c for c in changes if all or c.changed]
