import importlib
import os
import pathlib
import signal
import sys
import threading
import time


class NeedsTwoArgsError(Exception):
    """An exception whose pickled form cannot be rebuilt (its __init__ needs two arguments)."""

    def __init__(self, stage: str, reason: str) -> None:
        super().__init__(f"stage {stage} failed: {reason}")


def add_one(x: int) -> int:
    return x + 1


def worker_pid(_: object) -> int:
    return os.getpid()


def raise_value_error(message: str) -> None:
    raise ValueError(message)


def raise_needs_two_args(reason: str) -> None:
    raise NeedsTwoArgsError("train", reason)


def exit_with(code: int) -> None:
    sys.exit(code)


def use_lock(lock: object) -> str:
    return type(lock).__name__


def return_lock(_: object) -> object:
    return threading.Lock()


def call_module_function(target: tuple[str, str]) -> object:
    """Import a module by name at call time and call one of its functions."""
    module_name, function_name = target
    return getattr(importlib.import_module(module_name), function_name)()


def kill_own_worker(_: object) -> None:
    os.kill(os.getpid(), signal.SIGKILL)


def sleep_and_record(target: tuple[str, float]) -> int:
    """Write the start and end time of a sleep to `<target>.start` / `<target>.end`."""
    stem, seconds = target
    pathlib.Path(f"{stem}.start").write_text(repr(time.time()))
    time.sleep(seconds)
    pathlib.Path(f"{stem}.end").write_text(repr(time.time()))
    return os.getpid()


def chatter(tag: str) -> str:
    """Writes through every channel a stage can use: print, stderr, a subprocess, fd 1."""
    import os
    import subprocess
    import sys

    print(f"{tag} print")
    print(f"{tag} stderr", file=sys.stderr)
    subprocess.run(["sh", "-c", f"echo '{tag} shell'"], check=True)
    os.write(1, f"{tag} fd\n".encode())
    return tag
