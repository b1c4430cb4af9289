import json
import os
import pathlib
import stat

from tests.e2e.conftest import Project

OUTPUTS = ("data/clean.txt", "models/model.txt", "eval.txt", "other.txt")


def _cache_objects(project: Project) -> set[str]:
    files = project.root / ".pivot/cache/files"
    return {p.parent.name + p.name for p in files.glob("*/*") if p.is_file()}


def _lock_digests(project: Project) -> set[str]:
    found: set[str] = set()
    for lock in (project.root / ".pivot/stages").glob("*.lock"):
        found |= {out["hash"] for out in json.loads(lock.read_text())["outs"].values()}
    return found


def _object_path(project: Project, digest: str) -> pathlib.Path:
    return project.root / ".pivot/cache/files" / digest[:2] / digest[2:]


def _snapshot(project: Project) -> dict[str, bytes]:
    return {rel: (project.root / rel).read_bytes() for rel in OUTPUTS}


def _remove_outputs(project: Project) -> None:
    for rel in OUTPUTS:
        (project.root / rel).unlink()


def test_checkout_restores_deleted_outputs(project: Project) -> None:
    assert project.pivot("run").returncode == 0
    before = _snapshot(project)
    _remove_outputs(project)

    done = project.pivot("checkout")

    assert done.returncode == 0, done.stderr
    assert _snapshot(project) == before
    assert "train:model → models/model.txt" in done.stdout
    assert project.pivot("checkout").stdout.strip().startswith("0 restored")


def test_symlink_and_copy_modes(project: Project) -> None:
    project.pivot("run")
    _remove_outputs(project)

    assert project.pivot("checkout", "--mode", "symlink").returncode == 0
    assert all((project.root / rel).is_symlink() for rel in OUTPUTS)

    _remove_outputs(project)
    assert project.pivot("checkout", "--mode", "copy", "train:model").returncode == 0
    model = project.root / "models/model.txt"
    assert not model.is_symlink()
    assert os.stat(model).st_mode & stat.S_IWUSR
    model.write_text("writable")


def test_hand_edited_output_needs_force(project: Project) -> None:
    project.pivot("run")
    before = _snapshot(project)
    (project.root / "eval.txt").unlink()
    (project.root / "eval.txt").write_text("my edits")
    (project.root / "other.txt").unlink()

    done = project.pivot("checkout")

    assert done.returncode == 1
    assert done.stderr.count("pivot: error:") == 1
    assert "evaluate → eval.txt" in done.stderr
    assert (project.root / "eval.txt").read_text() == "my edits"
    assert not (project.root / "other.txt").exists()

    assert project.pivot("checkout", "--force").returncode == 0
    assert _snapshot(project) == before


def test_verify_clean_missing_and_stale(project: Project) -> None:
    project.pivot("run")
    assert project.pivot("verify").returncode == 0

    (project.root / "raw.txt").write_text("new input\n")
    stale = project.pivot("verify")
    assert stale.returncode == 1
    assert "stage 'prepare' is stale" in stale.stdout
    (project.root / "raw.txt").write_text("hello\n")
    assert project.pivot("verify").returncode == 0

    for digest in _cache_objects(project):
        os.chmod(_object_path(project, digest), 0o644)
        _object_path(project, digest).unlink()
    (project.root / "other.txt").unlink()
    lost = project.pivot("verify", "--json")

    assert lost.returncode == 1
    problems = json.loads(lost.stdout)["problems"]
    assert {"kind": "missing", "target": "other → other.txt"} in [
        {"kind": p["kind"], "target": p["target"]} for p in problems
    ]


def test_gc_after_new_params_removes_exactly_unreferenced(project: Project) -> None:
    project.pivot("run")
    project.edit(
        "pipeline.py", "register(stages.train)", 'register(stages.train, params={"lr": 0.5})'
    )
    assert project.pivot("run").returncode == 0
    stored = _cache_objects(project)
    referenced = _lock_digests(project) & stored
    assert stored - referenced

    dry = project.pivot("gc", "--dry-run")
    assert f"Would remove {len(stored - referenced)} object(s)" in dry.stdout
    assert _cache_objects(project) == stored

    refused = project.pivot("gc")
    assert refused.returncode == 1
    assert "stdin is not a terminal" in refused.stderr
    assert "pivot gc --force" in refused.stderr
    assert _cache_objects(project) == stored

    done = project.pivot("gc", "--force")

    assert done.returncode == 0
    assert f"Removed {len(stored - referenced)} object(s)" in done.stdout
    assert _cache_objects(project) == referenced
    assert project.pivot("verify").returncode == 0


