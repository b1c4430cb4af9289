"""Seeded SIGKILLs during `pivot run`, each followed by a recovery run (issue 10, crash
consistency). Reproduce a failure with the seed it prints: `PIVOT_FAULT_SEED=<seed> uv run
pytest tests/faults/test_kill_campaign.py`."""

import json
import os
import pathlib
import random
import signal
import subprocess
import sys
import time

import pytest

from tests.e2e.conftest import Project
from tests.faults import kill_project, state_checks

pytestmark = pytest.mark.slow

KILLS_PER_MODE = 16
"""Two modes × 16 = 32 kills per campaign."""
SEEDS = ("a\n", "b\n", "c\n")
"""Inputs the campaign moves between (each has a clean reference run)."""
DEFAULT_SEED = 20261202


def _campaign_seed() -> int:
    return int(os.environ.get("PIVOT_FAULT_SEED", DEFAULT_SEED))


def _new_project(root: pathlib.Path, seed_text: str) -> Project:
    proj = Project(root)
    root.mkdir(parents=True)
    proj.write("stages.py", kill_project.STAGES)
    proj.write("pipeline.py", kill_project.PIPELINE)
    proj.write("seed.txt", seed_text)
    assert proj.pivot("init").returncode == 0
    return proj


@pytest.fixture(scope="module")
def references(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[dict, float]]:
    """Outputs of a clean run for each seed text, and how long that run took."""
    found: dict[str, tuple[dict, float]] = {}
    for i, text in enumerate(SEEDS):
        proj = _new_project(tmp_path_factory.mktemp("reference") / f"p{i}", text)
        started = time.monotonic()
        done = proj.pivot("run")
        elapsed = time.monotonic() - started
        assert done.returncode == 0, done.stderr
        found[text] = (state_checks.snapshot(proj.root, kill_project.OUTPUTS), elapsed)
    return found


def _session_alive(sid: int) -> list[int]:
    """Processes still in session `sid` (the killed run's workers, if any survived)."""
    alive: list[int] = []
    for entry in pathlib.Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        # fields: state ppid pgrp session …; a zombie holds no files and writes nothing
        if int(fields[3]) == sid and fields[0] != "Z":
            alive.append(int(entry.name))
    return alive


def _cmdline(pid: int) -> str:
    try:
        return pathlib.Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return str(pid)


