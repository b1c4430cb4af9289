import sys


def main() -> None:
    """Console-script entry point: answers `pivot --help` without loading the CLI framework."""
    argv = sys.argv[1:]
    if argv in ([], ["-h"], ["--help"]):
        from pivot.cli import commands

        sys.stdout.write(commands.help_text())
        sys.exit(0)
    if argv == ["--version"]:
        from importlib import metadata

        print(metadata.version("pivot"))
        sys.exit(0)
    from pivot.cli import main as main_mod

    main_mod.main(argv)
