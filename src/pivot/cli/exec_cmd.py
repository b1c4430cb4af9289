from pivot.cli import arguments


def exec_stage(stage: str, *, session: arguments.Injected) -> int:
    """Run one stage now, in this process, exactly as `pivot run` would (for dvc.yaml cmds).

    Loads its dependencies, calls the function with its params, saves and records its outputs;
    upstream stages are not run and nothing is skipped. `pivot export` writes dvc.yaml stages
    as `python -m pivot exec STAGE`.

    Parameters
    ----------
    stage
        The stage's name.
    """
    from pivot.app import run as run_app

    container = session.container(executor="inline")
    summary = container.run_service().run(
        container.pipeline(),
        run_app.RunOptions(stages=(stage,), force=True, single_stage=True),
    )
    return 0 if summary.ok else 1
