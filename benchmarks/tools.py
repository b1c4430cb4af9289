import dataclasses
import os
import pathlib
import sys
from collections.abc import Callable, Mapping

from benchmarks import dvc_env, generate, results


@dataclasses.dataclass(frozen=True, slots=True)
class ToolSpec:
    """How one column's tool is set up in a fresh project copy and driven."""

    tool: results.Tool
    form: generate.Form
    setup: tuple[tuple[str, ...], ...]
    run: tuple[str, ...]
    status: tuple[str, ...] | None
    env: Mapping[str, str]
    lock_glob: str | None
    is_lock: Callable[[str], bool]


def _env(bin_dir: pathlib.Path, **extra: str) -> dict[str, str]:
    env = dict(os.environ)
    # `python` in cmd stages must be the tool's own interpreter, as it would be for a user.
    env["PATH"] = f"{bin_dir}{os.pathsep}{env.get('PATH', '')}"
    env.pop("VIRTUAL_ENV", None)
    # Users' interpreters cache bytecode; without it every start recompiles every module.
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env.update(extra)
    return env


def _never(_path: str) -> bool:
    return False


def _pivot_lock(path: str) -> bool:
    return "/.pivot/stages/" in path


def _dvc_lock(path: str) -> bool:
    return pathlib.PurePosixPath(path).name.startswith("dvc.lock")


def python_bin_dir() -> pathlib.Path:
    return pathlib.Path(sys.executable).parent


def pivot_executable() -> pathlib.Path:
    return python_bin_dir() / "pivot"


def pivot(form: generate.Form) -> ToolSpec:
    exe = str(pivot_executable())
    return ToolSpec(
        tool=results.Tool.PIVOT_PYTHON
        if form is generate.Form.PIVOT_PYTHON
        else results.Tool.PIVOT_CMD,
        form=form,
        setup=((exe, "init"),),
        run=(exe, "run"),
        status=(exe, "status"),
        env=_env(python_bin_dir()),
        lock_glob=".pivot/stages/*.lock",
        is_lock=_pivot_lock,
    )


def dvc(installed: dvc_env.DvcEnv, site_cache: pathlib.Path) -> ToolSpec:
    exe = str(installed.dvc)
    return ToolSpec(
        tool=results.Tool.DVC,
        form=generate.Form.DVC,
        setup=(
            ("git", "init", "-q"),
            (exe, "init", "-q"),
            (exe, "config", "core.analytics", "false"),
            (exe, "config", "core.check_update", "false"),
        ),
        run=(exe, "repro"),
        status=(exe, "status"),
        env=_env(
            installed.bin_dir,
            DVC_NO_ANALYTICS="1",
            DVC_SITE_CACHE_DIR=str(site_cache),
        ),
        lock_glob="dvc.lock",
        is_lock=_dvc_lock,
    )


def lower_bound() -> ToolSpec:
    return ToolSpec(
        tool=results.Tool.LOWER_BOUND,
        form=generate.Form.LOWER_BOUND,
        setup=(),
        run=(sys.executable, "lower_bound.py"),
        status=None,
        env=_env(python_bin_dir()),
        lock_glob=None,
        is_lock=_never,
    )
