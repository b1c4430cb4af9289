from pivot.cli import arguments, output


def init(*, json: arguments.Json = False, session: arguments.Injected) -> int:
    """Make the current directory a Pivot project (creates .pivot/); harmless when it is one."""
    from pivot.app import project
    from pivot.domain import layout

    created = project.init(session.cwd)
    state = layout.state_dir(session.cwd)
    if json:
        output.print_json({"created": created, "state_dir": str(state)})
        return 0
    output.say(f"{'Initialized' if created else 'Already initialized:'} Pivot project in {state}")
    return 0
