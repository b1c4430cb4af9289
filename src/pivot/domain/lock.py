from typing import Any, TypedDict

SCHEMA_VERSION = 1


class OutRecord(TypedDict):
    path: str
    """Relative to the pipeline root, POSIX separators."""
    hash: str
    kind: str
    cached: bool


class LockRecord(TypedDict):
    """What a stage's last successful run consumed and produced (one JSON file per stage)."""

    schema_version: int
    stage: str
    code: dict[str, str]
    params: dict[str, Any]
    deps: dict[str, str]
    """Dependency path (relative to the pipeline root) → content digest."""
    outs: dict[str, OutRecord]
    """Artifact identity (`train`, `train:model`) → output record."""
