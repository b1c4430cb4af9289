import dataclasses
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, TypedDict

from pivot.domain import errors

SCHEMA_VERSION = 1
_RAN = ("ran", "restored")

Scalar = str | int | float | bool | None


class StageRun(TypedDict):
    name: str
    status: str
    duration: float
    reasons: list[str]
    params: dict[str, Any]
    metrics: dict[str, dict[str, Scalar]]
    """Metric output path → flattened values, for stages that ran in this run."""


class RunRecord(TypedDict):
    """One `pivot run`, written to the state store once, when it ends."""

    schema_version: int
    id: str
    pipeline: str
    targets: list[str]
    started: float
    """Seconds since the epoch (UTC)."""
    ended: float
    stages: list[StageRun]


def flatten(value: Any, prefix: str = "") -> dict[str, Scalar]:
    """Nested mappings as dotted keys; lists and other values kept only when scalar."""
    if isinstance(value, Mapping):
        flat: dict[str, Scalar] = {}
        items: Mapping[Any, Any] = value
        for key, inner in items.items():
            flat.update(flatten(inner, f"{prefix}{key}."))
        return flat
    if value is None or isinstance(value, str | int | float | bool):
        return {prefix.rstrip("."): value}
    return {}


def counts(record: RunRecord) -> dict[str, int]:
    found: dict[str, int] = {}
    for st in record["stages"]:
        found[st["status"]] = found.get(st["status"], 0) + 1
    return found


def find(ids: Sequence[str], wanted: str) -> str:
    """The run id `wanted` names: a full id, a unique prefix, or `latest`."""
    if not ids:
        raise errors.PivotError("no runs recorded yet: `pivot run` records each run")
    if wanted == "latest":
        return ids[-1]
    matches = [i for i in ids if i.startswith(wanted)]
    if len(matches) == 1:
        return matches[0]
    if not matches:
        raise errors.PivotError(f"no run '{wanted}' in the history; `pivot history` lists run ids")
    raise errors.PivotError(
        f"run id '{wanted}' is ambiguous ({len(matches)} runs start with it); give more characters"
    )


@dataclasses.dataclass(frozen=True, slots=True)
class CompareRow:
    run: str
    started: float
    params: dict[str, Scalar]
    metrics: dict[str, Scalar]


@dataclasses.dataclass(frozen=True, slots=True)
class CompareTable:
    stage: str | None
    params: tuple[str, ...]
    """Param columns: only those whose value differs between rows (all when one row)."""
    metrics: tuple[str, ...]
    rows: tuple[CompareRow, ...]


def _metric_columns(per_file: Mapping[str, Mapping[str, Scalar]]) -> dict[str, Scalar]:
    """Dotted metric keys; a key found in two metric files is prefixed by `path:`."""
    seen: dict[str, int] = {}
    for values in per_file.values():
        for key in values:
            seen[key] = seen.get(key, 0) + 1
    return {
        (key if seen[key] == 1 else f"{path}:{key}"): value
        for path, values in sorted(per_file.items())
        for key, value in values.items()
    }


def compare(
    records: Iterable[RunRecord],
    stage: str | None = None,
    sort_by: str | None = None,
    *,
    ascending: bool = False,
) -> CompareTable:
    """One row per run that ran `stage` (or any stage): its params and resulting metrics."""
    known: dict[str, dict[str, dict[str, Scalar]]] = {}
    """Stage → its latest metrics (carried forward across runs that skipped it)."""
    by_params: dict[tuple[str, str], dict[str, dict[str, Scalar]]] = {}
    """(stage, params) → metrics: what a run-cache restore brings back."""
    rows: list[CompareRow] = []
    seen_stage = False
    for record in sorted(records, key=lambda r: r["id"]):
        ran = False
        params: dict[str, Scalar] = {}
        for st in record["stages"]:
            if stage is not None and st["name"] != stage:
                continue
            seen_stage = True
            signature = repr(sorted(flatten(st["params"]).items()))
            if st["metrics"]:
                known[st["name"]] = st["metrics"]
                by_params[(st["name"], signature)] = st["metrics"]
            elif st["status"] == "restored" and (st["name"], signature) in by_params:
                known[st["name"]] = by_params[(st["name"], signature)]
            ran = ran or st["status"] in _RAN
            prefix = "" if stage is not None else f"{st['name']}."
            params.update(flatten(st["params"], prefix))
        if not ran:
            continue
        files = {path: values for metrics in known.values() for path, values in metrics.items()}
        rows.append(CompareRow(record["id"], record["started"], params, _metric_columns(files)))
    if stage is not None and not seen_stage:
        raise errors.StageNotFoundError(
            f"no recorded run includes stage '{stage}'; `pivot history` lists what ran"
        )
    param_keys = sorted({k for row in rows for k in row.params})
    if len(rows) > 1:
        param_keys = [k for k in param_keys if len({repr(r.params.get(k)) for r in rows}) > 1]
    metric_keys = sorted({k for row in rows for k in row.metrics})
    if sort_by is not None:
        if sort_by not in metric_keys and sort_by not in param_keys:
            raise errors.PivotError(
                f"cannot sort by '{sort_by}': not a metric or differing param; columns: "
                + (", ".join([*metric_keys, *param_keys]) or "none")
            )
        rows.sort(key=lambda r: _sort_key(r.metrics.get(sort_by, r.params.get(sort_by)), ascending))
    return CompareTable(stage, tuple(param_keys), tuple(metric_keys), tuple(rows))


def _sort_key(value: Scalar, ascending: bool) -> tuple[int, float, str]:
    """Numbers (largest first unless `ascending`), then text, missing values last."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return (0, float(value) if ascending else -float(value), "")
    if value is None:
        return (2, 0.0, "")
    return (1, 0.0, str(value))
