from pivot.cli import arguments


def init(*, session: arguments.Injected) -> int:
    """Make the current directory a Pivot project (creates .pivot/)."""
    from pivot.app import project
    from pivot.domain import layout

    created = project.init(session.cwd)
    state = layout.state_dir(session.cwd)
    print(f"{'Initialized' if created else 'Already initialized:'} Pivot project in {state}")
    return 0
