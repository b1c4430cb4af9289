import csv
import io
import json
from collections.abc import Mapping, Sequence
from typing import Any

from pivot.domain import errors

DATA_SUFFIXES = (".csv", ".tsv", ".json", ".jsonl")
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".svg")
TEMPLATES = ("linear", "scatter", "bar", "confusion")
REVISION_FIELD = "rev"

Row = dict[str, Any]


def _cell(text: str) -> Any:
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text


def parse(path: str, data: bytes) -> list[Row]:
    """Plot data as records: CSV/TSV with a header, a JSON list of objects, or JSONL."""
    suffix = path[path.rfind(".") :].lower() if "." in path else ""
    try:
        text = data.decode()
    except UnicodeDecodeError:
        raise errors.PlotError(f"plot data '{path}' is not text") from None
    try:
        match suffix:
            case ".csv" | ".tsv":
                reader = csv.DictReader(
                    io.StringIO(text), delimiter="\t" if suffix == ".tsv" else ","
                )
                rows: Any = [{k: _cell(v) for k, v in r.items() if k is not None} for r in reader]
            case ".json":
                rows = json.loads(text)
                if isinstance(rows, dict) and len(rows) == 1:  # pyright: ignore[reportUnknownArgumentType]
                    rows = next(iter(rows.values()))  # pyright: ignore[reportUnknownArgumentType, reportUnknownMemberType]
            case ".jsonl":
                rows = [json.loads(line) for line in text.splitlines() if line.strip()]
            case _:
                raise errors.PlotError(
                    f"'{path}' is not plot data: use one of {', '.join(DATA_SUFFIXES)}"
                )
    except ValueError as exc:
        raise errors.PlotError(f"plot data '{path}' cannot be parsed: {exc}") from None
    if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):  # pyright: ignore[reportUnknownVariableType]
        raise errors.PlotError(
            f"plot data '{path}' must be a list of records (rows with named columns)"
        )
    return rows  # pyright: ignore[reportUnknownVariableType]


def spec(
    title: str,
    by_revision: Mapping[str, Sequence[Row]],
    *,
    x: str | None,
    y: str | None,
    template: str | None,
) -> dict[str, Any]:
    """A Vega-Lite spec drawing every revision's rows in one chart, coloured by revision."""
    kind = template or "linear"
    if kind not in TEMPLATES:
        raise errors.PlotError(
            f"plot '{title}': unknown template '{kind}'; use one of {', '.join(TEMPLATES)}"
        )
    columns = list(dict.fromkeys(k for rows in by_revision.values() for r in rows for k in r))
    x_field = x or (columns[0] if columns else "x")
    y_field = y or (columns[-1] if columns else "y")
    for label, rows in by_revision.items():
        present = set(rows[0]) if rows else set(columns)
        for role, field in (("x", x_field), ("y", y_field)):
            if field not in present:
                where = title if len(by_revision) == 1 else f"{title} at {label}"
                raise errors.PlotError(
                    f"plot '{where}': {role} column '{field}' does not exist; "
                    + f"columns: {', '.join(sorted(present)) or 'none (no rows)'}"
                )
    values = [{**r, REVISION_FIELD: label} for label, rows in by_revision.items() for r in rows]
    several = len(by_revision) > 1
    color: dict[str, Any] = {"field": REVISION_FIELD, "type": "nominal", "title": "revision"}
    numeric_x = all(isinstance(v.get(x_field), int | float) for v in values)
    encoding: dict[str, Any] = {
        "x": {"field": x_field, "type": "quantitative" if numeric_x else "nominal"},
        "y": {"field": y_field, "type": "quantitative"},
    }
    match kind:
        case "linear":
            mark: Any = {"type": "line", "point": True}
        case "scatter":
            mark = "point"
        case "bar":
            mark = "bar"
            encoding["x"]["type"] = "nominal"
            if several:
                encoding["xOffset"] = {"field": REVISION_FIELD}
        case _:
            return _confusion(title, values, x_field, y_field, several)
    if several:
        encoding["color"] = color
    return {
        "$schema": "https://vega.github.io/schema/vega-lite/v5.json",
        "title": title,
        "width": 480,
        "height": 300,
        "data": {"values": values},
        "mark": mark,
        "encoding": encoding,
    }


def _confusion(
    title: str, values: list[Row], actual: str, predicted: str, several: bool
) -> dict[str, Any]:
    """Counts of (actual, predicted) pairs as a heat map, one panel per revision."""
    encoding: dict[str, Any] = {
        "x": {"field": predicted, "type": "nominal"},
        "y": {"field": actual, "type": "nominal"},
    }
    layers: list[dict[str, Any]] = [
        {
            "mark": "rect",
            "encoding": {"color": {"aggregate": "count", "type": "quantitative", "title": "count"}},
        },
        {
            "mark": {"type": "text", "color": "black"},
            "encoding": {"text": {"aggregate": "count", "type": "quantitative"}},
        },
    ]
    chart: dict[str, Any] = {"width": 240, "height": 240, "encoding": encoding, "layer": layers}
    base: dict[str, Any] = {
        "$schema": "https://vega.github.io/schema/vega-lite/v5.json",
        "title": title,
        "data": {"values": values},
    }
    if several:
        return {
            **base,
            "facet": {"column": {"field": REVISION_FIELD, "title": "revision"}},
            "spec": chart,
        }
    return {**base, **chart}
