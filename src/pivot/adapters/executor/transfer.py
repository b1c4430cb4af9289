from collections.abc import Callable
from typing import Any

import cloudpickle


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
