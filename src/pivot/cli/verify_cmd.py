import json as json_mod

from pivot.cli import arguments


def verify(
    *,
    json: bool = False,
    all_pipelines: arguments.AllPipelines = False,
    session: arguments.Injected,
) -> int:
    """CI gate: exit 1 if a stage is stale or a recorded artifact is in neither workspace nor cache.

    Parameters
    ----------
    json
        Print a JSON object: `ok`, `problems`, `warnings`.
    """
    container = session.container(all_pipelines=all_pipelines)
    report = container.verify_service().verify(container.pipeline_or_tracked())
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
