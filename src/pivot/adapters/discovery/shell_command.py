import collections
import dataclasses
import hashlib
import pathlib
import re
import shlex
import subprocess
import sys
import threading
from collections.abc import Mapping
from typing import IO, Any

from pivot.adapters.discovery import interpolation
from pivot.domain import errors

_STDERR_TAIL_LINES = 20

Returns = tuple[tuple[str | None, str], ...]
"""(output key, path relative to the pipeline root) of each declared output."""


class CommandFailedError(errors.PivotError):
    """A shell-command stage exited with a non-zero status."""


_REFERENCE = re.compile(r"(?<!\\)\$\{[^${}]*\}")
# Outside quotes these make the shell do something (operators, redirections, globs, expansions,
# comments); inside double quotes, `$`, backquote and backslash still expand.
_SHELL_CHARS = frozenset("|&;<>()`*?[]~{}$#\\\n")
_DOUBLE_QUOTED_SHELL_CHARS = frozenset("$`\\")
_SHELL_WORDS = frozenset(
    {
        "cd",
        "export",
        "source",
        ".",
        "set",
        "unset",
        "alias",
        "eval",
        "exec",
        "exit",
        "ulimit",
        "umask",
        "trap",
        "wait",
        "read",
        "if",
        "for",
        "while",
        "until",
        "case",
        "function",
        "time",
        "!",
        "{",
        "[[",
        "test",
        "[",
    }
)
_ASSIGNMENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*=.*", re.DOTALL)


def render(template: str, params: Mapping[str, Any]) -> str:
    """The command with `${params.x}` filled in, each value shell-quoted (one argument, never
    shell syntax), and `\\${...}` escapes made literal."""
    return str(
        interpolation.interpolate(template, {"params": params}, keep_type=False, quote=shlex.quote)
    )


def needs_shell(template: str) -> bool:
    """Whether the command uses shell syntax (pipes, redirections, `&&`, globs, `$VAR`,
    `VAR=value`, builtins such as `cd`); otherwise it is run directly, without a shell."""
    # A `${...}` reference is filled with one quoted word.
    bare = _REFERENCE.sub("x", template)
    quote = ""
    for char in bare:
        if quote == "'":
            quote = "" if char == "'" else quote
        elif quote == '"':
            if char in _DOUBLE_QUOTED_SHELL_CHARS:
                return True
            quote = "" if char == '"' else quote
        elif char in "'\"":
            quote = char
        elif char in _SHELL_CHARS:
            return True
    if quote:
        return True
    words = shlex.split(bare)
    return not words or words[0] in _SHELL_WORDS or bool(_ASSIGNMENT.fullmatch(words[0]))


def declared_outputs(returns: Returns) -> Any:
    """What the stage returns for its outputs: one path, or a mapping key → path."""
    if not returns:
        return None
    if len(returns) == 1 and returns[0][0] is None:
        return pathlib.Path(returns[0][1])
    return {key: pathlib.Path(path) for key, path in returns}


@dataclasses.dataclass(frozen=True, slots=True)
class ShellCommand:
    """A `cmd:` stage: runs its command in the working directory, through the shell only when
    the command needs one."""

    stage: str
    template: str
    """The command before `${params.*}` is filled in: what the code fingerprint covers."""
    command: str
    returns: Returns = ()
    direct: bool = False
    """Spawned as `shlex.split(command)`, without a shell (see `needs_shell`)."""

    @classmethod
    def create(
        cls, stage: str, template: str, params: Mapping[str, Any], returns: Returns = ()
    ) -> "ShellCommand":
        return cls(stage, template, render(template, params), returns, not needs_shell(template))

    def with_params(self, params: Mapping[str, Any]) -> "ShellCommand":
        return dataclasses.replace(self, command=render(self.template, params))

    def __pivot_fingerprint__(self) -> dict[str, str]:
        # Params are tracked on their own, so a params change is not reported as a code change.
        digest = hashlib.blake2b(self.template.encode(), digest_size=16).hexdigest()
        return {f"cmd:{self.stage}": digest}

    def __call__(self, **_deps: Any) -> Any:
        # Declared deps are hashed by Pivot and read by the command itself.
        args = shlex.split(self.command) if self.direct else self.command
        try:
            process = subprocess.Popen(
                args, shell=not self.direct, stdout=subprocess.PIPE, stderr=subprocess.PIPE
            )
        except OSError as exc:
            program = args[0] if isinstance(args, list) else self.command
            raise CommandFailedError(
                f"stage '{self.stage}': cannot run '{program}': {exc.strerror}; "
                + "check the command in 'cmd:' and that the program is installed"
            ) from None
        tail: collections.deque[str] = collections.deque(maxlen=_STDERR_TAIL_LINES)
        pumps = [
            threading.Thread(target=_pump, args=(process.stdout, sys.stdout, None)),
            threading.Thread(target=_pump, args=(process.stderr, sys.stderr, tail)),
        ]
        for pump in pumps:
            pump.start()
        for pump in pumps:
            pump.join()
        status = process.wait()
        if status != 0:
            stderr = "".join(tail).rstrip()
            detail = f"\n--- last lines of stderr ---\n{stderr}" if stderr else ""
            raise CommandFailedError(
                f"stage '{self.stage}': command exited with status {status}: "
                + f"{self.command}{detail}"
            )
        return declared_outputs(self.returns)


def _pump(source: IO[bytes] | None, sink: IO[str], tail: collections.deque[str] | None) -> None:
    # Written through Python's streams so whatever captures a stage's output sees it.
    if source is None:
        return
    with source:
        for raw in source:
            line = raw.decode(errors="replace")
            sink.write(line)
            if tail is not None:
                tail.append(line)
    sink.flush()
