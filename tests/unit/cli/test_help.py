import contextlib
import subprocess
import sys

import pytest

from pivot.cli import commands, main


def test_static_help_lists_every_command_the_parser_knows() -> None:
    registered = {name for name in main.app if not name.startswith("-")}

    assert {c.name for c in commands.COMMANDS} == registered
    for command in commands.COMMANDS:
        assert f"  {command.name} " in commands.help_text()


@pytest.mark.parametrize("command", [c.name for c in commands.COMMANDS])
def test_every_command_resolves_to_its_implementation(command: str) -> None:
    assert main.app[command] is not None


@pytest.mark.parametrize("argv", [["--help"], ["-h"]])
def test_pivot_help_from_the_shell(argv: list[str]) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "pivot", *argv], capture_output=True, text=True, check=False
    )

    assert done.returncode == 0
    assert done.stdout == commands.help_text()


@pytest.mark.parametrize("argv", [[], ["-q"]])
def test_no_command_prints_help_on_stderr_and_exits_2(argv: list[str]) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "pivot", *argv], capture_output=True, text=True, check=False
    )

    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr == commands.help_text()


def _command_help(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    with contextlib.suppress(SystemExit):
        main.app.meta([*argv, "--help"], result_action="return_value")
    return capsys.readouterr().out


def _leaves() -> list[str]:
    """Every runnable command: `run`, and `cache verify` for each command of a sub-app."""
    found: list[str] = []
    for command in commands.COMMANDS:
        if not command.target.endswith("_app"):
            found.append(command.name)
            continue
        sub = main.app[command.name]
        found += [f"{command.name} {n}" for n in sub if not n.startswith("-")]
    return found


_LEAVES = _leaves()


@pytest.mark.parametrize("command", _LEAVES)
def test_every_command_help_has_its_docstring_and_quiet_verbose(
    command: str, capsys: pytest.CaptureFixture[str]
) -> None:
    text = _command_help(capsys, *command.split())
    app = main.app
    for word in command.split():
        app = app[word]
    first_line = (app.default_command.__doc__ or "").strip().splitlines()[0]

    assert " ".join(first_line.split()[:4]) in " ".join(text.split())
    assert "--quiet" in text
    assert "--verbose" in text


def test_help_shows_the_docstring_beyond_its_first_line(capsys: pytest.CaptureFixture[str]) -> None:
    text = " ".join(_command_help(capsys, "commit").split())

    assert "Use after `pivot run --no-commit`" in text


def test_command_help_still_comes_from_the_parser() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "pivot", "run", "--help"],
        capture_output=True,
        text=True,
        check=False,
    )

    assert done.returncode == 0
    assert "--keep-going" in done.stdout


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_completion_script_knows_commands_and_options(shell: str) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "pivot", "completion", shell],
        capture_output=True,
        text=True,
        check=False,
    )

    assert done.returncode == 0
    for word in ("status", "checkout", "keep-going"):
        assert word in done.stdout


def test_completion_rejects_an_unknown_shell() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "pivot", "completion", "tcsh"],
        capture_output=True,
        text=True,
        check=False,
    )

    assert done.returncode == 2


def _paragraph_lines(text: str) -> list[list[str]]:
    """The description's paragraphs (before the first panel), as their printed lines."""
    body = text.split("╭", maxsplit=1)[0].split("\n\n")[1:]
    return [p.splitlines() for p in body if p.strip()]


@pytest.mark.parametrize("command", ["remote", "config"])
def test_group_help_wraps_its_paragraphs_evenly(
    command: str, capsys: pytest.CaptureFixture[str]
) -> None:
    paragraphs = _paragraph_lines(_command_help(capsys, command))

    assert paragraphs
    for lines in paragraphs:
        # Every line but a paragraph's last is filled (no hard break left over from the source).
        assert all(len(line) > 60 for line in lines[:-1]), lines


def test_remote_add_help_describes_name_and_the_url_forms(
    capsys: pytest.CaptureFixture[str],
) -> None:
    text = " ".join(_command_help(capsys, "remote", "add").split())

    for form in ("s3://", "gs://", "az://", "file:///", "~/", "../"):
        assert form in text, form
    assert "NAME A short name" in text
    assert "URL Where the remote is" in text
