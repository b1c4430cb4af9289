import dataclasses
import difflib
import pathlib
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from pivot.app import artifacts
from pivot.domain import errors, metrics, paths, pipeline, plots, specs
from pivot.ports import vcs

OpenSnapshot = Callable[[str | None], vcs.Snapshot]
"""A revision's snapshot; None opens the working tree."""


@dataclasses.dataclass(frozen=True, slots=True)
class Source:
    """A file compared across revisions: a declared stage output, or a plain project file."""

    path: str
    """Relative to the project root, POSIX separators."""
    output: artifacts.StageOutput | None = None

    def read(self, snapshot: vcs.Snapshot) -> bytes | None:
        if self.output is None:
            return snapshot.read(self.path)
        return snapshot.output(self.output.stage, self.output.out)


@dataclasses.dataclass(frozen=True, slots=True)
class Kind:
    """Which outputs a command compares (Metric outputs, or plots and images)."""

    noun: str
    suffixes: tuple[str, ...]
    accepts: Callable[[artifacts.StageOutput], bool]


def _is_metric(found: artifacts.StageOutput) -> bool:
    return found.out.kind == specs.OutKind.METRIC


METRIC = Kind("metric", metrics.SUFFIXES, _is_metric)


class CompareService:
    """Resolves targets to files and reads them from the workspace and from revisions."""

    def __init__(
        self,
        project_root: pathlib.Path,
        cwd: pathlib.Path,
        pipe: pipeline.Pipeline,
        open_snapshot: OpenSnapshot,
        load_yaml: Callable[[str], Any],
    ) -> None:
        self.root = project_root
        self._cwd = cwd
        self.pipe = pipe
        self._open = open_snapshot
        self.load_yaml = load_yaml

    def snapshot(self, rev: str | None) -> vcs.Snapshot:
        return self._open(rev)

    def sources(self, kind: Kind, targets: Sequence[str]) -> list[Source]:
        """The files `targets` name (stage names, identities, paths); all of `kind` if none."""
        declared = [o for o in artifacts.stage_outputs(self.pipe) if kind.accepts(o)]
        if not targets:
            return [self._source(o) for o in declared]
        found: dict[str, Source] = {}
        for target in targets:
            for source in self._resolve(kind, target, declared):
                found.setdefault(source.path, source)
        return list(found.values())

    def is_target(self, kind: Kind, token: str) -> bool:
        """Whether `token` names something `kind` compares (else it may be a revision)."""
        try:
            self._resolve(kind, token, [])
        except errors.PivotError:
            return False
        return True

    def split(
        self, kind: Kind, tokens: Sequence[str], max_revs: int
    ) -> tuple[list[str], list[str]]:
        """Positional `[REV_A [REV_B]] [TARGETS]` → (revisions, targets)."""
        revs: list[str] = []
        targets: list[str] = []
        for token in tokens:
            if targets or len(revs) == max_revs or self.is_target(kind, token):
                targets.append(token)
            else:
                revs.append(token)
        return revs, targets

    def _source(self, found: artifacts.StageOutput) -> Source:
        return Source(paths.relative(found.path, self.root), found)

    def _resolve(
        self, kind: Kind, target: str, declared: Iterable[artifacts.StageOutput]
    ) -> list[Source]:
        if target in self.pipe.stages:
            st = self.pipe.stages[target]
            chosen = [artifacts.StageOutput(st, o) for o in st.outs]
            chosen = [o for o in chosen if kind.accepts(o)]
            if not chosen:
                raise errors.TargetError(
                    f"stage '{target}' has no {kind.noun} outputs; "
                    + _listing(kind, declared, self.root)
                )
            return [self._source(o) for o in chosen]
        path = paths.normalize(target, self._cwd)
        by_path = artifacts.output_at(self.pipe, path) if paths.is_within(path, self.root) else None
        if by_path is None and ":" in target:
            by_identity = artifacts.resolve(
                self.pipe, [target], cwd=self._cwd, project_root=self.root, tracked=()
            ).outputs
            by_path = by_identity[0] if by_identity else None
        if by_path is not None:
            if not kind.accepts(by_path):
                raise errors.TargetError(
                    f"'{target}' is output '{by_path.identity}' ({by_path.out.kind}), "
                    + f"not a {kind.noun}; "
                    + _listing(kind, declared, self.root)
                )
            return [self._source(by_path)]
        if not paths.is_within(path, self.root):
            raise errors.TargetError(f"'{target}' lies outside the project '{self.root}'")
        relative = paths.relative(path, self.root)
        if path.suffix.lower() in kind.suffixes and self._open(None).read(relative) is not None:
            return [Source(relative)]
        names = [*self.pipe.stages, *(o.identity for o in declared)]
        close = difflib.get_close_matches(target, names, n=2)
        hint = ("did you mean " + " or ".join(f"'{c}'" for c in close) + "?; ") if close else ""
        raise errors.TargetError(
            f"'{target}' is not a {kind.noun}: not a stage, an output or a "
            + f"{'/'.join(kind.suffixes)} file; {hint}"
            + _listing(kind, declared, self.root)
        )


