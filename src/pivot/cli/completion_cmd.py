from typing import Literal


def completion(shell: Literal["bash", "zsh", "fish"] = "bash") -> int:
    """Print a shell completion script for pivot's commands and options (see README).

    Parameters
    ----------
    shell
        The shell to complete in.
    """
    # The app is loaded already (this command runs inside it); the script is generated from it,
    # so it always matches the installed version's commands and options.
    from pivot.cli import main

    print(main.app.generate_completion(prog_name="pivot", shell=shell))
    return 0
