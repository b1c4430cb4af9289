import dataclasses
import enum
import statistics


class Tool(enum.StrEnum):
    """A column of the report."""

    PIVOT_PYTHON = "Pivot (pipeline.py)"
    PIVOT_CMD = "Pivot (pivot.yaml cmd)"
    DVC = "DVC"
    LOWER_BOUND = "lower bound"


class Measure(enum.StrEnum):
    """A row of the per-size table."""

    COLD = "cold run"
    NOOP = "no-op run"
    STATUS = "status, nothing changed"
    LEAF = "incremental: leaf input changed"
    HELPER = "incremental: helper function edited"
    LOCK_WRITTEN = "lock-file bytes written (cold run)"
    LOCK_ON_DISK = "lock-file bytes on disk"
    OVERHEAD = "per-stage overhead (cold − lower bound) / N"


class Extra(enum.StrEnum):
    """Measures outside the per-size table."""

    PARALLEL_SERIAL = "fan-out, `pivot run -j 1`"
    PARALLEL_CORES = "fan-out, `pivot run -j <cores>`"
    PARALLEL_BODIES = "fan-out, stage bodies in one process"
    SPEEDUP = "parallel speedup (-j 1 ÷ -j <cores>)"
    READ = "raw read throughput"
    HASH = "hash throughput"
    HASH_RATIO = "hash ÷ raw read"
    HELP = "`pivot --help`"
    PYTHON_STARTUP = "`python -c pass` (interpreter floor)"
    IMPORT_PIVOT = "`python -c 'import pivot'`"
    IMPORT_HEAVY = "heavy modules after `import pivot`"
    HELP_HEAVY = "heavy modules loaded by `pivot --help`"
    NOOP_SCALING = "no-op(1000) ÷ no-op(176)"
    DASK_COLD_SMALL = "dask: cold run of 10 trivial stages, Pivot starts a 2-worker LocalCluster"
    DASK_OVERHEAD = "dask: per-stage overhead, trivial stages (marginal, 10 → 50 stages)"
    DASK_CPU_STAGES = "dask: 8 × 1 s CPU stages on a running 2-worker cluster, first start → end"
    DASK_CPU_COMMAND = "dask: 8 × 1 s CPU stages on a running 2-worker cluster, whole command"
    DASK_CPU_LOCAL = "dask: 8 × 1 s CPU stages, Pivot starts a 2-worker LocalCluster, whole command"
    DASK_CPU_LOKY = "loky (default executor): 8 × 1 s CPU stages, -j 2, whole command"


class Unit(enum.StrEnum):
    SECONDS = "s"
    BYTES = "B"
    RATIO = "×"
    BYTES_PER_SECOND = "B/s"


@dataclasses.dataclass(frozen=True, slots=True)
class Sample:
    """Repeated measurements of one quantity."""

    values: tuple[float, ...]
    unit: Unit = Unit.SECONDS
    reruns: int | None = None
    """How many stages actually ran (incremental and no-op measures), when known."""

    @property
    def median(self) -> float:
        return statistics.median(self.values)

    @property
    def low(self) -> float:
        return min(self.values)

    @property
    def high(self) -> float:
        return max(self.values)


Cell = Sample | str
"""A measurement, or a short note saying why there is none (error, not applicable)."""


@dataclasses.dataclass
class Results:
    """Everything one benchmark run measured, filled in as it goes."""

    meta: dict[str, str]
    sizes: list[int] = dataclasses.field(default_factory=list[int])
    tools: list[Tool] = dataclasses.field(default_factory=list[Tool])
    grid: dict[tuple[int, Measure, Tool], Cell] = dataclasses.field(
        default_factory=dict[tuple[int, Measure, Tool], Cell]
    )
    extras: dict[Extra, Cell] = dataclasses.field(default_factory=dict[Extra, Cell])
    notes: list[str] = dataclasses.field(default_factory=list[str])
    profiles: list[tuple[str, str]] = dataclasses.field(default_factory=list[tuple[str, str]])
    sections: list[tuple[str, str]] = dataclasses.field(default_factory=list[tuple[str, str]])
    """Whole report sections (title, markdown) from other suites, e.g. transfers."""

    def get(self, n: int, measure: Measure, tool: Tool) -> Sample | None:
        cell = self.grid.get((n, measure, tool))
        return cell if isinstance(cell, Sample) else None

    def extra(self, key: Extra) -> Sample | None:
        cell = self.extras.get(key)
        return cell if isinstance(cell, Sample) else None
