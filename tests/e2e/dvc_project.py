"""A DVC project of the usual shape, and the DVC command the tests compare Pivot with."""

import hashlib
import os
import pathlib
import subprocess
import textwrap

import pytest

from benchmarks import dvc_env

PREPARE = """
import pathlib
import sys

split, seed = float(sys.argv[1]), int(sys.argv[2])
rows = pathlib.Path("data/raw.csv").read_text().splitlines()[1:]
rows = sorted(rows, key=lambda r: (sum(map(ord, r)) * seed) % 97)
cut = int(len(rows) * (1 - split))
out = pathlib.Path("data/prepared")
out.mkdir(parents=True, exist_ok=True)
(out / "train.csv").write_text("\\n".join(rows[:cut]) + "\\n")
(out / "test.csv").write_text("\\n".join(rows[cut:]) + "\\n")
"""

FEATURIZE = """
import pathlib
import sys

scale = float(sys.argv[1])
out = pathlib.Path("data/features")
out.mkdir(parents=True, exist_ok=True)
for part in ("train", "test"):
    rows = pathlib.Path(f"data/prepared/{part}.csv").read_text().split()
    values = [float(r.split(",")[1]) * scale for r in rows]
    (out / f"{part}.txt").write_text("".join(f"{v:.4f}\\n" for v in values))
"""

TRAIN = """
import pathlib
import sys

epochs, lr = int(sys.argv[1]), float(sys.argv[2])
values = [float(v) for v in pathlib.Path("data/features/train.txt").read_text().split()]
weight = 0.0
for _ in range(epochs):
    weight += lr * (sum(values) / len(values) - weight)
pathlib.Path("model.txt").write_text(f"{weight:.6f}\\n")
"""

EVALUATE = """
import json
import pathlib

weight = float(pathlib.Path("model.txt").read_text())
values = [float(v) for v in pathlib.Path("data/features/test.txt").read_text().split()]
error = sum(abs(v - weight) for v in values) / len(values)
pathlib.Path("eval/plots").mkdir(parents=True, exist_ok=True)
pathlib.Path("eval/metrics.json").write_text(json.dumps({"mae": round(error, 6)}) + "\\n")
rows = "".join(f"{i},{abs(v - weight):.4f}\\n" for i, v in enumerate(values))
pathlib.Path("eval/plots/errors.csv").write_text("step,error\\n" + rows)
"""

REPORT = """
import pathlib
import sys

region, factor = sys.argv[1], float(sys.argv[2])
weight = float(pathlib.Path("model.txt").read_text())
pathlib.Path("reports").mkdir(exist_ok=True)
pathlib.Path(f"reports/{region}.txt").write_text(f"{region}: {weight * factor:.4f}\\n")
"""

SUMMARY = """
import pathlib

metrics = pathlib.Path("../eval/metrics.json").read_text()
pathlib.Path("summary.txt").write_text("summary " + metrics)
"""

PARAMS = """\
prepare:
  split: 0.25
  seed: 3
featurize:
  scale: 2.0
train:
  epochs: 5
  lr: 0.5
  unused: 1
regions:
  us: 1.5
  uk: 0.5
"""

DVC_YAML = """\
stages:
  prepare:
    cmd: python scripts/prepare.py ${prepare.split} ${prepare.seed}
    deps: [scripts/prepare.py, data/raw.csv]
    params: [prepare.split, prepare.seed]
    outs: [data/prepared]
  featurize:
    cmd: python scripts/featurize.py ${featurize.scale}
    deps: [scripts/featurize.py, data/prepared]
    params: [featurize.scale]
    outs: [data/features]
  train:
    cmd: python scripts/train.py ${train.epochs} ${train.lr}
    deps: [scripts/train.py, data/features]
    params: [train.epochs, train.lr]
    outs: [model.txt]
  evaluate:
    cmd:
      - python scripts/evaluate.py
    deps: [scripts/evaluate.py, model.txt, data/features]
    metrics: [{eval/metrics.json: {cache: false}}]
    plots: [{eval/plots/errors.csv: {x: step, y: error}}]
  report:
    foreach: ${regions}
    do:
      cmd: python scripts/report.py ${key} ${item}
      deps: [scripts/report.py, model.txt]
      outs: ["reports/${key}.txt"]
  summary:
    wdir: sub
    cmd: python ../scripts/summary.py
    deps: [../scripts/summary.py, ../eval/metrics.json]
    outs: [summary.txt]
metrics: [eval/metrics.json]
plots:
  - eval/plots/errors.csv:
      x: step
      y: error
"""

RAW = "id,value\n" + "".join(f"{i},{(i * 37) % 101 / 10}\n" for i in range(40))

OUTPUTS = (
    "data/prepared/train.csv",
    "data/prepared/test.csv",
    "data/features/train.txt",
    "data/features/test.txt",
    "model.txt",
    "eval/metrics.json",
    "eval/plots/errors.csv",
    "reports/us.txt",
    "reports/uk.txt",
    "sub/summary.txt",
)


def write_project(root: pathlib.Path) -> None:
    files = {
        "scripts/prepare.py": PREPARE,
        "scripts/featurize.py": FEATURIZE,
        "scripts/train.py": TRAIN,
        "scripts/evaluate.py": EVALUATE,
        "scripts/report.py": REPORT,
        "scripts/summary.py": SUMMARY,
        "params.yaml": PARAMS,
        "dvc.yaml": DVC_YAML,
        "data/raw.csv": RAW,
    }
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip() if name.endswith(".py") else text)
    (root / "sub").mkdir(exist_ok=True)


class Dvc:
    """Runs the real `dvc` (installed into its own venv on first use)."""

    def __init__(self, env: dvc_env.DvcEnv) -> None:
        self.env = env

    def __call__(
        self, root: pathlib.Path, *args: str, python: pathlib.Path | None = None
    ) -> subprocess.CompletedProcess[str]:
        """`dvc ARGS` in `root`; `python` is put first on PATH for the commands DVC runs."""
        first = python or self.env.bin_dir
        path = f"{first}{os.pathsep}{os.environ.get('PATH', '')}"
        done = subprocess.run(
            [str(self.env.dvc), *args],
            cwd=root,
            capture_output=True,
            text=True,
            env={**os.environ, "PATH": path, "DVC_NO_ANALYTICS": "1"},
            timeout=600,
            check=False,
        )
        assert done.returncode == 0, f"dvc {' '.join(args)} failed:\n{done.stdout}{done.stderr}"
        return done


def install(tmp_path_factory: pytest.TempPathFactory) -> Dvc:
    """DVC from benchmarks/.dvc-venv, pip-installed there on first use (needs PyPI)."""
    installed = dvc_env.ensure(log=tmp_path_factory.mktemp("dvc-install") / "install.log")
    if isinstance(installed, str):
        pytest.fail(installed)
    return Dvc(installed)


def md5_of(path: pathlib.Path) -> str:
    return hashlib.md5(path.read_bytes(), usedforsecurity=False).hexdigest()
