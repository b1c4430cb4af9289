import dataclasses
import json as json_mod
import time
from collections.abc import Sequence
from typing import Annotated, Any

import cyclopts

from pivot.cli import arguments
from pivot.domain import history


def _when(seconds: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(seconds))


def _show(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.6g}"
    return "-" if value is None else str(value)


def _table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(headers)]
    lines = [headers, *rows]
    return "\n".join(
        "  ".join(cell.ljust(w) for cell, w in zip(line, widths, strict=True)).rstrip()
        for line in lines
    )


def _summary(record: history.RunRecord) -> str:
    return ", ".join(f"{n} {status}" for status, n in sorted(history.counts(record).items()))


def history_(
    stage: str | None = None,
    *,
    n: Annotated[int, cyclopts.Parameter(name=["-n", "--number"])] = 20,
    compare: bool = False,
    sort_by: str | None = None,
    ascending: bool = False,
    json: bool = False,
    session: arguments.Injected,
) -> int:
    """Runs recorded in this project: when, what ran and why — or, with --compare, an
    experiment table of params and metrics, one row per run.

    Parameters
    ----------
    stage
        Only runs that include this stage (with --compare: its params and metrics).
    n
        Show the last N runs (default 20; with --compare every run).
    compare
        One row per run that ran something: the params that differed between runs and the
        metrics they produced.
    sort_by
        With --compare: order rows by this metric or param column (largest first).
    ascending
        With --sort-by: smallest first (losses, errors).
    json
        Print JSON.
    """
    container = session.container()
    log = container.history_log()
    if compare:
        records = log.recent()
        table = history.compare(records, stage, sort_by, ascending=ascending)
        return _print_compare(table, json)
    if sort_by is not None:
        from pivot.domain import errors

        raise errors.PivotError("--sort-by orders the --compare table; add --compare")
    records = log.recent(None if stage else n)
    if stage is not None:
        records = [r for r in records if any(s["name"] == stage for s in r["stages"])][-n:]
    if json:
        print(json_mod.dumps({"runs": records}, indent=2, sort_keys=True))
        return 0
    if not records:
        print("No runs recorded yet: `pivot run` records each run here.")
        return 0
    rows = [
        [
            r["id"],
            _when(r["started"]),
            f"{r['ended'] - r['started']:.2f}s",
            ", ".join(r["targets"]) or "all",
            _summary(r),
        ]
        for r in reversed(records)
    ]
    print(_table(["RUN", "STARTED (UTC)", "TIME", "TARGETS", "STAGES"], rows))
    return 0


def _print_compare(table: history.CompareTable, json: bool) -> int:
    if json:
        payload = dataclasses.asdict(table)
        print(json_mod.dumps(payload, indent=2, sort_keys=True))
        return 0
    if not table.rows:
        print("No run has run a stage yet: `pivot run` records each run here.")
        return 0
    headers = ["RUN", "STARTED (UTC)", *table.params, *table.metrics]
    rows = [
        [
            row.run,
            _when(row.started),
            *(_show(row.params.get(k)) for k in table.params),
            *(_show(row.metrics.get(k)) for k in table.metrics),
        ]
        for row in table.rows
    ]
    print(_table(headers, rows))
    return 0


def show(run_id: str = "latest", *, json: bool = False, session: arguments.Injected) -> int:
    """One recorded run: targets, start and end, and each stage's status, time and reason.

    Parameters
    ----------
    run_id
        A run id from `pivot history`, a unique prefix of one, or `latest` (default).
    json
        Print the run record as JSON.
    """
    record = session.container().history_log().get(run_id)
    if json:
        print(json_mod.dumps(record, indent=2, sort_keys=True))
        return 0
    took = record["ended"] - record["started"]
    print(f"Run {record['id']}  (pipeline '{record['pipeline']}')")
    print(f"  started  {_when(record['started'])} UTC")
    print(f"  ended    {_when(record['ended'])} UTC ({took:.2f}s)")
    print(f"  targets  {', '.join(record['targets']) or 'all stages'}")
    print(f"  stages   {_summary(record) or 'none'}")
    if not record["stages"]:
        return 0
    print()
    rows = [
        [s["name"], s["status"], f"{s['duration']:.2f}s", "; ".join(s["reasons"]) or "-"]
        for s in record["stages"]
    ]
    print(_table(["STAGE", "STATUS", "TIME", "WHY"], rows))
    metrics = [
        [s["name"], path, "  ".join(f"{k}={_show(v)}" for k, v in values.items())]
        for s in record["stages"]
        for path, values in s["metrics"].items()
    ]
    if metrics:
        print()
        print(_table(["STAGE", "METRICS", "VALUES"], metrics))
    return 0
