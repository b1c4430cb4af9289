"""The pipeline the kill campaign runs: a large output, a directory output, an uncached one."""

STAGES = """
import hashlib
import pathlib
from typing import Annotated

from pivot import loaders, outputs

BIG_MIB = 6


def big(
    seed: Annotated[str, outputs.Dep("seed.txt", loaders.Text())],
) -> Annotated[pathlib.Path, outputs.Out("big.bin", loaders.PathOnly())]:
    path = pathlib.Path("big.bin")
    block = hashlib.sha512(seed.encode()).digest() * 16384  # 1 MiB
    with open(path, "wb") as f:
        for i in range(BIG_MIB):
            f.write(bytes([i]) + block[1:])
    return path


def shards(
    data: Annotated[pathlib.Path, outputs.Dep("big.bin", loaders.PathOnly())],
) -> Annotated[dict, outputs.DirectoryOut("shards", loaders.Text())]:
    raw = data.read_bytes()
    step = len(raw) // 48
    return {
        f"{'even' if i % 2 == 0 else 'odd'}/part{i:02}.txt":
            hashlib.sha256(raw[i * step:(i + 1) * step]).hexdigest() * 64
        for i in range(48)
    }


def summary(
    parts: Annotated[pathlib.Path, outputs.Dep("shards", loaders.PathOnly())],
) -> Annotated[str, outputs.Out("summary.txt", loaders.Text(), cache=False)]:
    files = sorted(p for p in parts.rglob("*") if p.is_file())
    return "".join(f"{p.relative_to(parts).as_posix()} {len(p.read_text())}\\n" for p in files)


def report(
    text: Annotated[str, outputs.Dep("summary.txt", loaders.Text())],
) -> Annotated[dict, outputs.Metric("metrics.json", loaders.JSON())]:
    return {"lines": len(text.splitlines()), "chars": len(text)}
"""

PIPELINE = """
import stages

from pivot.pipeline import Pipeline

pipeline = Pipeline("faults")
pipeline.register(stages.big)
pipeline.register(stages.shards)
pipeline.register(stages.summary)
pipeline.register(stages.report)
"""

OUTPUTS = ("big.bin", "shards", "summary.txt", "metrics.json")
