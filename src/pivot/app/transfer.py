import concurrent.futures
import dataclasses
import io
import json
import pathlib
from collections.abc import Callable, Iterable, Mapping, Sequence

from pivot.app import artifacts, run_cache
from pivot.domain import errors, layout, lock, paths, pipeline
from pivot.ports import content_cache, lock_store, remote, state_store, workspace_store
from pivot.ports import hasher as hasher_port
from pivot.ports import progress as progress_port
from pivot.ports import splitter as splitter_port

RUNS = "runs/"
_BATCH = 64
"""Most objects one thread-pool task moves."""
_SPLIT_MIN = 256
"""Fewest objects worth a slice of their own (a forked helper costs a few milliseconds)."""


object_key = layout.object_key
"""Remote key of a content object: the local cache's own layout."""
digest_of = layout.digest_of


def send_objects(
    cache: content_cache.ContentCache, target: remote.Remote, wanted: Iterable[str]
) -> None:
    """Put the objects (directories: their files, then the manifest) the remote lacks."""
    files: list[str] = []
    trees: list[str] = []
    for digest in dict.fromkeys(wanted):
        if digest.endswith(hasher_port.DIR_SUFFIX):
            trees.append(digest)
            files.extend(cache.read_tree(digest).values())
        else:
            files.append(digest)
    ordered = [*dict.fromkeys(files), *trees]
    present = target.exists([object_key(d) for d in ordered])
    for digest in ordered:
        key = object_key(digest)
        if key in present:
            continue
        with cache.open(digest) as source:
            target.put(key, source, cache.size(digest))


def receive_objects(
    cache: content_cache.ContentCache, source: remote.Remote, wanted: Iterable[str]
) -> None:
    """Fetch the objects the cache lacks (each re-hashed on arrival); manifests last."""
    for digest in dict.fromkeys(wanted):
        if cache.has(digest):
            continue
        if not digest.endswith(hasher_port.DIR_SUFFIX):
            receive_object(cache, source, digest)
            continue
        data = b"".join(source.get(object_key(digest)))
        for member in dict.fromkeys(json.loads(data).values()):
            if not cache.has(member):
                receive_object(cache, source, member)
        cache.receive(digest, [data])


def receive_object(
    cache: content_cache.ContentCache,
    source: remote.Remote,
    digest: str,
    progress: progress_port.Progress = progress_port.NULL,
    *,
    placing: bool = False,
) -> None:
    """Fetch one file object into the cache, re-hashed either way: hard-linked when the
    remote lends its file and the cache can link it (ADR 0011), else streamed and written.
    `placing`: a checkout of it follows (`ContentCache.adopt`)."""
    key = object_key(digest)
    lent = source.local_file(key)
    if lent is not None and cache.adopt(digest, lent, progress, placing=placing):
        progress.advance(files=1)
        return
    cache.receive(digest, source.get(key, progress))


@dataclasses.dataclass(frozen=True, slots=True)
class TransferOptions:
    targets: Sequence[str] = ()
    with_deps: bool = False
    jobs: int = 8
    dry_run: bool = False


@dataclasses.dataclass(frozen=True, slots=True)
class Failure:
    label: str
    reason: str

    def to_json(self) -> dict[str, str]:
        return {"object": self.label, "reason": self.reason}


@dataclasses.dataclass(frozen=True, slots=True)
class TransferReport:
    direction: str
    """`push` or `fetch`."""
    remote: str
    files: int
    nbytes: int
    already: int
    failures: tuple[Failure, ...]
    dry_run: bool = False
    run_entries: int = 0

    def to_json(self) -> dict[str, object]:
        return {
            "direction": self.direction,
            "remote": self.remote,
            "transferred": self.files,
            "bytes": self.nbytes,
            "already_there": self.already,
            "run_cache_entries": self.run_entries,
            "failed": [f.to_json() for f in self.failures],
            "dry_run": self.dry_run,
        }


