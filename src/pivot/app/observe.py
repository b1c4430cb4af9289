import dataclasses
import pathlib
import types
from collections.abc import Mapping

from pivot.app import digests, stage_job
from pivot.domain import change, lock, manifest, paths, stage
from pivot.ports import code_fingerprinter, content_cache, lock_store

_NOTHING: Mapping[pathlib.Path, str] = types.MappingProxyType({})


@dataclasses.dataclass(frozen=True, slots=True)
class Evaluation:
    stage: stage.Stage
    record: lock.LockRecord | None
    observation: change.Observation
    decision: change.Decision


class Observer:
    """Gathers what a stage looks like now and decides what to do with it."""

    def __init__(
        self,
        *,
        locks: lock_store.LockStore,
        digest_service: digests.DigestService,
        cache: content_cache.ContentCache,
        fingerprinter: code_fingerprinter.CodeFingerprinter,
    ) -> None:
        self._locks = locks
        self._digests = digest_service
        self._cache = cache
        self._fingerprinter = fingerprinter

    @property
    def digests(self) -> digests.DigestService:
        return self._digests

    def code(self, st: stage.Stage) -> manifest.CodeManifest:
        return code_manifest(self._fingerprinter, st)

    def evaluate(
        self,
        st: stage.Stage,
        *,
        force: bool = False,
        assumed: Mapping[pathlib.Path, str] = _NOTHING,
    ) -> Evaluation:
        """Observe and decide; a dep in `assumed` (path → digest) is taken as that digest.

        `status` and `run --dry-run` restore nothing, so they assume what an upstream RESTORE
        would bring back: downstream stages then decide as they will after a real restore.
        """
        record = self._locks.read(st)
        now = self.observe(st, record, assumed)
        return Evaluation(st, record, now, change.decide(record, now, force=force))

    def observe(
        self,
        st: stage.Stage,
        record: lock.LockRecord | None,
        assumed: Mapping[pathlib.Path, str] = _NOTHING,
    ) -> change.Observation:
        """What `st` looks like now. A dep in `assumed` is not looked at: `run --pull` knows
        it from its producer's lock record or run-cache entry (left on the remote, or about to
        be restored); `status` and `run --dry-run` from an upstream RESTORE they do not do."""
        deps = {
            paths.relative(p, st.root): assumed[p] if p in assumed else self._digests.digest(p)
            for p in st.dep_paths()
        }
        outs = {st.record_key(o): paths.relative(o.path, st.root) for o in st.outs}
        outputs: dict[str, change.OutputObservation] = {}
        for ident, out in (record or {"outs": {}})["outs"].items():
            declared = st.output_path(ident)
            if declared is None:
                continue  # no longer an output: `outs` differ, so the stage runs
            now = self._digests.digest(declared)
            in_cache = now != out["hash"] and out["cached"] and self._cache.has(out["hash"])
            outputs[ident] = change.OutputObservation(out["path"], now, in_cache)
        return change.Observation(
            code=self.code(st), params=st.params_dict(), deps=deps, outs=outs, outputs=outputs
        )


def code_manifest(
    fingerprinter: code_fingerprinter.CodeFingerprinter, st: stage.Stage
) -> manifest.CodeManifest:
    """The stage's code manifest: its own (`__pivot_fingerprint__`, e.g. a command's text), plus
    the Python scripts it runs; else what the fingerprinter finds from its function."""
    custom = getattr(st.func, "__pivot_fingerprint__", None)
    if not callable(custom):
        return fingerprinter.fingerprint(st)
    entries: Mapping[str, str] = custom()  # pyright: ignore[reportAssignmentType]
    if not st.scripts:
        return manifest.CodeManifest(entries=dict(entries))
    scripts = fingerprinter.fingerprint(st)
    return manifest.CodeManifest(
        dict(sorted({**entries, **scripts.entries}.items())), scripts.sites, scripts.warnings
    )


def restored_paths(evaluation: Evaluation) -> dict[pathlib.Path, str]:
    """Path → digest of each output a RESTORE decision brings back from the cache."""
    if evaluation.record is None:
        return {}
    recorded = evaluation.record["outs"]
    return {
        paths.normalize(recorded[ident]["path"], evaluation.stage.root): recorded[ident]["hash"]
        for ident in evaluation.decision.restore
    }


def lock_record(
    st: stage.Stage, observation: change.Observation, outcome: stage_job.StageOutcome
) -> lock.LockRecord:
    """The lock record of a successful run, from what was observed before it and produced."""
    return lock_from_digests(st, observation, {r.identity: r.digest for r in outcome.outputs})


def lock_from_digests(
    st: stage.Stage, observation: change.Observation, produced: Mapping[str, str]
) -> lock.LockRecord:
    """The lock record of `st` given what it consumed and each output identity's digest."""
    return lock.LockRecord(
        schema_version=lock.SCHEMA_VERSION,
        stage=st.lock_name,
        code=dict(observation.code.entries),
        params=dict(observation.params),
        deps={path: digest for path, digest in observation.deps.items() if digest is not None},
        outs={
            st.record_key(o): lock.OutRecord(
                path=paths.relative(o.path, st.root),
                hash=produced[st.record_key(o)],
                kind=str(o.kind),
                cached=o.cached,
            )
            for o in st.outs
        },
    )
