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

LOGS = "logs"
"""`.pivot/logs/`: each stage's last-run log and the run's events."""

IGNORE_FILE = ".pivotignore"
"""Gitignore-syntax patterns (in the project root) that directory walks and discovery skip."""


def state_dir(directory: pathlib.Path) -> pathlib.Path:
    """`.pivot/` of a project root or pipeline directory."""
    return directory / STATE_DIR


def cache_dir(project_root: pathlib.Path) -> pathlib.Path:
    """The content-addressed cache."""
    return project_root / STATE_DIR / "cache"


def state_db(project_root: pathlib.Path) -> pathlib.Path:
    """The LMDB state store (hash memo, fingerprint and run cache); safe to delete."""
    return project_root / STATE_DIR / "state.lmdb"


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
    return project_root / STATE_DIR / "lock"


def project_lock_holder(project_root: pathlib.Path) -> pathlib.Path:
    """Who holds the project lock: `{"command": ..., "pid": ...}`, written atomically."""
    return project_root / STATE_DIR / "lock.holder"


def ignore_file(project_root: pathlib.Path) -> pathlib.Path:
    return project_root / IGNORE_FILE


def events_log(project_root: pathlib.Path) -> pathlib.Path:
    """JSON Lines events of the current (or last) run, read live by `pivot ui`; beside the
    stage logs, so the same `logs/.gitignore` keeps it out of git."""
    return logs_dir(project_root) / "events.jsonl"