@dataclasses.dataclass(frozen=True, slots=True)
class RemoteStatus:
    remote: str
    to_push: int
    """Referenced objects only in the local cache."""
    to_pull: int
    """Referenced objects only on the remote."""
    missing: int
    """Referenced objects in neither place."""
    in_sync: int

    def to_json(self) -> dict[str, object]:
        return dataclasses.asdict(self)


@dataclasses.dataclass(frozen=True, slots=True)
class _Wanted:
    """Digests to transfer (label for messages) and which of them are optional (deps)."""

    labels: dict[str, str]
    optional: frozenset[str]


class TransferService:
    """Moves content objects and run-cache entries between the local cache and a remote."""

    def __init__(
        self,
        *,
        project_root: pathlib.Path,
        locks: lock_store.LockStore,
        cache: content_cache.ContentCache,
        hasher: hasher_port.Hasher,
        state: state_store.StateStore,
        remote_: remote.Remote,
        remote_name: str,
        workspace: workspace_store.WorkspaceStore,
        splitter: splitter_port.Splitter | None = None,
    ) -> None:
        """`splitter`: given when the cache and the remote are both files on this machine;
        transfers then run in slices side by side (forked helpers) instead of threads."""
        self._workspace = workspace
        self._splitter = splitter
        self._root = project_root
        self._locks = locks
        self._cache = cache
        self._hasher = hasher
        self._state = state
        self._remote = remote_
        self.remote_name = remote_name

    def push(
        self,
        pipe: pipeline.Pipeline,
        options: TransferOptions,
        *,
        cwd: pathlib.Path,
        progress: progress_port.Progress = progress_port.NULL,
    ) -> TransferReport:
        """Upload what the targets need and the remote lacks; manifests after their files."""
        wanted = self._wanted(pipe, options, cwd)
        failures: list[Failure] = []
        trees: dict[str, dict[str, str]] = {}
        files: dict[str, str] = {}
        absent: dict[str, str] = {}
        for digest, label in wanted.labels.items():
            if not self._cache.has(digest):
                absent[digest] = label
                continue
            if digest.endswith(hasher_port.DIR_SUFFIX):
                trees[digest] = self._cache.read_tree(digest)
                for rel, member in trees[digest].items():
                    files.setdefault(member, f"{label}/{rel}")
            else:
                files.setdefault(digest, label)
        on_remote = self._digests_on_remote([*files, *trees, *absent])
        upload = {d: label for d, label in files.items() if d not in on_remote}
        already = len(files) - len(upload) + sum(1 for t in trees if t in on_remote)
        # Not here but on the remote (a clone that pulled nothing): nothing to send.
        already += sum(1 for d in absent if d in on_remote)
        failures.extend(
            Failure(label, f"{digest} is in neither the local cache nor the remote")
            for digest, label in absent.items()
            if digest not in on_remote and digest not in wanted.optional
        )
        if options.dry_run:
            return self._dry_push(upload, trees, on_remote, already, failures)
        # Each object's size is taken where it is sent (a stat per object, in the transfer
        # threads): the byte total grows as they start. Manifests count as files, as in the
        # summary.
        progress.add_total(files=len(upload) + sum(1 for t in trees if t not in on_remote))
        done, failed = self._concurrently(upload, self._upload, options.jobs, progress)
        failures.extend(failed)
        uploaded = set(done)
        for tree, manifest in trees.items():
            if tree in on_remote:
                continue
            if all(m in on_remote or m in uploaded for m in manifest.values()):
                self._upload(tree, progress)
                uploaded.add(tree)
            else:
                failures.append(Failure(wanted.labels[tree], "not all its files were uploaded"))
        entries = self._push_run_cache(on_remote | uploaded)
        return TransferReport(
            "push",
            self.remote_name,
            len(uploaded),
            sum(done.values()),
            already,
            tuple(failures),
            run_entries=entries,
        )

    def _dry_push(
        self,
        upload: dict[str, str],
        trees: dict[str, dict[str, str]],
        on_remote: set[str],
        already: int,
        failures: list[Failure],
    ) -> TransferReport:
        """What a push would send: objects, their bytes, what could not be sent."""
        nbytes = 0
        pending = sum(1 for t in trees if t not in on_remote)
        for digest, label in upload.items():
            try:
                nbytes += self._cache.size(digest)
            except errors.CacheMissError:
                failures.append(Failure(label, f"{digest} is not in the local cache"))
                continue
            pending += 1
        return TransferReport(
            "push", self.remote_name, pending, nbytes, already, tuple(failures), dry_run=True
        )

    def fetch(
        self,
        pipe: pipeline.Pipeline,
        options: TransferOptions,
        *,
        cwd: pathlib.Path,
        progress: progress_port.Progress = progress_port.NULL,
        placing: bool = False,
    ) -> TransferReport:
        """Download what the targets need and the local cache lacks; every object re-hashed.
        `placing`: a checkout follows (pull), so a lent object's copy is made while it is
        re-hashed (ADR 0011)."""
        return self._fetch(self._wanted(pipe, options, cwd), options, progress, placing)

    def fetch_objects(
        self,
        labels: Mapping[str, str],
        *,
        jobs: int,
        progress: progress_port.Progress = progress_port.NULL,
        dry_run: bool = False,
    ) -> TransferReport:
        """Download these objects (digest → label for messages) the local cache lacks; a
        directory counts its files, as a download moves them."""
        return self._fetch(
            _Wanted(dict(labels), frozenset()),
            TransferOptions(jobs=jobs, dry_run=dry_run),
            progress,
        )

    def run_entry(self, sig: str) -> bytes | None:
        """The run-cache entry another machine pushed for signature `sig`; None when absent."""
        try:
            return b"".join(self._remote.get(RUNS + sig))
        except errors.RemoteMissError:
            return None

    def _fetch(
        self,
        wanted: _Wanted,
        options: TransferOptions,
        progress: progress_port.Progress,
        placing: bool = False,
    ) -> TransferReport:
        failures: list[Failure] = []
        manifests: dict[str, bytes] = {}
        files: dict[str, str] = {}
        already = 0
        for digest, label in wanted.labels.items():
            if not digest.endswith(hasher_port.DIR_SUFFIX):
                files.setdefault(digest, label)
                continue
            try:
                manifest = self._manifest(digest, manifests)
            except errors.RemoteMissError:
                if digest not in wanted.optional:
                    failures.append(Failure(label, f"{digest} is on neither side"))
                continue
            except errors.CacheCorruptError as exc:
                failures.append(Failure(label, str(exc)))
                continue
            already += digest not in manifests
            for rel, member in manifest.items():
                files.setdefault(member, f"{label}/{rel}")
        cached = self._cache.present(files)
        download = {d: lbl for d, lbl in files.items() if d not in cached}
        already += len(files) - len(download)
        on_remote = self._digests_on_remote(download)
        for digest in [d for d in download if d not in on_remote]:
            if digest not in wanted.optional:
                failures.append(Failure(download[digest], f"{digest} is not on the remote"))
            del download[digest]
        if options.dry_run:
            return TransferReport(
                "fetch",
                self.remote_name,
                len(download) + len(manifests),
                0,
                already,
                tuple(failures),
                dry_run=True,
            )
        # Manifests were read to find their files: done already, and counted as files.
        progress.add_total(files=len(download) + len(manifests))
        progress.advance(files=len(manifests), nbytes=sum(map(len, manifests.values())))
        done, failed = self._concurrently(
            download, lambda d, prog: self._download(d, prog, placing), options.jobs, progress
        )
        failures.extend(failed)
        fetched = set(done)
        for tree, data in manifests.items():
            members = json.loads(data).values()
            if all(m in fetched or self._cache.has(m) for m in members):
                self._cache.receive(tree, [data])
                fetched.add(tree)
            else:
                failures.append(Failure(wanted.labels[tree], "not all its files were fetched"))
        return TransferReport(
            "fetch", self.remote_name, len(fetched), sum(done.values()), already, tuple(failures)
        )

    def status(self, pipe: pipeline.Pipeline, *, cwd: pathlib.Path) -> RemoteStatus:
        """How many referenced objects are only local, only remote, in neither, in both."""
        wanted = self._wanted(pipe, TransferOptions(), cwd)
        digests: set[str] = set()
        manifests: dict[str, bytes] = {}
        for digest in wanted.labels:
            digests.add(digest)
            if digest.endswith(hasher_port.DIR_SUFFIX):
                try:
                    digests.update(self._manifest(digest, manifests).values())
                except (errors.RemoteMissError, errors.CacheCorruptError):
                    continue
        on_remote = self._digests_on_remote(digests)
        local = self._cache.present(digests)
        return RemoteStatus(
            self.remote_name,
            to_push=len(local - on_remote),
            to_pull=len(on_remote - local),
            missing=len(digests - local - on_remote),
            in_sync=len(local & on_remote),
        )

    def on_remote(self, digests: Iterable[str]) -> set[str]:
        """Which of `digests` the remote holds."""
        return self._digests_on_remote(set(digests))

    def stored(self) -> list[str]:
        """Every content object on the remote (its digest), in listing order."""
        return [
            d
            for key in self._remote.list(f"{layout.OBJECTS}/")
            if (d := digest_of(key)) is not None
        ]

    def members(self, tree: str) -> dict[str, str] | None:
        """A directory's manifest from the local cache or the remote (checked); None if absent."""
        try:
            return self._manifest(tree, {})
        except (errors.RemoteMissError, errors.CacheCorruptError):
            return None

    def delete(self, digests: Iterable[str]) -> None:
        """Remove these objects from the remote."""
        self._remote.delete([object_key(d) for d in digests])

    def _wanted(
        self, pipe: pipeline.Pipeline, options: TransferOptions, cwd: pathlib.Path
    ) -> _Wanted:
        selection = artifacts.resolve(
            pipe,
            options.targets,
            cwd=cwd,
            project_root=self._root,
            tracked=artifacts.find_tracked(self._root, self._workspace),
        )
        labels: dict[str, str] = {}
        optional: set[str] = set()
        records: dict[str, lock.LockRecord | None] = {}
        for out in selection.outputs:
            st = out.stage
            if st.name not in records:
                records[st.name] = self._locks.read(st)
            record = records[st.name]
            if record is None:
                continue
            recorded = record["outs"].get(out.record_key)
            if recorded is not None and (recorded["cached"] or self._cache.has(recorded["hash"])):
                labels.setdefault(recorded["hash"], out.display(self._root))
            if options.with_deps:
                for dep, digest in record["deps"].items():
                    if digest not in labels:
                        labels[digest] = paths.relative(paths.normalize(dep, st.root), self._root)
                        optional.add(digest)
        for item in selection.tracked:
            labels[item.digest] = item.display(self._root)
            optional.discard(item.digest)
        return _Wanted(labels, frozenset(optional))

    def _manifest(self, digest: str, downloaded: dict[str, bytes]) -> dict[str, str]:
        """A directory's manifest: local if cached, else downloaded and checked (kept aside)."""
        if self._cache.has(digest):
            return self._cache.read_tree(digest)
        data = b"".join(self._remote.get(object_key(digest)))
        try:
            manifest = json.loads(data)
        except ValueError:
            manifest = None
        valid = isinstance(manifest, dict) and all(
            isinstance(v, str)
            for v in manifest.values()  # pyright: ignore[reportUnknownVariableType, reportUnknownMemberType, reportOptionalMemberAccess]
        )
        if not valid or self._hasher.tree_digest(manifest.items()) != digest:  # pyright: ignore[reportOptionalMemberAccess, reportUnknownArgumentType, reportUnknownMemberType]
            raise errors.CacheCorruptError(
                f"directory manifest {digest} on the remote is corrupt; nothing was placed"
            )
        downloaded[digest] = data
        return manifest  # pyright: ignore[reportReturnType]

    def _digests_on_remote(self, digests: Iterable[str]) -> set[str]:
        keys = {object_key(d): d for d in digests}
        return {keys[k] for k in self._remote.exists(keys)}

    def _upload(self, digest: str, progress: progress_port.Progress) -> int:
        with self._cache.open(digest) as source:
            size = self._cache.size(digest)
            progress.add_total(nbytes=size)
            self._remote.put(object_key(digest), source, size, progress)
        return size

    def _download(self, digest: str, progress: progress_port.Progress, placing: bool) -> int:
        counter = _Counting(progress)
        receive_object(self._cache, self._remote, digest, counter, placing=placing)
        return counter.nbytes

    def _concurrently(
        self,
        work: dict[str, str],
        job: Callable[[str, progress_port.Progress], int],
        jobs: int,
        progress: progress_port.Progress,
    ) -> tuple[dict[str, int], list[Failure]]:
        """Run `job` for every digest, `jobs` at once: in slices side by side when there is a
        splitter and enough of them, else on a thread pool. PivotErrors become failures."""
        done: dict[str, int] = {}
        failures: list[Failure] = []
        if not work:
            return done, failures
        digests = list(work)

        def run(
            batch: Sequence[str], prog: progress_port.Progress
        ) -> list[tuple[str, int | errors.PivotError]]:
            results: list[tuple[str, int | errors.PivotError]] = []
            for digest in batch:
                try:
                    results.append((digest, job(digest, prog)))
                except errors.RemoteError as exc:
                    if not isinstance(exc, errors.RemoteMissError):
                        raise
                    results.append((digest, exc))
                except errors.PivotError as exc:
                    results.append((digest, exc))
            return results

        def collect(results: Iterable[tuple[str, int | errors.PivotError]]) -> None:
            for digest, result in results:
                if isinstance(result, errors.PivotError):
                    failures.append(Failure(work[digest], str(result)))
                else:
                    done[digest] = result

        if self._splitter is not None and jobs > 1 and len(digests) >= 2 * _SPLIT_MIN:
            parts = self._splitter.split(
                run, digests, min_items=_SPLIT_MIN, most=jobs, progress=progress
            )
            for part in parts:
                collect(part)
            return done, failures
        # Small batches per task: one future per object costs more than a small file's copy.
        size = max(1, min(_BATCH, len(digests) // (4 * max(1, jobs))))
        batches = [digests[i : i + size] for i in range(0, len(digests), size)]
        with concurrent.futures.ThreadPoolExecutor(max(1, jobs)) as pool:
            futures = [pool.submit(run, b, progress) for b in batches]
            try:
                for future in concurrent.futures.as_completed(futures):
                    collect(future.result())
            except errors.RemoteError:
                for f in futures:
                    f.cancel()
                raise
        return done, failures

    def _push_run_cache(self, available: set[str]) -> int:
        """Upload run-cache entries whose outputs are all on the remote; returns how many."""
        entries: list[tuple[str, bytes]] = []
        for sig in self._state.keys(run_cache.NAMESPACE):
            raw = self._state.get(run_cache.NAMESPACE, sig)
            if raw is None:
                continue
            try:
                outs = json.loads(raw)
            except ValueError:
                continue
            hashes = [o.get("hash") for o in outs.values()] if isinstance(outs, dict) else [None]  # pyright: ignore[reportUnknownMemberType, reportUnknownVariableType]
            if all(isinstance(h, str) and h in available for h in hashes):  # pyright: ignore[reportUnknownVariableType]
                entries.append((RUNS + sig, raw))
        present = self._remote.exists([k for k, _ in entries])
        fresh = [(k, raw) for k, raw in entries if k not in present]
        for key, raw in fresh:
            self._remote.put(key, io.BytesIO(raw), len(raw))
        return len(fresh)


class _Counting:
    """Passes progress on and counts the bytes of one download."""

    def __init__(self, inner: progress_port.Progress) -> None:
        self._inner = inner
        self.nbytes = 0

    def add_total(self, files: int = 0, nbytes: int = 0) -> None:
        self._inner.add_total(files, nbytes)

    def advance(self, files: int = 0, nbytes: int = 0) -> None:
        self.nbytes += nbytes
        self._inner.advance(files, nbytes)
