import sys


def main() -> None:
    """Console-script entry point: answers `pivot --help` without loading the CLI framework."""
    argv = sys.argv[1:]
    if argv in ([], ["-h"], ["--help"]):
        from pivot.cli import commands

        # No command is a usage error: the help goes to stderr and the exit status is 2.
        (sys.stdout if argv else sys.stderr).write(commands.help_text())
        sys.exit(0 if argv else 2)
    if argv == ["--version"]:
        from importlib import metadata

        print(metadata.version("pivot"))
        sys.exit(0)
    from pivot.cli import fast

    # Before the CLI framework or the pipeline is imported: a no-op answered from its snapshot.
    answered = fast.answer(argv)
    if answered is not None:
        sys.stdout.flush()
        sys.exit(answered)
    recorder = fast.start(argv)
    from pivot.cli import main as main_mod

    try:
        main_mod.main(argv)
    except SystemExit as done:
        if recorder is not None:
            recorder.finish(done.code)
        raise
