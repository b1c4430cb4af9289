import json
import os
import pathlib
import subprocess
import sys
import textwrap
import time
from collections.abc import Mapping
from typing import Any

_SCRIPT = pathlib.Path(__file__).with_name("print_manifests.py")

Manifests = dict[str, dict[str, Any]]
"""Stage name → {"entries": {key: digest}, "sites": {key: {...}}, "warnings": [...]}."""

_BEFORE: dict[str, Manifests] = {}


class Project:
    """A throwaway Pivot project on disk whose manifests are computed in fresh processes."""

    def __init__(self, root: pathlib.Path) -> None:
        self.root = root / "project"
        self.root.mkdir(parents=True, exist_ok=True)
        self._runs = 0
        self.last_output = b""
        """The last manifests as the interpreter wrote them."""
        self.last_stats: dict[str, int] = {}
        """The fingerprinter's counters in the last run with `--state=DIR`."""

    def write(self, files: Mapping[str, str]) -> None:
        for relative, text in files.items():
            path = self.root / relative
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(textwrap.dedent(text).lstrip("\n"))

    def edit(self, relative: str, old: str, new: str) -> None:
        path = self.root / relative
        text = path.read_text()
        assert text.count(old) == 1, f"{relative}: expected exactly one {old!r}"
        path.write_text(text.replace(old, new))

    def manifests(self, *args: str, env: Mapping[str, str] | None = None) -> Manifests:
        """Every stage's manifest, computed by a new interpreter through pipeline.py discovery."""
        self._runs += 1
        out = self.root.parent / f"manifests-{self._runs}.json"
        run_env = {**os.environ, **(env or {})}
        run_env.pop("PYTHONHASHSEED", None)
        completed = subprocess.run(
            [sys.executable, str(_SCRIPT), str(self.root), str(out), *args],
            capture_output=True,
            text=True,
            env=run_env,
            check=False,
        )
        assert completed.returncode == 0, completed.stderr
        stats = out.with_suffix(".stats.json")
        self.last_stats = json.loads(stats.read_text()) if stats.exists() else {}
        self.last_output = out.read_bytes()
        return json.loads(self.last_output)


def settle(root: pathlib.Path) -> None:
    """Age every file under `root` by a minute: files written a moment ago are not cached."""
    past = time.time() - 60
    for path in root.rglob("*"):
        if path.is_file():
            os.utime(path, (past, past))


def changed(before: Manifests, after: Manifests, stage: str) -> set[str]:
    """Manifest keys of `stage` whose digest differs, appeared or disappeared."""
    old, new = before[stage]["entries"], after[stage]["entries"]
    return {key for key in old.keys() | new.keys() if old.get(key) != new.get(key)}


def pipeline_py(*stages: str, module: str = "stages") -> str:
    """A pipeline.py registering `module.<name>` for each stage name."""
    lines = [
        "from pivot.pipeline import Pipeline",
        f"import {module}",
        "",
        'pipeline = Pipeline("fp")',
    ]
    lines += [f"pipeline.register({module}.{name})" for name in stages]
    return "\n".join(lines) + "\n"


def edited(
    tmp_path: pathlib.Path,
    files: Mapping[str, str],
    *edits: tuple[str, str, str],
    args: tuple[str, ...] = (),
) -> tuple[Manifests, Manifests]:
    """Manifests before and after applying (file, old, new) edits, each from a fresh process."""
    project = Project(tmp_path)
    project.write(files)
    # Manifests hold no absolute project paths, so a project written from the same files
    # has the same "before" manifests: compute them once per test process.
    key = json.dumps([sorted(files.items()), args])
    before = _BEFORE.get(key)
    if before is None:
        before = _BEFORE[key] = project.manifests(*args)
    for relative, old, new in edits:
        project.edit(relative, old, new)
    return before, project.manifests(*args)


def install_distribution(
    site: pathlib.Path, dist: str, version: str, module: str, source: str = "VALUE = 1\n"
) -> None:
    """Install (or upgrade) a minimal distribution providing `module` into a site directory."""
    package = site / module
    package.mkdir(parents=True, exist_ok=True)
    (package / "__init__.py").write_text(source)
    stem = dist.replace("-", "_")
    for old in site.glob(f"{stem}-*.dist-info"):
        for file in old.iterdir():
            file.unlink()
        old.rmdir()
    info = site / f"{stem}-{version}.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: {version}\n")
    (info / "top_level.txt").write_text(f"{module}\n")
