import dataclasses

SHARED_INPUT = "data/shared.txt"
LEAF_INPUT = "data/leaf.txt"
WIDTH = 4
"""Stages per layer: the chain is about N / WIDTH long and each layer can run in parallel."""


@dataclasses.dataclass(frozen=True, slots=True)
class StageShape:
    """One synthetic stage: its name, the files it reads and the one file it writes."""

    name: str
    deps: tuple[str, ...]
    out: str
    uses_helper: bool = False


@dataclasses.dataclass(frozen=True, slots=True)
class ProjectShape:
    """A synthetic pipeline in topological order."""

    stages: tuple[StageShape, ...]
    inputs: tuple[str, ...]

    @property
    def size(self) -> int:
        return len(self.stages)

    @property
    def leaf_consumer(self) -> StageShape:
        """The one stage that reads the leaf input."""
        return next(s for s in self.stages if LEAF_INPUT in s.deps)

    @property
    def helper_user(self) -> StageShape:
        """The one stage whose body calls the editable helper function."""
        return next(s for s in self.stages if s.uses_helper)


def stage_name(index: int) -> str:
    return f"s{index:04d}"


def out_path(index: int) -> str:
    return f"out/{stage_name(index)}.txt"


def layered(n: int) -> ProjectShape:
    """N stages in layers of WIDTH: each stage fans in from two stages of the layer before.

    Layer 0 reads the shared input; the last stage (a sink) also reads the leaf input, and the
    stage before it (another sink) calls the helper, so each incremental change re-runs one stage.
    """
    if n < 2:
        raise ValueError(f"a synthetic project needs at least 2 stages, got {n}")
    stages: list[StageShape] = []
    for index in range(n):
        layer, slot = divmod(index, WIDTH)
        if layer == 0:
            deps: tuple[str, ...] = (SHARED_INPUT,)
        else:
            prev_start = (layer - 1) * WIDTH
            a = prev_start + slot
            b = prev_start + (slot + 1) % WIDTH
            deps = tuple(dict.fromkeys((out_path(a), out_path(b))))
        if index == n - 1:
            deps = (*deps, LEAF_INPUT)
        stages.append(
            StageShape(stage_name(index), deps, out_path(index), uses_helper=index == n - 2)
        )
    return ProjectShape(tuple(stages), (SHARED_INPUT, LEAF_INPUT))


def fan_out(n: int) -> ProjectShape:
    """N independent CPU-bound stages, all reading the shared input."""
    stages = tuple(
        StageShape(stage_name(i), (SHARED_INPUT,), out_path(i), uses_helper=False) for i in range(n)
    )
    return ProjectShape(stages, (SHARED_INPUT,))
