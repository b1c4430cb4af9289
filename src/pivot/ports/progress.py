from typing import Protocol


class Progress(Protocol):
    """Progress of one long operation, counted in files and bytes; totals may grow as work is found.

    Storage ports and use cases accept a `Progress` (default `NULL`) and call it from any thread;
    only the CLI renders it (a rich bar on a terminal, nothing in pipes).
    """

    def add_total(self, files: int = 0, nbytes: int = 0) -> None:
        """More work became known."""
        ...

    def advance(self, files: int = 0, nbytes: int = 0) -> None:
        """Work finished since the last call."""
        ...


class NullProgress:
    """The default: reports nowhere and costs a method call."""

    def add_total(self, files: int = 0, nbytes: int = 0) -> None:
        pass

    def advance(self, files: int = 0, nbytes: int = 0) -> None:
        pass


NULL = NullProgress()
