from pivot.cli import arguments


def init(*, session: arguments.Injected) -> int:
    """Make the current directory a Pivot project (creates .pivot/)."""
    from pivot.app import project

    created = project.init(session.cwd)
    state = session.cwd / project.STATE_DIR
    print(f"{'Initialized' if created else 'Already initialized:'} Pivot project in {state}")
    return 0
