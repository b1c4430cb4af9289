import concurrent.futures
import datetime
import pathlib
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


class ObstoreRemote:
    """A remote on S3 (and S3-compatible servers), GCS, Azure or a local directory, via obstore."""

    def __init__(
        self,
        url: str,
        *,
        endpoint_url: str | None = None,
        region: str | None = None,
        allow_http: bool = False,
        timeout: float = 30.0,
        jobs: int = 16,
    ) -> None:
        self._url = url
        self._endpoint = endpoint_url
        self._timeout = timeout
        self._jobs = jobs
        self._store = _open(url, endpoint_url, region, allow_http, timeout)

    @property
    def url(self) -> str:
        return self._url

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
        with concurrent.futures.ThreadPoolExecutor(min(self._jobs, len(wanted))) as pool:
            found = pool.map(self._head, sorted(wanted))
            return {k for k, ok in zip(sorted(wanted), found, strict=True) if ok}

    def list(self, prefix: str) -> Iterator[str]:
        """Every key under `prefix` (e.g. `files/`)."""
        try:
            for batch in obstore.list(self._store, prefix.rstrip("/"), chunk_size=1000):
                for meta in batch:
                    yield meta["path"]
        except (obs_errors.NotFoundError, FileNotFoundError):
            return
        except Exception as exc:
            raise self._translate(exc, prefix) from None

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
                self._store,
                key,
                data,
                use_multipart=size > _CHUNK,
                chunk_size=_CHUNK,
                max_concurrency=4,
            )
        except Exception as exc:
            raise self._translate(exc, key) from None
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
            raise self._translate(exc, key) from None
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
            except (obs_errors.NotFoundError, FileNotFoundError):
                continue
            except Exception as exc:
                raise self._translate(exc, batch[0]) from None

    def _head(self, key: str) -> bool:
        try:
            obstore.head(self._store, key)
        except (obs_errors.NotFoundError, FileNotFoundError):
            return False
        except Exception as exc:
            raise self._translate(exc, key) from None
        return True

    def _translate(self, exc: Exception, key: str) -> errors.PivotError:
        """One clear line for an obstore failure: what, where, how to fix."""
        if isinstance(exc, errors.PivotError):
            return exc
        where = f"remote {self._url}" + (f" (endpoint {self._endpoint})" if self._endpoint else "")
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        if isinstance(exc, obs_errors.NotFoundError | FileNotFoundError):
            return errors.RemoteMissError(f"{key} is not on {where}")
        if isinstance(exc, obs_errors.PermissionDeniedError | obs_errors.UnauthenticatedError):
            return errors.RemoteError(
                f"access denied to {where}: check the credentials in the environment "
                + f"(AWS_ACCESS_KEY_ID, …) or the provider's configuration ({first})"
            )
        text = str(exc).lower()
        if any(w in text for w in ("connect", "timed out", "timeout", "dns", "error sending")):
            return errors.RemoteError(
                f"cannot reach {where} within {self._timeout:g}s: {first}; check the URL, the "
                + "network, and endpoint_url / allow_http in `pivot remote list`"
            )
        if "nosuchbucket" in text or ("bucket" in text and "not exist" in text):
            return errors.RemoteError(f"{where}: the bucket does not exist ({first})")
        return errors.RemoteError(f"{where}: {type(exc).__name__}: {first}")


def _open(
    url: str, endpoint: str | None, region: str | None, allow_http: bool, timeout: float
) -> Any:
    parsed = urllib.parse.urlparse(url)
    if parsed.scheme in ("", "file"):
        root = (
            pathlib.Path(urllib.parse.unquote(parsed.path)) if parsed.scheme else pathlib.Path(url)
        )
        root.mkdir(parents=True, exist_ok=True)
        return obs_store.LocalStore(root)
    seconds = datetime.timedelta(seconds=timeout)
    client: dict[str, Any] = {
        "connect_timeout": seconds,
        "timeout": datetime.timedelta(seconds=max(timeout, 300.0)),
        "allow_http": allow_http,
    }
    retry: dict[str, Any] = {"max_retries": 3, "retry_timeout": seconds}
    config: dict[str, Any] = {}
    if parsed.scheme == "s3":
        if endpoint:
            config["endpoint"] = endpoint
            config["virtual_hosted_style_request"] = False
        if region:
            config["region"] = region
    try:
        return obs_store.from_url(url, client_options=client, retry_config=retry, **config)  # pyright: ignore[reportArgumentType, reportCallIssue]
    except Exception as exc:
        raise errors.RemoteError(f"cannot open remote {url}: {exc}") from None
