import os
import pathlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pivot import container as container_mod


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

            options.setdefault("executor", os.environ.get("PIVOT_EXECUTOR", "loky"))
            self._container = container_mod.build(self.cwd, **options)
        return self._container

    def close(self) -> None:
        if self._container is not None:
            self._container.shutdown_resources()
