import dataclasses
import enum
from collections.abc import Mapping


class EntryKind(enum.StrEnum):
    STAGE = "stage"
    FUNCTION = "func"
    CLASS = "class"
    CONSTANT = "const"
    LOADER = "loader"
    PACKAGE = "pkg"
    SCRIPT = "script"


@dataclasses.dataclass(frozen=True, slots=True)
class Site:
    """Where a manifest entry is defined and how the stage reaches it."""

    kind: EntryKind
    qualname: str
    file: str
    line: int
    path: tuple[str, ...] = ()
    """Call path from the stage to the entry, stage first."""

    def describe(self) -> str:
        via = " → ".join(self.path)
        location = f"{self.file}:{self.line}" if self.file else ""
        return ": ".join(part for part in (via, location) if part)


@dataclasses.dataclass(frozen=True, slots=True)
class CodeManifest:
    """Digest of each piece of code a stage reaches, keyed `kind:qualified.name`."""

    entries: Mapping[str, str]
    sites: Mapping[str, Site] = dataclasses.field(default_factory=dict[str, Site])
    warnings: tuple[str, ...] = ()
