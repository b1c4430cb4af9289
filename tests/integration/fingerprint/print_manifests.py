import dataclasses
import json
import os
import pathlib
import sys
from typing import Any

from pivot.adapters.discovery import python_source, yaml_source
from pivot.adapters.fingerprint import ast_fingerprinter
from pivot.adapters.memory import state_store
from pivot.adapters.state import lmdb_state_store
from pivot.app import observe
from pivot.domain import manifest


def to_json(code: manifest.CodeManifest) -> dict[str, Any]:
    return {
        "entries": dict(code.entries),
        "sites": {
            key: {
                "kind": str(site.kind),
                "qualname": site.qualname,
                "file": site.file,
                "line": site.line,
                "path": list(site.path),
                "describe": site.describe(),
            }
            for key, site in code.sites.items()
        },
        "warnings": list(code.warnings),
    }


def main(argv: list[str]) -> None:
    """Usage: print_manifests.py PROJECT OUT.json [--ignore-package-versions] [--state=DIR].

    The pipeline is the project's `pivot.yaml` if it has one, else its `pipeline.py`.

    With --state, manifests are cached in an LMDB state store at DIR, and the fingerprinter's
    counters are written next to OUT.json (`OUT.stats.json`).
    """
    root = pathlib.Path(argv[1]).resolve()
    out = pathlib.Path(argv[2])
    state_dirs = [a.removeprefix("--state=") for a in argv if a.startswith("--state=")]
    os.chdir(root)
    source = (
        yaml_source.YamlPipelineSource()
        if (root / "pivot.yaml").exists()
        else python_source.PythonPipelineSource()
    )
    pipeline = source.load(root)
    fingerprinter = ast_fingerprinter.AstFingerprinter(
        lmdb_state_store.LmdbStateStore(pathlib.Path(state_dirs[0]))
        if state_dirs
        else state_store.MemoryStateStore(),
        root,
        ignore_package_versions="--ignore-package-versions" in argv,
    )
    result = {
        name: to_json(observe.code_manifest(fingerprinter, st))
        for name, st in pipeline.stages.items()
    }
    out.write_text(json.dumps(result, sort_keys=True, indent=1))
    if state_dirs:
        stats = dataclasses.asdict(fingerprinter.stats)
        out.with_suffix(".stats.json").write_text(json.dumps(stats))


if __name__ == "__main__":
    main(sys.argv)
