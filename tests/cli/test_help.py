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


@pytest.mark.parametrize("argv", [[], ["--help"], ["-h"]])
def test_pivot_help_from_the_shell(argv: list[str]) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "pivot", *argv], capture_output=True, text=True, check=False
    )

    assert done.returncode == 0
    assert done.stdout == commands.help_text()


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
