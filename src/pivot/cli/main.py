import os
import pathlib
import sys
from typing import Annotated

import cyclopts

from pivot.cli import commands
from pivot.cli import session as session_mod

BROKEN_PIPE_EXIT = 141
"""What a shell reports for a process ended by SIGPIPE (128 + 13)."""

app = cyclopts.App(
    name="pivot",
    help=commands.SUMMARY,
    help_format="plaintext",
    version_flags=["--version"],
    default_parameter=cyclopts.Parameter(negative=()),
)
# Commands load lazily (import path strings) so parsing imports only the one that runs; each
# command's help is its full docstring (the short summaries live in the static top-level help).
for _command in commands.COMMANDS:
    app.command(_command.target, name=_command.name)


@app.meta.default
def _launcher(
    *tokens: Annotated[str, cyclopts.Parameter(show=False, allow_leading_hyphen=True)],
    debug: Annotated[
        bool, cyclopts.Parameter(help="Show full tracebacks for errors (re-raise).")
    ] = False,
    quiet: Annotated[
        bool,
        cyclopts.Parameter(
            name=["--quiet", "-q"], help="Print only errors (and --json output); no progress."
        ),
    ] = False,
    verbose: Annotated[
        bool, cyclopts.Parameter(name=["--verbose", "-v"], help="Print more detail.")
    ] = False,
) -> int:
    from pivot.cli import output

    output.Verbosity.quiet, output.Verbosity.verbose = quiet, verbose
    if not any(not t.startswith("-") or t == "--version" for t in tokens):
        # No command: the static top-level help (the command table carries the summaries).
        wants_help = any(t in ("--help", "-h") for t in tokens)
        (sys.stdout if wants_help else sys.stderr).write(commands.help_text())
        return 0 if wants_help else 2
    command, bound, ignored = app.parse_args(tokens)
    session = session_mod.Session(pathlib.Path.cwd(), debug=debug)
    if "session" in ignored:
        bound.arguments["session"] = session
    try:
        result = command(*bound.args, **bound.kwargs)
    except Exception as exc:
        from pivot.domain import errors

        # An OS refusal (permissions, disk full) is the machine's answer, not a bug: one line.
        os_refusal = isinstance(exc, OSError) and not isinstance(exc, BrokenPipeError)
        if debug or not (isinstance(exc, errors.PivotError) or os_refusal):
            raise
        message = output.os_error(exc) if isinstance(exc, OSError) else str(exc)
        print(f"pivot: error: {message}", file=sys.stderr)
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
    try:
        code = app.meta(argv if argv is not None else sys.argv[1:], result_action="return_value")
        sys.stdout.flush()
    except BrokenPipeError:
        # The reader went away (`pivot list | head -1`): stop quietly, as `yes | head` does.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        sys.exit(BROKEN_PIPE_EXIT)
    sys.exit(code if isinstance(code, int) else 0)
