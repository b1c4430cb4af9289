import contextlib
import os
import pathlib
import sys
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pivot import container as container_mod
    from pivot.domain import holder as holder_mod


EXECUTORS = ("loky", "inline", "dask")


class Session:
    """Per-invocation state handed to every command; builds the container on first use."""

    def __init__(self, cwd: pathlib.Path, *, debug: bool = False) -> None:
        self.cwd = cwd
        self.debug = debug
        self._container: container_mod.Container | None = None

    def container(self, **options: Any) -> "container_mod.Container":
        """The container, built on first use with `options` (see `pivot.container.build`)."""
        if self._container is None:
            # Imported here: dependency_injector and the adapters are not needed for --help.
            from pivot import container as container_mod

            name = self.executor_name()
            if name is not None:
                options.setdefault("executor", name)
            self._container = container_mod.build(self.cwd, **options)
        return self._container

    def executor_name(self) -> str | None:
        """$PIVOT_EXECUTOR, checked; None leaves the choice to `run.executor` (default loky)."""
        name = os.environ.get("PIVOT_EXECUTOR")
        if name is None:
            return None
        if name not in EXECUTORS:
            from pivot.domain import errors

            raise errors.PivotError(
                f"PIVOT_EXECUTOR={name!r} is not an executor; use one of: " + ", ".join(EXECUTORS)
            )
        return name

    @contextlib.contextmanager
    def writing(
        self, command: str, *, no_wait: bool = False, **options: Any
    ) -> Iterator["container_mod.Container"]:
        """The container, with the project lock held for the block (every writing command).

        `command` names the holder for other commands (`pivot run`); when another writer holds
        the lock, say so on stderr and wait — or, with `no_wait`, fail at once.
        """
        from pivot.domain import holder as holder_mod

        container = self.container(**options)
        me = holder_mod.Holder(command, os.getpid())
        with container.project_lock().hold(
            me, wait=not no_wait, on_wait=_say_waiting
        ) as interrupted:
            if interrupted is not None:
                removed = container.sweep_leftovers()
                if removed:
                    print(
                        f"pivot: {interrupted} did not finish; removed the {len(removed)} "
                        + "temp file(s) it left",
                        file=sys.stderr,
                    )
            yield container

    def close(self) -> None:
        if self._container is not None:
            self._container.shutdown_resources()


def _say_waiting(current: "holder_mod.Holder | None") -> None:
    who = current or "another pivot command"
    print(f"pivot: waiting for {who} to finish (it holds the project lock) …", file=sys.stderr)
