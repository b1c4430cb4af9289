import dataclasses
import json as json_mod
from typing import TYPE_CHECKING, Any

from pivot.cli import arguments

if TYPE_CHECKING:
    from pivot.app import data_diff as data_diff_app
    from pivot.domain import data_diff


def _cell(value: Any) -> str:
    return value if isinstance(value, str) else json_mod.dumps(value)


def _row_name(change: "data_diff.RowChange") -> str:
    if list(change.row) == ["row"]:
        return f"row {change.row['row']}"
    return "  ".join(f"{k}={_cell(v)}" for k, v in change.row.items())


def _schema(diff: "data_diff.TableDiff") -> list[str]:
    parts = [f"+ {c}" for c in diff.added_columns] + [f"- {c}" for c in diff.removed_columns]
    if diff.columns_reordered:
        parts.append("order changed")
    parts += [f"{t.column}: {t.old} → {t.new}" for t in diff.type_changes]
    return parts


def _rows(diff: "data_diff.TableDiff") -> str:
    matched = f"matched by {', '.join(diff.key)}" if diff.key else "matched by position"
    if diff.reordered:
        return f"{diff.old_rows} → {diff.new_rows}: same rows, reordered ({matched})"
    counts = f"+{diff.added} added, -{diff.removed} removed, ~{diff.modified} modified"
    return f"{diff.old_rows} → {diff.new_rows}: {counts} ({matched})"


def _samples(diff: "data_diff.TableDiff") -> list[str]:
    lines: list[str] = []
    groups = (
        ("+", diff.samples_added, diff.added),
        ("-", diff.samples_removed, diff.removed),
        ("~", diff.samples_modified, diff.modified),
    )
    for mark, samples, total in groups:
        for change in samples:
            if mark == "~":
                what = "  ".join(
                    f"{c}: {_cell(a)} → {_cell(b)}" for c, (a, b) in change.changes.items()
                )
            else:
                side = 1 if mark == "+" else 0
                what = "  ".join(f"{c}={_cell(v[side])}" for c, v in change.changes.items())
            lines.append(f"  {mark} {_row_name(change)}  {what}".rstrip())
        if total > len(samples):
            lines.append(f"  {mark} … and {total - len(samples)} more")
    return lines


def _state_line(file: "data_diff_app.FileDiff", rev: str) -> str:
    match file.state:
        case "unchanged":
            return f"unchanged since {rev}"
        case "added":
            return f"new: not recorded at {rev}"
        case "missing":
            return f"missing from the workspace (`pivot checkout {file.target}` restores it)"
        case _:
            return ""


def _text(report: "data_diff_app.DataDiffReport", summary: bool) -> str:
    lines: list[str] = []
    for file in report.files:
        head = f"{file.target} → {file.path}" if file.target != file.path else file.path
        if file.diff is None:
            lines.append(f"{head}: {_state_line(file, report.rev)}")
            continue
        lines.append(f"{head}  ({report.rev} {report.sha[:7]} → workspace)")
        schema = _schema(file.diff)
        if schema:
            lines.append("  columns: " + "; ".join(schema))
        lines.append("  rows: " + _rows(file.diff))
        if not summary:
            lines.extend(_samples(file.diff))
    if not report.files:
        lines.append("No data outputs (CSV, TSV, JSON, JSONL, Parquet) to compare.")
    return "\n".join(lines) + "\n"


def _markdown(report: "data_diff_app.DataDiffReport", summary: bool) -> str:
    lines = [f"Data diff: `{report.rev}` ({report.sha[:7]}) → workspace", ""]
    lines += [
        "| file | columns | rows | added | removed | modified |",
        "|---|---|---|---:|---:|---:|",
    ]
    for file in report.files:
        name = f"`{file.target}`"
        if file.diff is None:
            lines.append(f"| {name} | {_state_line(file, report.rev)} | | | | |")
            continue
        d = file.diff
        rows = f"{d.old_rows} → {d.new_rows}" + (" (reordered)" if d.reordered else "")
        schema = "; ".join(_schema(d)) or "same"
        lines.append(f"| {name} | {schema} | {rows} | {d.added} | {d.removed} | {d.modified} |")
    if not summary:
        for file in report.files:
            if file.diff is not None and _samples(file.diff):
                lines += [
                    "",
                    f"`{file.target}`:",
                    "",
                    "```diff",
                    *(s.strip() for s in _samples(file.diff)),
                    "```",
                ]
    return "\n".join(lines) + "\n"


def _payload(report: "data_diff_app.DataDiffReport") -> dict[str, Any]:
    payload = dataclasses.asdict(report)
    for file, entry in zip(report.files, payload["files"], strict=True):
        if file.diff is not None:
            entry["diff"]["added_columns"] = list(file.diff.added_columns)
            entry["diff"]["removed_columns"] = list(file.diff.removed_columns)
            entry["diff"]["columns_reordered"] = file.diff.columns_reordered
    return payload


def diff(
    *targets: str,
    rev: str = "HEAD",
    key: str | None = None,
    json: bool = False,
    md: bool = False,
    summary: bool = False,
    all_pipelines: arguments.AllPipelines = False,
    session: arguments.Injected,
) -> int:
    """Data diff of CSV, TSV, JSON, JSONL and Parquet outputs: workspace vs a revision.

    Compares the file in the workspace with the version a revision's lock record (or `.pvt`)
    names, read from the local cache: schema changes, then rows added, removed and modified —
    matched by --key columns, or by position — or only reordered. Large files are streamed.

    Parameters
    ----------
    targets
        Stage outputs (`prepare`, `prepare:table` or their paths) or tracked files; default:
        every data output that changed.
    rev
        The git revision to compare the workspace with (sha, branch, tag, HEAD~2).
    key
        Comma-separated key columns that identify a row (`id` or `user,date`).
    json
        Print JSON.
    md
        Print a Markdown table (for pull requests).
    summary
        Counts only: no sample rows.
    """
    from pivot.domain import errors

    if json and md:
        raise errors.PivotError("choose one output format, not --json and --md")
    container = session.container(all_pipelines=all_pipelines)
    columns = tuple(c.strip() for c in key.split(",") if c.strip()) if key else ()
    report = container.data_diff_service().diff(
        container.pipeline(), targets, rev=rev, key=columns, samples=0 if summary else 10
    )
    if not targets:
        report = dataclasses.replace(
            report, files=tuple(f for f in report.files if f.state != "unchanged")
        )
    if json:
        print(json_mod.dumps(_payload(report), indent=2, sort_keys=True, default=str))
    elif md:
        print(_markdown(report, summary), end="")
    else:
        print(_text(report, summary), end="")
    return 0