def _listing(kind: Kind, declared: Iterable[artifacts.StageOutput], root: pathlib.Path) -> str:
    shown = [o.display(root) for o in declared]
    if not shown:
        return f"the pipeline declares no {kind.noun} outputs"
    return f"{kind.noun}s: " + ", ".join(shown[:8]) + (" …" if len(shown) > 8 else "")


def read_metrics(
    service: CompareService, snapshot: vcs.Snapshot, sources: Iterable[Source]
) -> dict[str, dict[str, metrics.Value] | None]:
    """Each metric file's flattened values in the snapshot (None when absent there)."""
    found: dict[str, dict[str, metrics.Value] | None] = {}
    for source in sources:
        data = source.read(snapshot)
        where = source.path if snapshot.label == "workspace" else f"{snapshot.label}:{source.path}"
        found[source.path] = None if data is None else metrics.parse(where, data, service.load_yaml)
    return found


def diff_metrics(
    service: CompareService,
    old: vcs.Snapshot,
    new: vcs.Snapshot,
    sources: Sequence[Source],
    *,
    all: bool = False,
) -> list[metrics.Change]:
    """Changed metric values between two snapshots (every value with `all`)."""
    before = read_metrics(service, old, sources)
    after = read_metrics(service, new, sources)
    changes: list[metrics.Change] = []
    for source in sources:
        changes.extend(metrics.diff(source.path, before[source.path], after[source.path], all=all))
    return changes


def diff_params(
    service: CompareService, old: vcs.Snapshot, new: vcs.Snapshot | None, stages: Sequence[str]
) -> list[metrics.Change]:
    """Params recorded at `old` vs at `new` (None: the effective params now), per stage."""
    changes: list[metrics.Change] = []
    for name in stages:
        st = service.pipe.stages[name]
        record = old.lock_record(st)
        before = metrics.flatten(record["params"]) if record and record["params"] else {}
        if new is None:
            now = st.params_dict()
        else:
            later = new.lock_record(st)
            now = later["params"] if later else {}
        after = metrics.flatten(now) if now else {}
        changes.extend(metrics.diff(name, before, after, all=False))
    return changes


def _is_plot(found: artifacts.StageOutput) -> bool:
    return found.out.kind == specs.OutKind.PLOT or found.path.suffix.lower() in plots.IMAGE_SUFFIXES


PLOT = Kind("plot", plots.DATA_SUFFIXES + plots.IMAGE_SUFFIXES, _is_plot)


@dataclasses.dataclass(frozen=True, slots=True)
class Figure:
    """One plot to draw: a Vega-Lite spec over every revision, or the image at each revision."""

    title: str
    spec: dict[str, Any] | None = None
    images: tuple[tuple[str, str, bytes], ...] = ()
    """(revision label, file suffix, bytes) of an image output."""


def figures(snapshots: Sequence[vcs.Snapshot], sources: Iterable[Source]) -> list[Figure]:
    """A figure per plot source, overlaying the revisions where it exists."""
    found: list[Figure] = []
    for source in sources:
        title = source.path if source.output is None else source.output.display_name
        data = {s.label: source.read(s) for s in snapshots}
        present = {label: d for label, d in data.items() if d is not None}
        if not present:
            where = " or ".join(data)
            raise errors.PlotError(
                f"plot '{title}' is not in {where}: run the stage that writes it (`pivot run`)"
            )
        suffix = pathlib.PurePosixPath(source.path).suffix.lower()
        if suffix in plots.IMAGE_SUFFIXES:
            images = tuple((label, suffix, d) for label, d in present.items())
            found.append(Figure(title, images=images))
            continue
        declared = source.output.out.spec if source.output is not None else None
        options = declared if isinstance(declared, specs.Plot) else specs.Plot()
        rows = {
            label: plots.parse(source.path if label == "workspace" else f"{label}:{source.path}", d)
            for label, d in present.items()
        }
        chart = plots.spec(title, rows, x=options.x, y=options.y, template=options.template)
        found.append(Figure(title, spec=chart))
    return found