def _killed_run(proj: Project, delay: float, *, group: bool, force: bool) -> int:
    """Start `pivot run`, SIGKILL it after `delay` s; its exit status (-9 unless it finished)."""
    args = [sys.executable, "-m", "pivot", "run", *(["--force"] if force else [])]
    proc = subprocess.Popen(
        args,
        cwd=proj.root,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"},
        start_new_session=True,
    )
    time.sleep(delay)
    if group:
        os.killpg(proc.pid, signal.SIGKILL)
    else:
        proc.send_signal(signal.SIGKILL)
    code = proc.wait(timeout=60)
    # Whatever the CLI started must die with it: an orphaned worker that goes on writing
    # outputs or records after the kill would race the recovery run.
    deadline = time.monotonic() + 20
    while _session_alive(proc.pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    survivors = [_cmdline(pid) for pid in _session_alive(proc.pid)]
    assert not survivors, f"processes outlived the killed `pivot run`: {survivors}"
    return code


@pytest.mark.parametrize("mode", ["group", "cli"])
def test_sigkill_during_run_then_recovery_run_restores_everything(
    tmp_path: pathlib.Path, references: dict[str, tuple[dict, float]], mode: str
) -> None:
    """kill -9 of `pivot run` at seeded random instants (`group`: the whole process group, as
    a terminal's kill does; `cli`: only the CLI process, its workers orphaned); after each, a
    plain `pivot run` exits 0 and leaves outputs byte-identical to a clean run, lock records
    naming only cached objects, no temp files, and `pivot verify` clean."""
    seed = _campaign_seed() + (0 if mode == "group" else 1)
    rng = random.Random(seed)
    longest = max(elapsed for _, elapsed in references.values())
    proj = _new_project(tmp_path / "proj", SEEDS[0])
    outcomes: list[int] = []
    for kill in range(KILLS_PER_MODE):
        text = rng.choice(SEEDS)
        force = rng.random() < 0.3
        delay = rng.uniform(0.0, longest * 1.1)
        where = (
            f"kill {kill + 1}/{KILLS_PER_MODE} ({mode}) at {delay:.3f}s, seed.txt={text!r}, "
            + f"force={force}; reproduce with PIVOT_FAULT_SEED={_campaign_seed()}"
        )
        (proj.root / "seed.txt").write_text(text)
        outcomes.append(_killed_run(proj, delay, group=mode == "group", force=force))

        done = proj.pivot("run")
        assert done.returncode == 0, f"{where}: recovery run failed:\n{done.stderr}"
        assert "Traceback" not in done.stderr, f"{where}:\n{done.stderr}"
        expected, _ = references[text]
        assert state_checks.snapshot(proj.root, kill_project.OUTPUTS) == expected, (
            f"{where}: outputs differ from a clean run"
        )
        assert state_checks.temp_files(proj.root) == [], f"{where}: temp files left"
        assert state_checks.unbacked_records(proj.root) == [], (
            f"{where}: lock records name outputs that are not in the cache"
        )
        if kill % 8 == 7:
            checked = proj.pivot("verify")
            assert checked.returncode == 0, f"{where}: verify: {checked.stdout}{checked.stderr}"

    status = proj.pivot("status", "--json")
    assert status.returncode == 0, status.stderr
    assert not any(s["stale"] for s in json.loads(status.stdout)["stages"])
    cache = proj.pivot("cache", "verify")
    assert cache.returncode == 0, f"seed {seed}: {cache.stdout}{cache.stderr}"
    killed = sum(code == -signal.SIGKILL for code in outcomes)
    # The figure line of the campaign (shown with -rP / in the junit output).
    print(
        f"kill -9 ({mode}): {KILLS_PER_MODE}/{KILLS_PER_MODE} recovered "
        + f"({killed} killed mid-run, the rest finished first), 0 corrupt objects, "
        + f"0 temp files, seed {seed}"
    )


MANY_STAGES = """
from typing import Annotated

from pivot import loaders, outputs


def many() -> Annotated[dict, outputs.DirectoryOut("many", loaders.Text())]:
    return {f"d{i % 10}/f{i:05}.txt": f"{i:08}" * 256 for i in range(4000)}
"""

MANY_PIPELINE = """
import stages

from pivot.pipeline import Pipeline

pipeline = Pipeline("many")
pipeline.register(stages.many)
"""


def test_sigkill_while_a_worker_and_its_helpers_store_a_directory(tmp_path: pathlib.Path) -> None:
    """kill -9 of only the CLI once the first object of a 4,000-file directory output reaches
    the cache (the worker stores it with forked helpers, ADR 0004): the worker and its helpers
    end, nothing partial is left, and a plain `pivot run` finishes the job."""
    proj = Project(tmp_path / "proj")
    proj.root.mkdir()
    proj.write("stages.py", MANY_STAGES)
    proj.write("pipeline.py", MANY_PIPELINE)
    assert proj.pivot("init").returncode == 0
    objects = proj.root / ".pivot" / "cache" / "files"
    proc = subprocess.Popen(
        [sys.executable, "-m", "pivot", "run"],
        cwd=proj.root,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    deadline = time.monotonic() + 60
    while proc.poll() is None and time.monotonic() < deadline:
        if objects.is_dir() and any(
            fan.is_dir() and any(fan.iterdir()) for fan in objects.iterdir()
        ):
            break
        time.sleep(0.002)
    proc.send_signal(signal.SIGKILL)
    assert proc.wait(timeout=60) == -signal.SIGKILL, "the run finished before the kill"
    deadline = time.monotonic() + 20
    while _session_alive(proc.pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    survivors = [_cmdline(pid) for pid in _session_alive(proc.pid)]
    assert not survivors, f"processes outlived the killed `pivot run`: {survivors}"
    assert state_checks.temp_files(proj.root) == []

    done = proj.pivot("run")

    assert done.returncode == 0, done.stderr
    many = proj.root / "many"
    assert len([p for p in many.rglob("*") if p.is_file()]) == 4000
    assert (many / "d7" / "f01237.txt").read_text() == f"{1237:08}" * 256
    assert state_checks.unbacked_records(proj.root) == []
    checked = proj.pivot("cache", "verify")
    assert checked.returncode == 0, f"{checked.stdout}{checked.stderr}"
