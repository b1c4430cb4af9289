import json as json_mod
from typing import Any

import cyclopts

from pivot.cli import arguments, tables

metrics_app = cyclopts.App(name="metrics", help="Show and compare metric files.")


@metrics_app.command
def show(
    *targets: str,
    json: bool = False,
    md: bool = False,
    precision: int = 5,
    session: arguments.Injected,
) -> int:
    """Print metric values (flattened to dotted keys) from the workspace.

    Parameters
    ----------
    targets
        Metric files, `Metric` outputs (`train:score`) or stage names; default: every `Metric`.
    json
        Print `{path: {key: value}}` as JSON.
    md
        Print a Markdown table.
    precision
        Decimal places shown for floats (JSON keeps full precision).
    """
    from pivot.app import compare

    service = session.container().compare_service()
    sources = service.sources(compare.METRIC, targets)
    found = compare.read_metrics(service, service.snapshot(None), sources)
    if json:
        print(json_mod.dumps(found, indent=2))
        return 0
    rows = [
        [path, key, tables.number(value, precision)]
        for path, values in found.items()
        for key, value in (values or {}).items()
    ]
    missing = [path for path, values in found.items() if values is None]
    if not rows and not missing:
        print("No metrics: declare outputs with outputs.Metric(...) or name metric files.")
        return 0
    if rows:
        print(tables.render(["Path", "Key", "Value"], rows, markdown=md))
    for path in missing:
        print(f"{path}: not in the workspace (run the stage that writes it: `pivot run`)")
    return 0


@metrics_app.command
def diff(
    *revisions_and_targets: str,
    all: bool = False,
    json: bool = False,
    md: bool = False,
    precision: int = 5,
    session: arguments.Injected,
) -> int:
    """Compare metrics between two revisions: HEAD vs the workspace by default.

    `pivot metrics diff` compares HEAD with the workspace; `pivot metrics diff A` compares A with
    the workspace; `pivot metrics diff A B` compares A with B. Words after the revisions (or
    any word naming a metric) are targets.

    Parameters
    ----------
    revisions_and_targets
        `[REV_A [REV_B]] [TARGETS…]`: git revisions (sha, branch, tag, HEAD~1), then metric
        files, `Metric` outputs or stage names.
    all
        Also list values that did not change.
    json
        Print `{path: {key: {old, new, diff, pct}}}` plus the two revision labels.
    md
        Print a Markdown table.
    precision
        Decimal places shown for floats.
    """
    from pivot.app import compare

    service = session.container().compare_service()
    revs, targets = service.split(compare.METRIC, revisions_and_targets, max_revs=2)
    old, new = _pair(service, revs)
    sources = service.sources(compare.METRIC, targets)
    changes = compare.diff_metrics(service, old, new, sources, all=all)
    if json:
        by_path: dict[str, dict[str, dict[str, Any]]] = {}
        for c in changes:
            by_path.setdefault(c.path, {})[c.key] = {
                "old": c.old,
                "new": c.new,
                "diff": c.delta,
                "pct": c.percent,
            }
        print(json_mod.dumps({"old": old.label, "new": new.label, "metrics": by_path}, indent=2))
        return 0
    if not changes:
        print(f"No metric changed between {old.label} and {new.label}.")
        return 0
    rows = [
        [
            c.path,
            c.key,
            tables.number(c.old, precision),
            tables.number(c.new, precision),
            tables.signed(c.delta, precision),
            tables.signed(c.percent, 2, "%"),
        ]
        for c in changes
    ]
    header = ["Path", "Key", old.label, new.label, "Change", "%"]
    print(tables.render(header, rows, markdown=md))
    return 0


def _pair(service: Any, revs: list[str]) -> tuple[Any, Any]:
    """(old, new) snapshots: HEAD and workspace, REV and workspace, or REV_A and REV_B."""
    match revs:
        case []:
            return service.snapshot("HEAD"), service.snapshot(None)
        case [rev]:
            return service.snapshot(rev), service.snapshot(None)
        case _:
            return service.snapshot(revs[0]), service.snapshot(revs[1])
