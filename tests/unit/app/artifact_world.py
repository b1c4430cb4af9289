import pathlib
from typing import Annotated, Any, TypedDict

from pivot import loaders, outputs
from pivot.adapters.hashing import xxh3_hasher
from pivot.adapters.memory import content_cache, lock_store, state_store
from pivot.adapters.memory import vcs as memory_vcs
from pivot.adapters.workspace import file_workspace_store
from pivot.app import checkout, digests, gc, track
from pivot.domain import lock, paths
from pivot.pipeline import Pipeline
from pivot.ports import progress as progress_port


class TrainOutputs(TypedDict):
    model: Annotated[str, outputs.Out("models/model.txt", loaders.Text())]
    score: Annotated[dict[str, float], outputs.Metric("metrics.json", loaders.JSON())]


def prepare(
    raw: Annotated[str, outputs.Dep("raw/data.txt", loaders.Text())],
) -> Annotated[str, outputs.Out("clean.txt", loaders.Text())]:
    return raw.upper()


def train(
    clean: Annotated[str, outputs.Dep("clean.txt", loaders.Text())],
) -> TrainOutputs:
    return TrainOutputs(model=clean, score={"acc": 1.0})


def placed(
    clean: Annotated[str, outputs.Dep("clean.txt", loaders.Text())],
) -> Annotated[str, outputs.Out(loader=loaders.Text())]:
    return clean


class World:
    """The data services on in-memory stores over a tmp workspace, with a three-stage pipeline."""

    def __init__(self, root: pathlib.Path) -> None:
        self.root = root
        self.cache = content_cache.MemoryContentCache()
        self.locks = lock_store.MemoryLockStore()
        self.hasher = xxh3_hasher.Xxh3Hasher()
        self.pipe = Pipeline("t", root=root)
        for func in (prepare, train, placed):
            self.pipe.register(func)
        self.workspace = file_workspace_store.FileWorkspaceStore(self.cache)
        self.repo = memory_vcs.MemoryVcs(repo=False)

    def digests(self) -> digests.DigestService:
        # A fresh memo per service call: tests rewrite files faster than mtime moves.
        return digests.DigestService(state_store.MemoryStateStore(), self.hasher, self.workspace)

    def checkout(
        self, *targets: str, progress: Any = progress_port.NULL, **options: object
    ) -> checkout.CheckoutResult:
        service = checkout.CheckoutService(
            project_root=self.root,
            locks=self.locks,
            digest_service=self.digests(),
            cache=self.cache,
            workspace=self.workspace,
        )
        opts = checkout.CheckoutOptions(targets=targets, **options)  # pyright: ignore[reportArgumentType]
        return service.checkout(self.pipe, opts, cwd=self.root, progress=progress)

    def track_service(self) -> track.TrackService:
        return track.TrackService(
            project_root=self.root,
            digest_service=self.digests(),
            cache=self.cache,
            workspace=self.workspace,
        )

    def track(self, *targets: str, progress: Any = progress_port.NULL) -> list[track.TrackResult]:
        return self.track_service().track(self.pipe, targets, cwd=self.root, progress=progress)

    def gc(self) -> gc.GcService:
        return gc.GcService(
            project_root=self.root,
            locks=self.locks,
            cache=self.cache,
            workspace=self.workspace,
            repo=self.repo,
        )

    def write(self, rel: str, text: str) -> pathlib.Path:
        path = self.root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        return path

    def record(self, stage_name: str, contents: dict[str, str]) -> dict[str, str]:
        """Write the stage's outputs, cache them and record a lock (as a run would)."""
        st = self.pipe.stages[stage_name]
        outs: dict[str, lock.OutRecord] = {}
        for out in st.outs:
            ident = str(st.out_identity(out))
            out.path.parent.mkdir(parents=True, exist_ok=True)
            out.path.write_text(contents[ident])
            digest = self.hasher.file_digest(out.path)
            if out.cached:
                self.cache.put_file(out.path, digest)
            outs[ident] = lock.OutRecord(
                path=paths.relative(out.path, st.root),
                hash=digest,
                kind=str(out.kind),
                cached=out.cached,
            )
        self.locks.write(
            st,
            lock.LockRecord(
                schema_version=lock.SCHEMA_VERSION,
                stage=st.name,
                code={},
                params={},
                deps={},
                outs=outs,
            ),
        )
        return {ident: out["hash"] for ident, out in outs.items()}

    def record_all(self) -> None:
        self.record("prepare", {"prepare": "CLEAN"})
        self.record("train", {"train:model": "model", "train:score": '{"acc": 1.0}'})
        self.record("placed", {"placed": "placed"})
