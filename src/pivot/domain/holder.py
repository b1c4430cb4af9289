import dataclasses
import json
from typing import Any


@dataclasses.dataclass(frozen=True, slots=True)
class Holder:
    """Who holds the project lock: the command a user would recognise and its process id."""

    command: str
    """As typed, without options: `pivot run`, `pivot gc`."""
    pid: int

    def __str__(self) -> str:
        return f"{self.command} (pid {self.pid})" if self.pid else self.command

    def to_json(self) -> str:
        return json.dumps({"command": self.command, "pid": self.pid}, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> "Holder | None":
        """None for anything that is not a holder record (a torn or foreign file)."""
        try:
            data: Any = json.loads(text)
        except ValueError:
            return None
        if not isinstance(data, dict):
            return None
        command, pid = data.get("command"), data.get("pid")  # pyright: ignore[reportUnknownMemberType, reportUnknownVariableType]
        if not isinstance(command, str) or not isinstance(pid, int):
            return None
        return cls(command, pid)


UNKNOWN = Holder("an earlier pivot command", 0)
"""A holder whose record was torn or unreadable."""