def _corrupt_model(project: Project) -> tuple[str, pathlib.Path, pathlib.Path]:
    """Run, flip the bytes of the model's cache object and delete the model."""
    project.pivot("run")
    model = project.root / "models/model.txt"
    lock = json.loads((project.root / ".pivot/stages/train.lock").read_text())
    digest = lock["outs"]["train:model"]["hash"]
    blob = _object_path(project, digest)
    os.chmod(blob, 0o644)
    blob.write_bytes(bytes(b ^ 0xFF for b in blob.read_bytes()))
    model.unlink()
    return digest, blob, model


def test_corrupt_object_is_found_and_never_checked_out(project: Project) -> None:
    digest, _, model = _corrupt_model(project)

    refused = project.pivot("checkout", "train:model")
    assert refused.returncode == 1
    assert f"{digest} is corrupt" in refused.stderr
    assert not model.exists()

    checked = project.pivot("cache", "verify")
    assert checked.returncode == 1
    assert f"corrupt: {digest}" in checked.stdout
    assert (project.root / ".pivot/cache/quarantine" / digest).exists()
    assert project.pivot("fsck").returncode == 0

    missing = project.pivot("checkout", "train:model")
    assert missing.returncode == 1
    assert not model.exists()


def test_checkout_verify_finds_corruption_that_left_no_sign(project: Project) -> None:
    digest, blob, model = _corrupt_model(project)
    os.chmod(blob, 0o444)  # read-only again, one link: only a re-hash can tell

    refused = project.pivot("checkout", "--verify", "train:model")
    assert refused.returncode == 1
    assert f"{digest} is corrupt" in refused.stderr
    assert not model.exists()


def test_track_and_checkout_tracked_data(project: Project) -> None:
    project.write("images/a.txt", "a")
    project.write("images/b/c.txt", "c")

    done = project.pivot("track", "images", "raw.txt")

    assert done.returncode == 0, done.stderr
    assert (project.root / "images.pvt").exists()
    assert (project.root / "raw.txt.pvt").exists()
    (project.root / "raw.txt").write_text("modified\n")
    status = project.pivot("status")
    assert "raw.txt: tracked, modified" in status.stdout
    assert "images: tracked, clean" in status.stdout

    (project.root / "raw.txt").unlink()
    assert "raw.txt: tracked, missing" in project.pivot("status").stdout
    assert project.pivot("checkout", "raw.txt").returncode == 0
    assert (project.root / "raw.txt").read_text() == "hello\n"


def test_bad_input_one_message_nothing_changed(project: Project) -> None:
    project.pivot("run")
    before = _snapshot(project)

    inside = project.pivot("track", "models/model.txt")
    assert inside.returncode == 1
    assert inside.stderr.strip().count("\n") == 0
    assert "output of stage 'train'" in inside.stderr
    assert not list(project.root.rglob("*.pvt"))

    (project.root / "other.txt").unlink()
    unknown = project.pivot("checkout", "other", "nonsense")
    assert unknown.returncode == 1
    assert unknown.stderr.strip() == (
        "pivot: error: unknown target 'nonsense': not a stage output or tracked file; "
        "targets are stage outputs (`stage` or `stage:key`) or `.pvt`-tracked paths"
    )
    assert not (project.root / "other.txt").exists()

    by_path = project.pivot("checkout", "models/model.txt")
    assert by_path.returncode == 1
    assert "use 'train:model'" in by_path.stderr
    kept = [rel for rel in OUTPUTS if rel != "other.txt"]
    assert {rel: (project.root / rel).read_bytes() for rel in kept} == {
        rel: before[rel] for rel in kept
    }
