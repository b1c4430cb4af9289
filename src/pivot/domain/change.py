import dataclasses
import enum
import json
from collections.abc import Iterable, Mapping
from typing import Any

from pivot.domain import lock, manifest


class ReasonKind(enum.StrEnum):
    NEVER_RUN = "never_run"
    FORCED = "forced"
    CODE_CHANGED = "code_changed"
    PARAMS_CHANGED = "params_changed"
    DEP_CHANGED = "dep_changed"
    DEP_MISSING = "dep_missing"
    OUTS_CHANGED = "outs_changed"
    OUTPUT_MISSING = "output_missing"
    UPSTREAM_STALE = "upstream_stale"


class Action(enum.StrEnum):
    SKIP = "skip"
    RESTORE = "restore"
    RUN = "run"


@dataclasses.dataclass(frozen=True, slots=True)
class Reason:
    kind: ReasonKind
    subject: str = ""
    old: Any = None
    new: Any = None
    detail: str = ""

    def describe(self) -> str:
        match self.kind:
            case ReasonKind.NEVER_RUN:
                return "never run"
            case ReasonKind.FORCED:
                return "forced"
            case ReasonKind.CODE_CHANGED:
                change = _change_word(self.old, self.new)
                where = f" ({self.detail})" if self.detail else ""
                return f"code {change}: {self.subject}{where}"
            case ReasonKind.PARAMS_CHANGED:
                return f"param {self.subject} changed: {_show(self.old)} → {_show(self.new)}"
            case ReasonKind.DEP_CHANGED:
                return f"dep {self.subject} {_change_word(self.old, self.new)}"
            case ReasonKind.DEP_MISSING:
                return f"dep {self.subject} is missing"
            case ReasonKind.OUTS_CHANGED:
                return f"outputs changed: {self.subject}"
            case ReasonKind.OUTPUT_MISSING:
                return f"output {self.subject} {self.detail or 'missing'}"
            case ReasonKind.UPSTREAM_STALE:
                return f"upstream stage {self.subject} is stale"

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"kind": str(self.kind), "message": self.describe()}
        if self.subject:
            data["subject"] = self.subject
        if self.old is not None or self.new is not None:
            data["old"] = self.old
            data["new"] = self.new
        if self.detail:
            data["detail"] = self.detail
        return data


def _change_word(old: object, new: object) -> str:
    if old is None:
        return "added"
    if new is None:
        return "removed"
    return "changed"


def _show(value: object) -> str:
    return "(unset)" if value is None else json.dumps(value, sort_keys=True)


@dataclasses.dataclass(frozen=True, slots=True)
class OutputObservation:
    path: str
    workspace_hash: str | None
    """Digest of what is in the workspace now, None when the path does not exist."""
    in_cache: bool


@dataclasses.dataclass(frozen=True, slots=True)
class Observation:
    """What a stage looks like now, gathered by the app layer through the ports."""

    code: manifest.CodeManifest
    params: Mapping[str, Any]
    deps: Mapping[str, str | None]
    """Dependency path → digest now (None: missing)."""
    outs: Mapping[str, str]
    """Artifact identity → declared path (relative to the pipeline root)."""
    outputs: Mapping[str, OutputObservation]
    """Artifact identity → state of that recorded output in workspace and cache."""


@dataclasses.dataclass(frozen=True, slots=True)
class Decision:
    action: Action
    reasons: tuple[Reason, ...] = ()
    restore: tuple[str, ...] = ()
    """Artifact identities to check out from the cache (action RESTORE)."""

    @property
    def stale(self) -> bool:
        return self.action is Action.RUN


def code_reasons(old: Mapping[str, str], current: manifest.CodeManifest) -> list[Reason]:
    reasons: list[Reason] = []
    for key in sorted(old.keys() | current.entries.keys()):
        before, after = old.get(key), current.entries.get(key)
        if before == after:
            continue
        site = current.sites.get(key)
        reasons.append(
            Reason(
                ReasonKind.CODE_CHANGED,
                key,
                before,
                after,
                detail=site.describe() if site is not None else "",
            )
        )
    return reasons


def _param_reasons(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[Reason]:
    return [
        Reason(ReasonKind.PARAMS_CHANGED, key, old.get(key), new.get(key))
        for key in sorted(old.keys() | new.keys())
        if old.get(key) != new.get(key)
    ]


def _dep_reasons(old: Mapping[str, str], new: Mapping[str, str | None]) -> list[Reason]:
    reasons: list[Reason] = []
    for path in sorted(old.keys() | new.keys()):
        before, after = old.get(path), new.get(path)
        if path in new and after is None:
            reasons.append(Reason(ReasonKind.DEP_MISSING, path))
        elif before != after:
            reasons.append(Reason(ReasonKind.DEP_CHANGED, path, before, after))
    return reasons


def decide(record: lock.LockRecord | None, now: Observation, *, force: bool = False) -> Decision:
    """Whether a stage must run, can have outputs restored, or is up to date — and why."""
    if force:
        return Decision(Action.RUN, (Reason(ReasonKind.FORCED),))
    if record is None:
        return Decision(Action.RUN, (Reason(ReasonKind.NEVER_RUN),))

    reasons = [
        *code_reasons(record["code"], now.code),
        *_param_reasons(record["params"], now.params),
        *_dep_reasons(record["deps"], now.deps),
    ]
    recorded_outs = {ident: out["path"] for ident, out in record["outs"].items()}
    if recorded_outs != dict(now.outs):
        changed = sorted(
            ident
            for ident in recorded_outs.keys() | now.outs.keys()
            if recorded_outs.get(ident) != now.outs.get(ident)
        )
        reasons.append(Reason(ReasonKind.OUTS_CHANGED, ", ".join(changed)))

    restore: list[str] = []
    for ident, out in record["outs"].items():
        seen = now.outputs.get(ident)
        if seen is None or seen.workspace_hash == out["hash"]:
            continue
        if out["cached"] and seen.in_cache:
            restore.append(ident)
            continue
        state = "missing" if seen.workspace_hash is None else "modified"
        detail = f"{state} and not in the cache" if out["cached"] else f"{state} (not cached)"
        reasons.append(Reason(ReasonKind.OUTPUT_MISSING, ident, detail=detail))

    if reasons:
        return Decision(Action.RUN, tuple(reasons))
    if restore:
        return Decision(Action.RESTORE, restore=tuple(restore))
    return Decision(Action.SKIP)


def with_upstream(decision: Decision, stale_upstream: Iterable[str]) -> Decision:
    """The one rule for "stale because upstream is stale", used by `status` and `run`.

    A stage whose upstream stage will run must run too (its inputs are about to change),
    whatever it decided alone; its own reasons come first. An upstream stage that is only
    restored from the cache does not count: its outputs come back as recorded.
    """
    upstream = sorted(stale_upstream)
    if not upstream:
        return decision
    own = decision.reasons if decision.stale else ()
    return Decision(
        Action.RUN, own + tuple(Reason(ReasonKind.UPSTREAM_STALE, name) for name in upstream)
    )
