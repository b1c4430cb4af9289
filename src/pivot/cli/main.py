import os
import pathlib
import sys
from typing import Annotated

import cyclopts

from pivot.cli import session as session_mod

app = cyclopts.App(
    name="pivot",
    help="Python-first pipelines for data and ML: change your code, Pivot knows what to run.",
    help_format="plaintext",
    version_flags=["--version"],
    default_parameter=cyclopts.Parameter(negative=()),
)
# Commands load lazily (import path strings) so `pivot --help` imports none of them.
app.command("pivot.cli.init_cmd:init", name="init", help="Make this directory a Pivot project.")
app.command("pivot.cli.run_cmd:run", name="run", help="Run stale stages (--dry-run shows why).")
app.command("pivot.cli.run_cmd:run", name="repro", help="Alias of `pivot run`.")
app.command("pivot.cli.status_cmd:status", name="status", help="Show stale stages and why.")
app.command("pivot.cli.list_cmd:list_stages", name="list", help="List stages, deps and outputs.")
app.command("pivot.cli.track_cmd:track", name="track", help="Version data files: write PATH.pvt.")
app.command(
    "pivot.cli.checkout_cmd:checkout", name="checkout", help="Restore outputs and data from cache."
)
app.command("pivot.cli.verify_cmd:verify", name="verify", help="CI gate: stale stages, lost data.")
app.command("pivot.cli.gc_cmd:gc", name="gc", help="Delete unreferenced cache objects.")
app.command("pivot.cli.cache_cmd:cache_app", name="cache", help="Inspect and repair the cache.")
app.command("pivot.cli.cache_cmd:verify", name="fsck", help="Alias of `pivot cache verify`.")
app.command(
    "pivot.cli.commit_cmd:commit", name="commit", help="Record the workspace as lock records."
)
app.command(
    "pivot.cli.fingerprint_cmd:fingerprint",
    name="fingerprint",
    help="Show a stage's code manifest.",
)
app.command("pivot.cli.schema_cmd:schema", name="schema", help="Print pivot.yaml's JSON Schema.")
app.command("pivot.cli.params_cmd:params_app", name="params", help="Show effective stage params.")


@app.meta.default
def _launcher(
    *tokens: Annotated[str, cyclopts.Parameter(show=False, allow_leading_hyphen=True)],
    debug: Annotated[
        bool, cyclopts.Parameter(help="Show full tracebacks for errors (re-raise).")
    ] = False,
) -> int:
    command, bound, ignored = app.parse_args(tokens)
    session = session_mod.Session(pathlib.Path.cwd(), debug=debug)
    if "session" in ignored:
        bound.arguments["session"] = session
    try:
        result = command(*bound.args, **bound.kwargs)
    except Exception as exc:
        from pivot.domain import errors

        if debug or not isinstance(exc, errors.PivotError):
            raise
        print(f"pivot: error: {exc}", file=sys.stderr)
        return 1
    finally:
        session.close()
    return result if isinstance(result, int) else 0


def main(argv: list[str] | None = None) -> None:
    """Console-script entry point."""
    code = app.meta(argv if argv is not None else sys.argv[1:], result_action="return_value")
    sys.stdout.flush()
    sys.stderr.flush()
    # Skip interpreter teardown (loky/LMDB atexit work); everything persistent is already written.
    os._exit(code if isinstance(code, int) else 0)
