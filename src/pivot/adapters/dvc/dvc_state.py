import dataclasses
import hashlib
import json
import os
import pathlib
import posixpath
from collections.abc import Iterator, Mapping
from typing import Any

from pivot.adapters.discovery import interpolation, tracked_params, yaml_document
from pivot.adapters.dvc import convert
from pivot.domain import errors
from pivot.ports import content_cache, hasher

DIR_SUFFIX = ".dir"
_CHUNK = 1 << 20


def md5_file(path: pathlib.Path) -> str:
    """DVC 3's hash of a file: the md5 of its bytes."""
    digest = hashlib.md5(usedforsecurity=False)
    with path.open("rb") as f:
        while chunk := f.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _walk(directory: pathlib.Path) -> Iterator[pathlib.Path]:
    for base, dirs, files in os.walk(directory):
        dirs[:] = [d for d in dirs if d != ".dvc"]
        for name in files:
            yield pathlib.Path(base, name)


def md5_tree(entries: list[tuple[str, str]]) -> str:
    """DVC 3's hash of a directory: the md5 of its `.dir` manifest, plus `.dir`."""
    manifest = [{"md5": md5, "relpath": rel} for rel, md5 in sorted(entries)]
    return hashlib.md5(json.dumps(manifest, sort_keys=True).encode()).hexdigest() + DIR_SUFFIX


def workspace_md5(path: pathlib.Path) -> str | None:
    """What DVC would record for `path` now; None when it does not exist."""
    if path.is_dir():
        return md5_tree([(p.relative_to(path).as_posix(), md5_file(p)) for p in _walk(path)])
    return md5_file(path) if path.is_file() else None


@dataclasses.dataclass(frozen=True, slots=True)
class Outcome:
    """What carrying DVC's state over found."""

    up_to_date: list[str]
    """Stages whose dvc.lock matches the workspace: recorded as Pivot lock records."""
    stale: list[str]
    """`stage: why` for every stage left to run."""
    imported: int
    """DVC cache objects now in Pivot's cache."""
    corrupt: list[str]
    """DVC cache objects whose bytes do not match their md5: not imported."""
    data: list[pathlib.Path]
    """Paths of `.dvc` files' data, ready to be tracked (`.pvt`)."""
    remotes: list[str]
    """DVC remotes of `.dvc/config`, to be set up as Pivot remotes by hand."""


