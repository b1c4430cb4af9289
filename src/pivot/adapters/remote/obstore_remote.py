import concurrent.futures
import datetime
import functools
import pathlib
import re
import urllib.parse
from collections.abc import Collection, Iterator
from typing import Any, BinaryIO

import obstore
from obstore import exceptions as obs_errors
from obstore import store as obs_store

from pivot.domain import errors
from pivot.ports import progress as progress_port

_LIST_THRESHOLD = 64
"""Above this many keys, one listing per prefix beats a HEAD per key."""
_CHUNK = 8 * 1024 * 1024
_UPLOAD_TIMEOUTS = 5
"""An upload request (an object up to `_CHUNK`, or one `_CHUNK` part) may take this many
timeouts: the server answers only once the whole body is in, so its silence cannot be told
from a slow link until then (with the default 30 s, 8 MiB must go up at 56 KiB/s or more)."""
_LONGEST_DOWNLOAD = datetime.timedelta(hours=24)
"""A download is cut only when no byte arrives for a timeout, never for taking long."""
_PROBE = ".pivot-probe/"
"""A prefix nothing is stored under: listing it asks only whether the bucket exists."""
_AZURE = ("az", "abfs", "abfss", "azure")


class ObstoreRemote:
    """A remote on S3 (and S3-compatible servers), GCS, Azure or a local directory, via obstore.
    Every request is bounded by `timeout` (ADR 0011): connecting and every wait for the server's
    bytes take at most `timeout`, retries stop once `timeout` has passed, and an upload request
    takes at most `_UPLOAD_TIMEOUTS` × `timeout`."""

    def __init__(
        self,
        url: str,
        *,
        endpoint_url: str | None = None,
        region: str | None = None,
        allow_http: bool = False,
        timeout: float = 30.0,
        jobs: int = 16,
        name: str = "NAME",
    ) -> None:
        self._url = url
        self._name = name
        self._endpoint = endpoint_url
        self._timeout = timeout
        self._jobs = jobs
        parsed = urllib.parse.urlparse(url)
        self._kind = "container" if parsed.scheme in _AZURE else "bucket"
        self._container = parsed.netloc.split("@", 1)[0]
        self._settings = (url, endpoint_url, region, allow_http)
        self._store = _open(*self._settings, _reading(timeout))
        self._local = parsed.scheme in ("", "file")
        # A directory has no bucket to ask about; an object store is asked once, on a miss.
        self._container_seen = self._local

    @property
    def url(self) -> str:
        return self._url

    @functools.cached_property
    def _writer(self) -> Any:
        """The store uploads go through: no per-read timeout, a bound on the whole request."""
        if self._local:
            return self._store
        return _open(*self._settings, _writing(self._timeout))

    def exists(self, keys: Collection[str]) -> set[str]:
        """The subset of `keys` stored on the remote (batched: listing or concurrent HEADs)."""
        wanted = set(keys)
        if not wanted:
            return set()
        if len(wanted) > _LIST_THRESHOLD:
            prefixes = {k.split("/", 1)[0] + "/" for k in wanted}
            listed: set[str] = set()
            for prefix in prefixes:
                listed.update(self.list(prefix))
            return wanted & listed
        ordered = sorted(wanted)
        pool = concurrent.futures.ThreadPoolExecutor(min(self._jobs, len(ordered)))
        try:
            found = {k for k, ok in zip(ordered, pool.map(self._head, ordered), strict=True) if ok}
        finally:
            # On a failure, HEADs still queued would each wait out the timeout in turn.
            pool.shutdown(cancel_futures=True)
        if len(found) < len(wanted):
            self._require_container()
        return found

    def list(self, prefix: str) -> Iterator[str]:
        """Every key under `prefix` (e.g. `files/`)."""
        try:
            for batch in obstore.list(self._store, prefix.rstrip("/"), chunk_size=1000):
                for meta in batch:
                    yield meta["path"]
        except Exception as exc:
            if not _is_not_found(exc):
                raise self._translate(exc, prefix, self._timeout) from None
            self._require_container()

    def put(
        self,
        key: str,
        source: BinaryIO,
        size: int,
        progress: progress_port.Progress = progress_port.NULL,
    ) -> None:
        """Upload `size` bytes read from `source` (streamed, multipart when large); atomic."""
        name = getattr(source, "name", None)
        # A file on disk goes to obstore by path: Rust then reads it without taking the GIL
        # for every chunk, which is what bounds pushes of many small files.
        data = pathlib.Path(name) if isinstance(name, str) and size <= _CHUNK else source
        try:
            obstore.put(
                self._writer,
                key,
                data,
                use_multipart=size > _CHUNK,
                chunk_size=_CHUNK,
                max_concurrency=4,
            )
        except Exception as exc:
            if _is_not_found(exc):
                self._require_container()
            raise self._translate(exc, key, _UPLOAD_TIMEOUTS * self._timeout) from None
        progress.advance(files=1, nbytes=size)

    def get(
        self, key: str, progress: progress_port.Progress = progress_port.NULL
    ) -> Iterator[bytes]:
        """The object's bytes as a stream of chunks; `RemoteMissError` when absent."""
        try:
            result = obstore.get(self._store, key)
            if result.meta["size"] <= _CHUNK:
                # Whole: a stream would set aside a chunk-sized buffer for every small object.
                data = bytes(result.bytes())
                progress.advance(nbytes=len(data))
                yield data
            else:
                for chunk in result.stream(min_chunk_size=_CHUNK):
                    data = bytes(chunk)
                    progress.advance(nbytes=len(data))
                    yield data
        except Exception as exc:
            if _is_not_found(exc):
                self._require_container()
            raise self._translate(exc, key, self._timeout) from None
        progress.advance(files=1)

    def local_file(self, key: str) -> str | None:
        """None: an object store has no file on this machine to lend."""
        return None

    def delete(self, keys: Collection[str]) -> None:
        """Remove the objects (absent keys are no error)."""
        ordered = sorted(keys)
        for start in range(0, len(ordered), 1000):
            batch = ordered[start : start + 1000]
            try:
                obstore.delete(self._store, batch)
            except Exception as exc:
                if not _is_not_found(exc):
                    raise self._translate(exc, batch[0], self._timeout) from None
                self._require_container()

    def _head(self, key: str) -> bool:
        try:
            obstore.head(self._store, key)
        except Exception as exc:
            if _is_not_found(exc):
                return False
            raise self._translate(exc, key, self._timeout) from None
        return True

    def _require_container(self) -> None:
        """Raise the one clear error when the bucket (container) itself is missing: a missing
        bucket answers 404 to every request, which would read as "no such object"."""
        if self._container_seen:
            return
        try:
            next(iter(obstore.list(self._store, _PROBE, chunk_size=1)), None)
        except Exception as exc:
            if _is_not_found(exc):
                raise self._missing_container(exc) from None
            if isinstance(exc, obs_errors.PermissionDeniedError | obs_errors.UnauthenticatedError):
                return  # cannot tell; each object's own answer stands
            raise self._translate(exc, _PROBE, self._timeout) from None
        self._container_seen = True

    def _missing_container(self, exc: Exception) -> errors.RemoteError:
        endpoint = self._endpoint or _endpoint_of(exc)
        at = f" at {endpoint}" if endpoint else ""
        return errors.RemoteError(
            f"{self._kind} '{self._container}' does not exist{at} "
            + f"(create it, or fix remotes.{self._name}.url)"
        )

    def _translate(self, exc: Exception, key: str, bound: float) -> errors.PivotError:
        """One clear line for an obstore failure: what, where, how to fix. `bound`: the longest
        the failed request could wait for the server."""
        if isinstance(exc, errors.PivotError):
            return exc
        endpoint = self._endpoint or _endpoint_of(exc)
        where = f"remote {self._url}" + (f" (endpoint {endpoint})" if endpoint else "")
        # obstore's message ends in a multi-line debug dump; its first line says what happened.
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        if _is_not_found(exc):
            return errors.RemoteMissError(f"{key} is not on {where}")
        if isinstance(exc, obs_errors.PermissionDeniedError | obs_errors.UnauthenticatedError):
            return errors.RemoteError(
                f"access denied to {where}: check the credentials in the environment "
                + f"(AWS_ACCESS_KEY_ID, …) or the provider's configuration ({first})"
            )
        if "NoSuchBucket" in str(exc) or "ContainerNotFound" in str(exc):
            return self._missing_container(exc)
        if any(w in first.lower() for w in _UNREACHABLE):
            setting = f"remotes.{self._name}.timeout"
            if bound != self._timeout:
                setting = f"an upload: {_UPLOAD_TIMEOUTS} × {setting}"
            return errors.RemoteError(
                f"cannot reach {where}: no answer within {bound:g}s ({setting}); check the URL, "
                + "the network, and endpoint_url / allow_http in `pivot remote list`"
            )
        return errors.RemoteError(f"{where}: {type(exc).__name__}: {first}")


