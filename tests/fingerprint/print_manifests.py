import json
import os
import pathlib
import sys
from typing import Any

from pivot.adapters.discovery import python_source
from pivot.adapters.fingerprint import ast_fingerprinter
from pivot.adapters.memory import state_store
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
    """Usage: print_manifests.py PROJECT OUT.json [--ignore-package-versions]."""
    root = pathlib.Path(argv[1]).resolve()
    out = pathlib.Path(argv[2])
    os.chdir(root)
    pipeline = python_source.PythonPipelineSource().load(root)
    fingerprinter = ast_fingerprinter.AstFingerprinter(
        state_store.MemoryStateStore(),
        root,
        ignore_package_versions="--ignore-package-versions" in argv,
    )
    result = {name: to_json(fingerprinter.fingerprint(st)) for name, st in pipeline.stages.items()}
    out.write_text(json.dumps(result, sort_keys=True, indent=1))


if __name__ == "__main__":
    main(sys.argv)
