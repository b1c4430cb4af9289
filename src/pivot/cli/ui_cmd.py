import errno
import sys

from pivot.cli import arguments

DEFAULT_PORT = 8400


def ui(
    *,
    port: int = DEFAULT_PORT,
    host: str = "127.0.0.1",
    session: arguments.Injected,
) -> int:
    """Serve a live page of this project: the DAG coloured by state (up to date, stale,
    running, failed), why each stage would run, recent runs and the plots.

    The page updates while `pivot run` or `pivot run --watch` runs in another terminal. It is
    read-only and needs no network (every asset is served by this process).

    Parameters
    ----------
    port
        TCP port (default 8400; 0 picks a free one).
    host
        Address to listen on (default 127.0.0.1: this machine only).
    """
    from pivot import api
    from pivot.domain import errors
    from pivot.ui import server

    project = api.Project.open(session.cwd)
    try:
        httpd = server.UiServer((host, port), project)
    except OSError as exc:
        if exc.errno != errno.EADDRINUSE:
            raise errors.PivotError(f"cannot listen on {host}:{port}: {exc.strerror}") from exc
        raise errors.PivotError(
            f"port {port} on {host} is in use (another `pivot ui`?): "
            + f"choose another with --port, e.g. `pivot ui --port {port + 1}`"
        ) from exc
    reach = "this machine only" if host in ("127.0.0.1", "localhost", "::1") else "the network"
    print(
        f"Pivot UI for {project.root} at {httpd.url} (read-only, {reach}; Ctrl-C to stop)",
        flush=True,
    )
    try:
        httpd.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        print("pivot: ui stopped", file=sys.stderr)
    finally:
        httpd.server_close()
        project.close()
    return 0
