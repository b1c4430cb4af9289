import pathlib
import sys
from typing import Annotated

import cyclopts

from pivot.cli import commands
from pivot.cli import session as session_mod

app = cyclopts.App(
    name="pivot",
    help=commands.SUMMARY,
    help_format="plaintext",
    version_flags=["--version"],
    default_parameter=cyclopts.Parameter(negative=()),
)
# Commands load lazily (import path strings) so parsing imports only the one that runs.
for _command in commands.COMMANDS:
    app.command(_command.target, name=_command.name, help=_command.help)


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
    except KeyboardInterrupt:
        if debug:
            raise
        print(
            "pivot: interrupted; stages that had not finished were not recorded",
            file=sys.stderr,
        )
        return 130
    finally:
        session.close()
    return result if isinstance(result, int) else 0


def main(argv: list[str] | None = None) -> None:
    """Parse, run the command, exit with its status."""
    code = app.meta(argv if argv is not None else sys.argv[1:], result_action="return_value")
    sys.exit(code if isinstance(code, int) else 0)
