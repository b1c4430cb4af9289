import json as json_mod
from typing import Annotated

import cyclopts

from pivot.cli import arguments


def verify(
    *,
    json: bool = False,
    allow_missing: bool = False,
    remote: Annotated[str | None, cyclopts.Parameter(name=["--remote", "-r"])] = None,
    all_pipelines: arguments.AllPipelines = False,
    session: arguments.Injected,
) -> int:
    """CI gate: exit 1 if a stage is stale or a recorded artifact is in neither workspace nor cache.

    Parameters
    ----------
    json
        Print a JSON object: `ok`, `problems`, `warnings`.
    allow_missing
        Accept artifacts that are on the remote instead (a CI clone without the data): a
        stage whose inputs are missing counts as up to date when its lock record matches
        what its upstream stages recorded, as `pivot run --pull` judges it.
    remote
        The remote for --allow-missing; default: core.remote.
    """
    from pivot.app import pull_plan
    from pivot.app import run as run_app

    container = session.container(all_pipelines=all_pipelines, remote=remote)
    pipe = container.pipeline_or_tracked()
    if allow_missing:
        planner = container.pull_planner()
        judged = planner.judge(pipe, run_app.RunOptions())
        fresh = {n for n, j in judged.items() if j.verdict is pull_plan.Verdict.RECORDED}
        report = container.verify_service().verify(pipe, fresh=fresh, on_remote=planner.on_remote)
    else:
        report = container.verify_service().verify(pipe)
    if json:
        payload = {
            "ok": report.ok,
            "problems": [p.to_json() for p in report.problems],
            "warnings": [w.to_json() for w in report.warnings],
        }
        print(json_mod.dumps(payload, indent=2, sort_keys=True))
        return 0 if report.ok else 1
    for problem in report.problems:
        print(f"✗ {problem.message}")
    for warning in report.warnings:
        print(f"! {warning.message}")
    if report.ok:
        print(f"OK: {report.stages} stages up to date, every recorded artifact available.")
        return 0
    print(f"FAILED: {len(report.problems)} problem(s).")
    return 1