_UNREACHABLE = ("error sending request", "body error", "timed out", "connect", "dns")
"""Words of obstore's first line for a server that could not be reached or stopped answering."""


def _is_not_found(exc: Exception) -> bool:
    """A 404: obstore raises NotFoundError for objects, a generic error for listings."""
    if isinstance(exc, obs_errors.NotFoundError | FileNotFoundError):
        return True
    return re.search(r"status code: 404\b", str(exc)) is not None


def _endpoint_of(exc: Exception) -> str | None:
    """The scheme and host the failed request went to, from obstore's message."""
    found = re.search(r"https?://[^/\s?,]+", str(exc))
    return found.group(0) if found else None


def _reading(timeout: float) -> dict[str, Any]:
    """Client options for every request but uploads: the server must answer each wait in time."""
    seconds = datetime.timedelta(seconds=timeout)
    return {"connect_timeout": seconds, "read_timeout": seconds, "timeout": _LONGEST_DOWNLOAD}


def _writing(timeout: float) -> dict[str, Any]:
    """Client options for uploads: a read timeout would also run while the body goes up."""
    seconds = datetime.timedelta(seconds=timeout)
    return {"connect_timeout": seconds, "timeout": _UPLOAD_TIMEOUTS * seconds}


def _open(
    url: str,
    endpoint: str | None,
    region: str | None,
    allow_http: bool,
    client: dict[str, Any],
) -> Any:
    parsed = urllib.parse.urlparse(url)
    if parsed.scheme in ("", "file"):
        root = (
            pathlib.Path(urllib.parse.unquote(parsed.path)) if parsed.scheme else pathlib.Path(url)
        )
        root.mkdir(parents=True, exist_ok=True)
        return obs_store.LocalStore(root)
    # Retries (5xx, dropped connections, timeouts of reads) stop once the first try is one
    # request timeout old, so a dead server costs about one timeout, not four.
    retry: dict[str, Any] = {"max_retries": 3, "retry_timeout": client["timeout"]}
    if "read_timeout" in client:
        retry["retry_timeout"] = client["read_timeout"]
    config: dict[str, Any] = {}
    if endpoint and parsed.scheme in ("s3", *_AZURE):
        config["endpoint"] = endpoint
    if parsed.scheme == "s3":
        if endpoint:
            config["virtual_hosted_style_request"] = False
        if region:
            config["region"] = region
    try:
        return obs_store.from_url(  # pyright: ignore[reportCallIssue]
            url,
            client_options={**client, "allow_http": allow_http},  # pyright: ignore[reportArgumentType]
            retry_config=retry,  # pyright: ignore[reportArgumentType]
            **config,
        )
    except Exception as exc:
        raise errors.RemoteError(f"cannot open remote {url}: {exc}") from None
