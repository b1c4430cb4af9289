"""Observations of a project's on-disk state, made from outside Pivot (no Pivot imports)."""

import json
import os
import pathlib

TEMP_MARKERS = (".pivot-tmp", ".pivot-new", ".pivot-old", ".pivot-copy", ".pivot-recv")


def snapshot(root: pathlib.Path, names: tuple[str, ...]) -> dict[str, bytes | None]:
    """Every file under `names` (files or directories), relative path → bytes (None: absent)."""
    found: dict[str, bytes | None] = {}
    for name in names:
        path = root / name
        if path.is_dir():
            for file in sorted(p for p in path.rglob("*") if p.is_file()):
                found[file.relative_to(root).as_posix()] = file.read_bytes()
        else:
            found[name] = path.read_bytes() if path.is_file() else None
    return found


def temp_files(root: pathlib.Path) -> list[str]:
    """Pivot temp files anywhere in the project, `.pivot/` and the cache included."""
    return sorted(
        os.path.relpath(os.path.join(parent, name), root)
        for parent, dirs, files in os.walk(root)
        for name in files + dirs
        if any(marker in name for marker in TEMP_MARKERS)
    )


def _cache_object(root: pathlib.Path, digest: str) -> pathlib.Path:
    return root / ".pivot" / "cache" / "files" / digest[:2] / digest[2:]


def unbacked_records(root: pathlib.Path) -> list[str]:
    """Cached outputs in lock records whose object (or a directory member) is not cached."""
    missing: list[str] = []
    for lock in sorted((root / ".pivot" / "stages").glob("*.lock")):
        record = json.loads(lock.read_text())
        for ident, out in record["outs"].items():
            if not out["cached"]:
                continue
            obj = _cache_object(root, out["hash"])
            if not obj.is_file():
                missing.append(f"{lock.name}: {ident} {out['hash']}")
                continue
            if out["hash"].endswith(".dir"):
                for member in json.loads(obj.read_text()).values():
                    if not _cache_object(root, member).is_file():
                        missing.append(f"{lock.name}: {ident} member {member}")
    return missing
