import pathlib
import subprocess

from tests.e2e.conftest import Project

# Stages in the shared conftest project: prepare (raw.txt → data/clean.txt), train
# (→ models/model.txt, metrics.json), evaluate (→ eval.txt), other (raw.txt → other.txt).
# metrics.json is a Metric: committed to git, so it is not ignored and travels with the clone.
CACHED = ("data/clean.txt", "models/model.txt", "eval.txt", "other.txt")
OUTPUTS = (*CACHED, "metrics.json")


def git(root: pathlib.Path, *args: str) -> None:
    subprocess.run(
        ["git", "-c", "user.email=t@example.com", "-c", "user.name=t", *args],
        cwd=root,
        check=True,
        capture_output=True,
    )


def clone(origin: Project, dest: pathlib.Path) -> Project:
    """A teammate's clone: the committed files (lock records, .pvt, config.yaml), no data."""
    git(dest.parent, "clone", "-q", str(origin.root), str(dest))
    (dest / ".pivot").mkdir(exist_ok=True)
    return Project(dest)


def commit(project: Project) -> None:
    git(project.root, "add", "-A")
    git(project.root, "commit", "-q", "-m", "state")


def make_team(project: Project) -> Project:
    """Clone A: a git project that ran its pipeline and tracked a data directory."""
    (project.root / ".gitignore").write_text(
        "calls.log\n__pycache__/\n" + "".join(f"/{o}\n" for o in CACHED) + "/images/\n"
    )
    for i in range(3):
        project.write(f"images/img{i}.bin", f"pixels {i}\n" * 50)
    git(project.root, "init", "-q")
    assert project.pivot("track", "images").returncode == 0
    assert project.pivot("run").returncode == 0
    project.calls()
    return project


def cached_objects(project: Project) -> set[str]:
    """Digests of the objects in the project's local cache."""
    files = project.root / ".pivot/cache/files"
    return {p.parent.name + p.name for p in files.glob("*/*") if not p.name.startswith(".")}
