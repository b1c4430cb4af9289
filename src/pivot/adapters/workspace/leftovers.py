import os
import pathlib
import re

from pivot.adapters import fs

# Every temp name Pivot writes: `.NAME.pivot-tmp-<hex>` (fs.temp_sibling, track),
# `.NAME.pivot-copy-<hex>` (IncrementalOut, make_private), `.lock.holder.<random>.pivot-tmp`
# (project lock).
_TEMP = re.compile(r"\..+\.pivot-(?:tmp|new|old|copy|recv)(?:-[0-9a-f]+)?")
_NEVER_ENTERED = frozenset({".git", "state.lmdb"})


def sweep(project_root: pathlib.Path) -> list[pathlib.Path]:
    """Delete the temp files and directories a killed Pivot command left anywhere in the
    project (the cache included); call with the project lock held. Returns what was removed."""
    removed: list[pathlib.Path] = []
    for parent, dirs, files in os.walk(project_root):
        for name in (*dirs, *files):
            if _TEMP.fullmatch(name):
                path = pathlib.Path(parent, name)
                fs.remove_path(path)
                removed.append(path)
        # os.walk does not follow symlinked directories, so the walk stays in the project.
        dirs[:] = [d for d in dirs if d not in _NEVER_ENTERED and not _TEMP.fullmatch(d)]
    return removed