class DvcState:
    """Reads a DVC project's dvc.lock, `.dvc` files and cache; fills Pivot's cache from it."""

    def __init__(self, cache: content_cache.ContentCache, hasher_: hasher.Hasher) -> None:
        self._cache = cache
        self._hasher = hasher_

    def carry_over(
        self, root: pathlib.Path, stages: list[convert.DvcStage], *, dry_run: bool = False
    ) -> Outcome:
        self._root = root
        self._dvc_cache = _cache_dir(root)
        self._imported: dict[str, str] = {}
        self._corrupt: list[str] = []
        lock = _read_lock(root / "dvc.lock")
        up_to_date: list[str] = []
        stale: list[str] = []
        for st in stages:
            entry = lock.get(st.name)
            why = "not in dvc.lock" if entry is None else self._mismatch(st, entry)
            if why:
                stale.append(f"{st.name}: {why}")
            else:
                up_to_date.append(st.name)
            if entry is not None and not dry_run:
                for out in entry.get("outs") or []:
                    self._import(str(out.get("md5") or ""))
        data: list[pathlib.Path] = []
        for dvc_file in _dvc_files(root):
            for out in _read_yaml(dvc_file).get("outs") or []:
                target = dvc_file.parent / str(out.get("path"))
                md5 = str(out.get("md5") or "")
                digest = None if dry_run else self._import(md5)
                if not target.exists() and digest is not None:
                    modes = (content_cache.LinkMode.REFLINK, content_cache.LinkMode.COPY)
                    self._cache.materialize(digest, target, modes)
                if target.exists():
                    data.append(target)
        return Outcome(up_to_date, stale, len(self._imported), self._corrupt, data, _remotes(root))

    # -- dvc.lock ----------------------------------------------------------------------------

    def _mismatch(self, st: convert.DvcStage, entry: Mapping[str, Any]) -> str:
        wdir = self._root / st.wdir
        for file, values in (entry.get("params") or {}).items():
            reader = tracked_params.ParamsFiles(wdir)
            for key, value in (values or {}).items():
                try:
                    current = reader.values([{str(file): [str(key)]}])
                    if interpolation.lookup(current, str(key)) != value:
                        return f"param {key} changed"
                except errors.PivotError:
                    return f"param {key} is gone from {file}"
        locked_cmd = entry.get("cmd")
        locked = [str(c) for c in locked_cmd] if isinstance(locked_cmd, list) else [locked_cmd]  # pyright: ignore[reportUnknownVariableType, reportUnknownArgumentType]
        if st.rendered is None or locked != st.rendered:
            return "command differs from dvc.lock"
        declared = {
            "deps": {posixpath.normpath(d) for d in st.deps},
            "outs": {posixpath.normpath(p) for entries in st.outs.values() for p, _ in entries},
        }
        for section in ("deps", "outs"):
            recorded = entry.get(section) or []
            paths = {posixpath.normpath(str(item.get("path"))) for item in recorded}
            if paths != declared[section]:
                return f"{section} differ from dvc.lock"
            for item in recorded:
                path = str(item.get("path"))
                now = workspace_md5(wdir / path)
                if now is None:
                    return f"'{path}' is missing"
                if now != item.get("md5"):
                    return f"'{path}' differs from dvc.lock"
        return ""

    # -- cache -------------------------------------------------------------------------------

    def _object(self, md5: str) -> pathlib.Path:
        return self._dvc_cache / md5[:2] / md5[2:]

    def _import(self, md5: str) -> str | None:
        """Pivot's digest of the DVC object `md5`, put into Pivot's cache; None if unusable."""
        if not md5:
            return None
        if md5 in self._imported:
            return self._imported[md5]
        source = self._object(md5)
        if not source.is_file():
            return None
        if md5.endswith(DIR_SUFFIX):
            digest = self._import_tree(md5, source)
        elif md5_file(source) != md5:
            self._corrupt.append(_shown(source, self._root))
            return None
        else:
            digest = self._hasher.file_digest(source)
            self._cache.put_file(source, digest, link=True)
        if digest is not None:
            self._imported[md5] = digest
        return digest

    def _import_tree(self, md5: str, source: pathlib.Path) -> str | None:
        try:
            listed = json.loads(source.read_bytes())
            entries = [(str(e["relpath"]), str(e["md5"])) for e in listed]
        except (ValueError, KeyError, TypeError):
            self._corrupt.append(_shown(source, self._root))
            return None
        if md5_tree(entries) != md5:
            self._corrupt.append(_shown(source, self._root))
            return None
        manifest: dict[str, str] = {}
        for rel, member in entries:
            digest = self._import(member)
            if digest is None:
                return None
            manifest[rel] = digest
        digest = self._hasher.tree_digest(sorted(manifest.items()))
        self._cache.put_tree(manifest, digest)
        return digest


def _remotes(root: pathlib.Path) -> list[str]:
    import configparser

    config = configparser.ConfigParser()
    for name in ("config", "config.local"):
        config.read(root / ".dvc" / name)
    found: list[str] = []
    for section in config.sections():
        # DVC writes sections as ['remote "name"'] (configobj quoting).
        bare = section.strip("'")
        if bare.startswith("remote "):
            name = bare.removeprefix("remote ").strip('"')
            url = config[section].get("url", "")
            found.append(
                f".dvc/config: remote '{name}' ({url}) is not set up in Pivot; add it with "
                + f"`pivot remote add {name} URL` (Pivot stores its own objects: `pivot push`)"
            )
    return found


def _shown(path: pathlib.Path, root: pathlib.Path) -> str:
    return os.path.relpath(path, root)


def _cache_dir(root: pathlib.Path) -> pathlib.Path:
    # DVC 3 keeps md5 objects under files/md5/; DVC 2 at the top of the cache.
    base = root / ".dvc" / "cache"
    return base / "files" / "md5" if (base / "files" / "md5").is_dir() else base


def _read_yaml(path: pathlib.Path) -> dict[str, Any]:
    data = yaml_document.read(path).data
    return data if isinstance(data, dict) else {}  # pyright: ignore[reportUnknownVariableType]


def _read_lock(path: pathlib.Path) -> dict[str, dict[str, Any]]:
    if not path.is_file():
        return {}
    stages = _read_yaml(path).get("stages")
    return stages if isinstance(stages, dict) else {}  # pyright: ignore[reportUnknownVariableType]


def _dvc_files(root: pathlib.Path) -> list[pathlib.Path]:
    found: list[pathlib.Path] = []
    for base, dirs, files in os.walk(root):
        dirs[:] = [d for d in dirs if not d.startswith(".") and d not in {"node_modules"}]
        found.extend(pathlib.Path(base, n) for n in files if n.endswith(".dvc"))
    return sorted(found)
