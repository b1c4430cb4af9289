import dataclasses
import pathlib
import subprocess
import sys

VENV = pathlib.Path(__file__).resolve().parent / ".dvc-venv"
REQUIREMENTS = (
    "dvc>=3.67.1,<4",
    # Lower bounds stop pip from backtracking through old releases of the cloud-ish deps.
    "aiohttp>=3.9",
    "fsspec>=2024.2",
    "pygit2>=1.14",
)


@dataclasses.dataclass(frozen=True, slots=True)
class DvcEnv:
    """A working DVC install: the venv's bin directory and the version it reports."""

    bin_dir: pathlib.Path
    version: str

    @property
    def dvc(self) -> pathlib.Path:
        return self.bin_dir / "dvc"


def _version(bin_dir: pathlib.Path) -> str | None:
    try:
        done = subprocess.run(
            [str(bin_dir / "dvc"), "--version"],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return done.stdout.strip() if done.returncode == 0 else None


def ensure(venv: pathlib.Path = VENV, log: pathlib.Path | None = None) -> DvcEnv | str:
    """Return a usable DVC install, creating it with pip on first use, or why there is none."""
    bin_dir = venv / "bin"
    version = _version(bin_dir)
    if version is not None:
        return DvcEnv(bin_dir, version)
    print(f"installing DVC into {venv} (first use; takes a minute)…", flush=True)
    steps = [
        [sys.executable, "-m", "venv", str(venv)],
        [str(bin_dir / "python"), "-m", "pip", "install", "-q", "--upgrade", "pip"],
        [str(bin_dir / "python"), "-m", "pip", "install", "-q", *REQUIREMENTS],
    ]
    for step in steps:
        try:
            done = subprocess.run(step, capture_output=True, text=True, check=False)
        except OSError as exc:
            return f"DVC not installed ({' '.join(step[:3])}: {exc})"
        if log is not None:
            with log.open("a") as f:
                f.write(f"$ {' '.join(step)}\n{done.stdout}{done.stderr}\n")
        if done.returncode != 0:
            tail = (done.stderr or done.stdout).strip().splitlines()[-1:] or ["no output"]
            return f"DVC not installed ({' '.join(step[2:5])} failed: {tail[0]})"
    version = _version(bin_dir)
    if version is None:
        return "DVC not installed (the new venv's `dvc --version` failed)"
    return DvcEnv(bin_dir, version)
