import json as json_mod
import pathlib
from typing import Annotated, Any

import cyclopts

from pivot.cli import arguments

plots_app = cyclopts.App(name="plots", help="Render plots into one offline HTML page.")

OutDir = Annotated[
    pathlib.Path, cyclopts.Parameter(name=["--out", "-o"], help="Directory for index.html.")
]


@plots_app.command
def show(
    *targets: str,
    out: OutDir = pathlib.Path("pivot_plots"),
    open: bool = False,
    json: bool = False,
    session: arguments.Injected,
) -> int:
    """Render the workspace's plots into DIR/index.html (works offline: no script, no CDN).

    Parameters
    ----------
    targets
        `Plot` outputs, image outputs (PNG/JPEG/SVG), data files or stage names; default: all.
    open
        Open the page in the default web browser.
    json
        Print `{"html": path, "plots": [titles]}` instead of a sentence.
    """
    from pivot.app import compare

    service = session.container().compare_service()
    sources = service.sources(compare.PLOT, targets)
    return _write(session, [service.snapshot(None)], sources, out, open=open, json=json)


@plots_app.command
def diff(
    *revisions_and_targets: str,
    out: OutDir = pathlib.Path("pivot_plots"),
    open: bool = False,
    json: bool = False,
    session: arguments.Injected,
) -> int:
    """Overlay each plot from several revisions in one chart, one colour per revision.

    `pivot plots diff` compares HEAD with the workspace; `pivot plots diff A` compares A with the
    workspace; `pivot plots diff A B C` compares those revisions. Plot data of a revision is read
    from git, or from the cache by the hash in that revision's lock record.

    Parameters
    ----------
    revisions_and_targets
        `[REVS…] [TARGETS…]`: git revisions, then plot outputs, files or stage names.
    open
        Open the page in the default web browser.
    json
        Print `{"html": path, "revisions": [...], "plots": [titles]}`.
    """
    from pivot.app import compare

    service = session.container().compare_service()
    revs, targets = service.split(compare.PLOT, revisions_and_targets, max_revs=64)
    snapshots = [service.snapshot(r) for r in (revs or ["HEAD"])]
    if len(revs) <= 1:
        snapshots.append(service.snapshot(None))
    sources = service.sources(compare.PLOT, targets)
    return _write(session, snapshots, sources, out, open=open, json=json)


def _write(
    session: Any, snapshots: list[Any], sources: list[Any], out: pathlib.Path, **flags: bool
) -> int:
    from pivot.app import compare

    if not sources:
        print("No plots: declare outputs with outputs.Plot(..., x=, y=) or name data files.")
        return 0
    found = compare.figures(snapshots, sources)
    page = (session.cwd / out / "index.html").resolve()
    labels = [s.label for s in snapshots]
    title = "Pivot plots" + (f": {' vs '.join(labels)}" if len(labels) > 1 else "")
    session.container().plot_page().write(page, title, [(f.title, f.spec, f.images) for f in found])
    if flags["json"]:
        body = {"html": str(page), "revisions": labels, "plots": [f.title for f in found]}
        print(json_mod.dumps(body, indent=2, ensure_ascii=False))
    else:
        print(f"{len(found)} plot{'s' if len(found) != 1 else ''} → {page}")
    if flags["open"]:
        import webbrowser

        webbrowser.open(page.as_uri())
    return 0
