from typing import Annotated, Literal

import cyclopts

from pivot.cli import arguments, output


def checkout(
    *targets: str,
    mode: Literal["hardlink", "symlink", "copy", "reflink"] | None = None,
    force: Annotated[bool, cyclopts.Parameter(name=["--force", "-f"])] = False,
    only_missing: bool = False,
    verify: bool = False,
    no_wait: arguments.NoWait = False,
    json: arguments.Json = False,
    session: arguments.Injected,
) -> int:
    """Restore stage outputs (from their lock records) and tracked files from the cache.

    Cache objects are verified when they enter the cache, so checkout trusts them: an object
    is re-hashed only when it shows signs of change (writable, or hard-linked into a
    workspace), and never placed if that fails. `--verify` re-hashes every object first. A
    progress bar shows the files placed (and bytes re-hashed) on a terminal.

    Parameters
    ----------
    targets
        Stage outputs (`train`, `train:model`) or tracked paths; default: everything.
    mode
        How to place files: tried first, then the configured order ($PIVOT_LINK_MODES or
        `cache.link_modes` in .pivot/config.yaml; default reflink, copy). hardlink and
        symlink share bytes with the cache: an edit through them is caught (such objects are
        re-hashed before reuse), but the cached copy is lost.
    force
        Overwrite files that differ from the cache.
    only_missing
        Restore only what is missing; leave modified files alone without complaint.
    verify
        Re-hash every cache object before placing it (slower; catches silent corruption such
        as bit rot, as `pivot cache verify` does for the whole cache).
    """
    from pivot.app import checkout as checkout_app
    from pivot.ports import content_cache

    with (
        session.writing("pivot checkout", no_wait=no_wait) as container,
        output.progress_bar("checking out") as progress,
    ):
        options = checkout_app.CheckoutOptions(
            targets=targets,
            mode=None if mode is None else content_cache.LinkMode(mode),
            fallback=container.link_modes(),
            force=force,
            only_missing=only_missing,
            verify=verify,
        )
        result = container.checkout_service().checkout(
            container.pipeline_if_any(), options, cwd=session.cwd, progress=progress
        )
    if json:
        output.print_json(
            {
                "restored": [
                    {"target": label, "mode": str(used)} for label, used in result.restored
                ],
                "unchanged": list(result.unchanged),
                "kept": list(result.kept),
                "skipped": list(result.skipped),
            }
        )
        return 0
    for label, used in result.restored:
        output.say(f"restored ({used}): {label}")
    for label in result.skipped:
        output.say(f"skipped: {label}")
    for path in result.kept:
        output.say(f"kept (you changed it; --force overwrites it): {path}")
    output.say(
        f"{len(result.restored):,} restored, {len(result.unchanged):,} already up to date"
        + (f", {len(result.kept):,} kept" if result.kept else "")
        + (f", {len(result.skipped):,} skipped" if result.skipped else "")
        + "."
    )
    return 0
