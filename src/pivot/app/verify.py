import dataclasses
import pathlib
from collections.abc import Callable, Collection

from pivot.app import artifacts, digests, status
from pivot.domain import pipeline
from pivot.ports import content_cache, lock_store, workspace_store


@dataclasses.dataclass(frozen=True, slots=True)
class Problem:
    kind: str
    """`stale`, `missing` (workspace and cache) or `modified` (tracked file, warning only)."""
    target: str
    message: str

    def to_json(self) -> dict[str, str]:
        return {"kind": self.kind, "target": self.target, "message": self.message}


@dataclasses.dataclass(frozen=True, slots=True)
class VerifyReport:
    problems: tuple[Problem, ...]
    warnings: tuple[Problem, ...]
    stages: int
    tracked: int

    @property
    def ok(self) -> bool:
        return not self.problems


class VerifyService:
    """The CI gate: every stage up to date, every recorded artifact obtainable."""

    def __init__(
        self,
        *,
        project_root: pathlib.Path,
        status_service: status.StatusService,
        locks: lock_store.LockStore,
        digest_service: digests.DigestService,
        cache: content_cache.ContentCache,
        workspace: workspace_store.WorkspaceStore,
    ) -> None:
        self._workspace = workspace
        self._root = project_root
        self._status = status_service
        self._locks = locks
        self._digests = digest_service
        self._cache = cache

    def verify(
        self,
        pipe: pipeline.Pipeline,
        *,
        fresh: Collection[str] = (),
        on_remote: Callable[[set[str]], set[str]] | None = None,
    ) -> VerifyReport:
        """`fresh`: stages known up to date although their inputs are not here (`run --pull`'s
        judgement); `on_remote`: which digests a remote holds — those count as obtainable."""
        problems: list[Problem] = []
        warnings: list[Problem] = []
        missing: list[tuple[str, Problem]] = []
        for report in self._status.status(pipe):
            if report.decision.stale and report.name not in fresh:
                why = "; ".join(r.describe() for r in report.decision.reasons) or "stale"
                problems.append(
                    Problem("stale", report.name, f"stage '{report.name}' is stale: {why}")
                )
        try:
            for out in artifacts.stage_outputs(pipe):
                record = self._locks.read(out.stage)
                recorded = None if record is None else record["outs"].get(out.record_key)
                if recorded is None:
                    continue
                path = out.path
                problem = self._obtainable(
                    out.display(self._root), path, recorded["hash"], recorded["cached"]
                )
                if problem is not None:
                    missing.append((recorded["hash"], problem))
            tracked = artifacts.find_tracked(self._root, self._workspace)
            for item in tracked:
                label = item.display(self._root)
                problem = self._obtainable(label, item.path, item.digest, cached=True)
                if problem is not None:
                    missing.append((item.digest, problem))
                    continue
                now = self._digests.digest(item.path)
                if now is not None and now != item.digest:
                    warnings.append(
                        Problem(
                            "modified",
                            label,
                            f"tracked '{label}' differs from its .pvt; run `pivot track {label}` "
                            + "to record it, or `pivot checkout --force` to restore it",
                        )
                    )
        finally:
            self._digests.flush()
        there = on_remote({d for d, _ in missing}) if on_remote is not None and missing else set()
        problems.extend(
            dataclasses.replace(p, message=p.message + ", and not on the remote")
            if on_remote is not None
            else p
            for d, p in missing
            if d not in there
        )
        return VerifyReport(tuple(problems), tuple(warnings), len(pipe.stages), len(tracked))

    def _obtainable(
        self, label: str, path: pathlib.Path, digest: str, cached: bool
    ) -> Problem | None:
        if self._digests.digest(path) is not None:
            return None
        if cached and self._cache.has(digest):
            return None
        where = "workspace and cache" if cached else "workspace (not cached)"
        return Problem("missing", label, f"{label}: missing from {where}")
