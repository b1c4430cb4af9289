from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the no-op fast path reads these names without importing pathlib
    import pathlib

STATE_DIR = ".pivot"
"""Pivot's directory in the project root and in every pipeline directory."""

GITIGNORE = (
    "# Pivot's local cache and state: never commit these.\n"
    + "/cache/\n/state.lmdb/\n/config.local.yaml\n/lock*\n"
)
"""`.pivot/.gitignore`: what in `.pivot/` stays out of git."""

STAGE_LOCKS = "stages"
"""`.pivot/stages/` of a pipeline directory: one lock record per stage."""

LOCK_SUFFIX = ".lock"
"""A stage's lock record is `<quoted stage name>.lock` in `STAGE_LOCKS`."""

CACHE = "cache"
"""`.pivot/cache/`: the content-addressed cache of the project root."""

OBJECTS = "files"
"""Content objects in the cache (and on remotes): `files/ab/cdef…` (`object_key`)."""

STATE_DB = "state.lmdb"
"""`.pivot/state.lmdb`: hash memo, fingerprints, run cache and snapshots; safe to delete."""

PROJECT_LOCK = "lock"
"""`.pivot/lock`: the project lock (filelock); `lock.holder` names who holds it."""

PROJECT_LOCK_HOLDER = "lock.holder"

LOGS = "logs"
"""`.pivot/logs/`: each stage's last-run log and the run's events."""

IGNORE_FILE = ".pivotignore"
"""Gitignore-syntax patterns (in the project root) that directory walks and discovery skip."""


def state_dir(directory: pathlib.Path) -> pathlib.Path:
    """`.pivot/` of a project root or pipeline directory."""
    return directory / STATE_DIR


def cache_dir(project_root: pathlib.Path) -> pathlib.Path:
    """The content-addressed cache."""
    return project_root / STATE_DIR / CACHE


def state_db(project_root: pathlib.Path) -> pathlib.Path:
    """The LMDB state store (hash memo, fingerprint and run cache); safe to delete."""
    return project_root / STATE_DIR / STATE_DB


def config_file(project_root: pathlib.Path) -> pathlib.Path:
    return project_root / STATE_DIR / "config.yaml"


def state_gitignore(directory: pathlib.Path) -> pathlib.Path:
    """`.pivot/.gitignore` (its text: `GITIGNORE`)."""
    return directory / STATE_DIR / ".gitignore"


def stage_locks_dir(directory: pathlib.Path) -> pathlib.Path:
    """Lock records of the stages of the pipeline in `directory`."""
    return directory / STATE_DIR / STAGE_LOCKS


def logs_dir(project_root: pathlib.Path) -> pathlib.Path:
    """Stage logs (`<stage>.log`, last run) and the events of the current or last run."""
    return project_root / STATE_DIR / LOGS


def project_lock(project_root: pathlib.Path) -> pathlib.Path:
    """The project lock every writing command holds (filelock)."""
    return project_root / STATE_DIR / PROJECT_LOCK


def project_lock_holder(project_root: pathlib.Path) -> pathlib.Path:
    """Who holds the project lock: `{"command": ..., "pid": ...}`, written atomically."""
    return project_root / STATE_DIR / PROJECT_LOCK_HOLDER


def ignore_file(project_root: pathlib.Path) -> pathlib.Path:
    return project_root / IGNORE_FILE


def events_log(project_root: pathlib.Path) -> pathlib.Path:
    """JSON Lines events of the current (or last) run, read live by `pivot ui`; beside the
    stage logs, so the same `logs/.gitignore` keeps it out of git."""
    return logs_dir(project_root) / "events.jsonl"


def object_key(digest: str) -> str:
    """Where a content object lives under the cache root, and its key on every remote."""
    return f"{OBJECTS}/{digest[:2]}/{digest[2:]}"


def digest_of(key: str) -> str | None:
    """The digest an `object_key` names (None for other keys)."""
    parts = key.split("/")
    if len(parts) != 3 or parts[0] != OBJECTS or len(parts[1]) != 2:
        return None
    return parts[1] + parts[2]
