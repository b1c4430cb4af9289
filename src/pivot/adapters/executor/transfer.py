import concurrent.futures
import os
import pathlib
import sys
import tempfile
import threading
import traceback
from collections.abc import Callable
from typing import Any

import cloudpickle

from pivot.adapters.executor import capture


class JobTransferError(RuntimeError):
    """A job (function, argument or result) could not be moved between processes."""


def dumps_job(fn: Callable[[Any], Any], arg: Any) -> bytes:
    """Serialise `(fn, arg)` for a worker; raise JobTransferError naming what failed."""
    try:
        return cloudpickle.dumps((fn, arg))
    except Exception as exc:
        name = getattr(fn, "__qualname__", repr(fn))
        raise JobTransferError(
            f"cannot send job {name} to a worker process: {describe(exc)}; stage functions "
            + "and their arguments must be picklable"
        ) from exc


def as_exception(exc: BaseException) -> Exception:
    """`exc` itself, or a RuntimeError standing for SystemExit/KeyboardInterrupt and kin.

    A future holding a bare BaseException would exit or interrupt whoever calls `result()`.
    """
    if isinstance(exc, Exception):
        return exc
    converted = RuntimeError(f"job raised {describe(exc)}")
    converted.__cause__ = exc
    return converted


def describe(exc: BaseException) -> str:
    """`ExcType: message`, even when the exception's __str__ itself fails."""
    try:
        message = str(exc)
    except Exception:
        message = "<unprintable>"
    return f"{type(exc).__name__}: {message}" if message else type(exc).__name__


class _RemoteTraceback(Exception):
    """The worker-side traceback, attached as `__cause__` of a job's exception."""

    def __init__(self, text: str) -> None:
        super().__init__(text)
        self.text = text

    def __str__(self) -> str:
        return self.text


def _failure(exc: BaseException) -> bytes:
    """Encode a job failure so that the parent can always decode it."""
    sendable = as_exception(exc)
    remote_tb = "".join(traceback.format_exception(exc))
    try:
        blob = cloudpickle.dumps((False, sendable, remote_tb))
        # Exceptions whose __init__ takes other arguments than their message pickle fine but
        # fail to rebuild; catch that here rather than in the parent's result thread.
        cloudpickle.loads(blob)
    except Exception:
        blob = cloudpickle.dumps((False, RuntimeError(describe(exc)), remote_tb))
    return blob


class _WorkerState:
    """Per worker process: the pipeline root whose modules it imported last."""

    root: str | None = None


def _activate(import_root: str) -> None:
    """Make `import_root` the first place imports look, forgetting the previous root's modules.

    Two pipelines may each have a `stages.py`; a warm worker that ran one must not hand the
    other pipeline's jobs the wrong `stages` module.
    """
    previous = _WorkerState.root
    if previous is not None and previous != import_root:
        _forget_modules_under(previous)
    if sys.path[:1] != [import_root]:
        if import_root in sys.path:
            sys.path.remove(import_root)
        sys.path.insert(0, import_root)
    _WorkerState.root = import_root


def _forget_modules_under(root: str) -> None:
    prefix = root.rstrip(os.sep) + os.sep
    # Installed packages may live under the project (a .venv inside it): never drop those.
    installed = tuple(
        p.rstrip(os.sep) + os.sep for p in {sys.prefix, sys.base_prefix, sys.exec_prefix}
    )
    for name, module in list(sys.modules.items()):
        file = getattr(module, "__file__", None)
        if file and file.startswith(prefix) and not file.startswith(installed):
            del sys.modules[name]


# A job changes the process's cwd and sys.path: a worker with several threads (a Dask worker
# started with --nthreads 4) must still run one job at a time.
_ONE_JOB_AT_A_TIME = threading.Lock()


def run_job(blob: bytes, import_root: str, output: str | None = None) -> bytes:
    """Worker side: load and call one job; never raise, so the pool can never break.

    With `output`, the job's stdout and stderr go to that file (see `capture.output_to`).
    """
    with _ONE_JOB_AT_A_TIME:
        return _run_job(blob, import_root, None if output is None else pathlib.Path(output))


def run_job_keeping_output(blob: bytes, import_root: str) -> tuple[bytes, bytes]:
    """Worker side, for a worker that cannot see the project: `run_job`, plus what it printed.

    The job's stdout and stderr go to a scratch file on the worker; its bytes travel back with
    the reply, for the caller to write into the stage's log.
    """
    fd, name = tempfile.mkstemp(prefix="pivot-output-", suffix=".log")
    os.close(fd)
    scratch = pathlib.Path(name)
    try:
        reply = run_job(blob, import_root, name)
        return reply, scratch.read_bytes()
    finally:
        scratch.unlink(missing_ok=True)


def _run_job(blob: bytes, import_root: str, output: pathlib.Path | None) -> bytes:
    _activate(import_root)
    try:
        fn, arg = cloudpickle.loads(blob)
    except BaseException as exc:
        return _failure(
            JobTransferError(f"cannot load the job in the worker process: {describe(exc)}")
        )
    try:
        with capture.output_to(output):
            result = fn(arg)
    except BaseException as exc:
        return _failure(exc)
    try:
        return cloudpickle.dumps((True, result, ""))
    except Exception as exc:
        return _failure(
            JobTransferError(f"cannot send the job's result back from the worker: {describe(exc)}")
        )


def settle(future: concurrent.futures.Future[Any], reply: bytes) -> None:
    """Caller side: complete `future` from a worker's `run_job` reply."""
    try:
        ok, value, remote_tb = cloudpickle.loads(reply)
    except Exception as exc:
        future.set_exception(
            JobTransferError(f"cannot read the job's reply from the worker: {describe(exc)}")
        )
        return
    if ok:
        future.set_result(value)
        return
    value.__cause__ = _RemoteTraceback(remote_tb)
    future.set_exception(value)
