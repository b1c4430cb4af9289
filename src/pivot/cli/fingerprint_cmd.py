import json as json_mod

from pivot.cli import arguments


def fingerprint(
    stage: str,
    *,
    json: bool = False,
    session: arguments.Injected,
) -> int:
    """Print a stage's code manifest: every piece of code it reaches, with its digest.

    Parameters
    ----------
    stage
        Stage name.
    json
        Print the manifest as a JSON object.
    """
    container = session.container()
    st = container.pipeline().get(stage)
    code = container.observer().code(st)
    entries = [
        {
            "key": key,
            "digest": digest,
            "where": code.sites[key].describe() if key in code.sites else "",
        }
        for key, digest in sorted(code.entries.items())
    ]
    if json:
        payload = {"stage": stage, "entries": entries, "warnings": list(code.warnings)}
        print(json_mod.dumps(payload, indent=2, sort_keys=True))
        return 0
    width = max((len(e["key"]) for e in entries), default=0)
    for entry in entries:
        where = f"  {entry['where']}" if entry["where"] else ""
        print(f"{entry['key']:<{width}}  {entry['digest'][:16]}{where}")
    for warning in code.warnings:
        print(f"! {warning}")
    return 0
