import json

from pivot.domain import change, lock, paths, specs, stage
from pivot.ports import state_store

NAMESPACE = "runcache"


def applies(st: stage.Stage) -> bool:
    """Stages that extend their own output depend on history, not only on their inputs."""
    return all(o.kind is not specs.OutKind.INCREMENTAL for o in st.outs)


def keeps_copy(out: stage.OutBinding) -> bool:
    """Outputs stored in the content cache so the run cache can bring them back.

    Cached outputs always are; metrics are small, so they are too. `Out(cache=False)` never is:
    its owner asked for no copy, and a run-cache hit then needs the stage to run.
    """
    return out.cached or out.kind is specs.OutKind.METRIC


def signature(st: stage.Stage, observation: change.Observation) -> str:
    """Digest of everything a run's result depends on: the run-cache key."""
    payload = {
        "pipeline": st.pipeline,
        "stage": st.lock_name,
        "code": dict(observation.code.entries),
        "params": dict(observation.params),
        "deps": dict(observation.deps),
        "outs": {
            st.record_key(o): [paths.relative(o.path, st.root), str(o.kind), o.cached]
            for o in st.outs
        },
    }
    text = json.dumps(payload, sort_keys=True, separators=(",", ":"), default=str)
    import hashlib  # OpenSSL loads only when a signature is computed (start-up cost)

    return hashlib.blake2b(text.encode(), digest_size=16).hexdigest()


def parse(st: stage.Stage, raw: bytes) -> dict[str, lock.OutRecord] | None:
    """A stored entry's output records; None when it is unreadable or names other outputs."""
    try:
        outs = json.loads(raw)
    except ValueError:
        return None
    declared = {st.record_key(o) for o in st.outs}
    if not isinstance(outs, dict) or set(outs) != declared:  # pyright: ignore[reportUnknownArgumentType]
        return None
    return outs  # pyright: ignore[reportUnknownVariableType]


class RunCache:
    """(input signature → output records) of every completed run, in the state store."""

    def __init__(self, state: state_store.StateStore) -> None:
        self._state = state

    def lookup(
        self, st: stage.Stage, observation: change.Observation
    ) -> dict[str, lock.OutRecord] | None:
        """The outputs an earlier run with the same inputs produced; None on a miss."""
        raw = self._state.get(NAMESPACE, signature(st, observation))
        return None if raw is None else parse(st, raw)

    def adopt(self, sig: str, entry: bytes) -> None:
        """Keep an entry another machine recorded (fetched from a remote) under its signature."""
        self._state.put_many(NAMESPACE, [(sig, entry)])

    def record(
        self, st: stage.Stage, observation: change.Observation, record: lock.LockRecord
    ) -> None:
        entry = json.dumps(record["outs"], sort_keys=True).encode()
        self._state.put_many(NAMESPACE, [(signature(st, observation), entry)])
