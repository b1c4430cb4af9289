"""60+ bad inputs, each a real `pivot` invocation on a damaged copy of a finished project
(issue 10: damaged state, hostile paths, YAML bombs, special files, encodings, permissions,
disk full). Each must give one clear line, the right exit status, no traceback, nothing lost
in the project and nothing written outside it."""

import contextlib
import os
import pathlib
import re
import resource
import shutil
import signal
import subprocess
from collections.abc import Iterator

import pytest

from tests.faults import bad_inputs, scene, state_checks

pytestmark = pytest.mark.slow

FSIZE_LIMIT = 4 * 1024 * 1024


@pytest.fixture(scope="session")
def base(tmp_path_factory: pytest.TempPathFactory) -> pathlib.Path:
    root = tmp_path_factory.mktemp("base") / "proj"
    scene.build_base(root)
    return root


def _limit_file_size() -> None:
    # Writes past the limit fail with EFBIG instead of killing the process (SIGXFSZ).
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (FSIZE_LIMIT, FSIZE_LIMIT))


@contextlib.contextmanager
def _tmpfs(where: pathlib.Path, size_kib: int) -> Iterator[None]:
    where.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size_kib}k", "tmpfs", str(where)],
        capture_output=True,
        check=False,
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here (needs root): {mounted.stderr.decode().strip()}")
    try:
        yield
    finally:
        subprocess.run(["umount", "-l", str(where)], check=False)


def _fill(directory: pathlib.Path, leave: int = 0) -> None:
    """Leave `leave` bytes free on `directory`'s filesystem."""
    fd = os.open(directory / "filler", os.O_WRONLY | os.O_CREAT, 0o644)
    try:
        with contextlib.suppress(OSError):
            while True:
                os.write(fd, b"\0" * 4096)
        os.ftruncate(fd, max(0, os.fstat(fd).st_size - leave))
    finally:
        os.close(fd)


def _prepare(
    case: bad_inputs.Case, base: pathlib.Path, tmp_path: pathlib.Path, stack: contextlib.ExitStack
) -> scene.Scene:
    if case.needs == "mount":
        stack.enter_context(_tmpfs(tmp_path / "proj", 2048))
        shutil.copytree(base, tmp_path / "proj", symlinks=True, dirs_exist_ok=True)
        sc = scene.Scene(tmp_path / "proj", tmp_path / "outside")
        sc.outside.mkdir()
        (sc.outside / "victim.txt").write_text("outside the project\n")
        sc.write("raw.txt", "x" * 256 * 1024)
        # Room for Pivot's small records, not for the stage's 256 KiB output.
        _fill(sc.root, leave=64 * 1024)
        return sc
    sc = scene.Scene.copy_of(base, tmp_path)
    if case.needs == "nonroot" and os.geteuid() == 0:
        if shutil.which("setpriv") is None:
            pytest.skip("running as root without setpriv: permissions cannot be denied")
        sc.prefix = ("setpriv", "--bounding-set=-dac_override,-dac_read_search,-fowner")
    if case.needs == "fsize":
        sc.preexec = _limit_file_size
    return sc


def _within(rel: str, prefixes: tuple[str, ...]) -> bool:
    return any(rel == p or rel.startswith(p + "/") for p in prefixes)


def _unchanged(
    before: dict[str, str], after: dict[str, str], allowed: tuple[str, ...]
) -> list[str]:
    """Paths present before whose content changed or vanished, outside `allowed`."""

    def free(rel: str) -> bool:
        return any(marker in rel for marker in state_checks.TEMP_MARKERS) or _within(rel, allowed)

    return sorted(
        rel for rel, digest in before.items() if not free(rel) and after.get(rel) != digest
    )


@pytest.mark.parametrize("case", bad_inputs.CASES, ids=[c.id for c in bad_inputs.CASES])
def test_bad_input_gets_one_clear_line_and_harms_nothing(
    case: bad_inputs.Case, base: pathlib.Path, tmp_path: pathlib.Path
) -> None:
    with contextlib.ExitStack() as stack:
        sc = _prepare(case, base, tmp_path, stack)
        case.damage(sc)
        # calls.log: the demo stages' own record of their calls.
        skip = (*scene.BOOKKEEPING, "filler", "calls.log")
        project_before = scene.tree_state(sc.root, skip)
        outside_before = scene.tree_state(tmp_path, ("proj",))

        done = sc.pivot(*case.args)

        # Make everything readable again before looking (the permission cases).
        subprocess.run(["chmod", "-R", "u+rwX", str(sc.root)], check=False)
        project_after = scene.tree_state(sc.root, skip)
        outside_after = scene.tree_state(tmp_path, ("proj",))
        errors = [line for line in done.stderr.splitlines() if line.startswith("pivot: error:")]
        context = f"{case.id}: exit {done.returncode}\n--- stderr ---\n{done.stderr}"
        assert "Traceback" not in done.stderr + done.stdout, context
        assert done.returncode == case.exit, context
        if case.exit != 0 and errors:
            assert len(errors) == 1, context
            assert re.search(case.says, errors[0]), context
        elif case.exit != 0:
            # A report (`verify`, a failed stage's summary): it names the problem and the fix.
            assert re.search(case.says, done.stdout + done.stderr, re.MULTILINE), context
        else:
            assert errors == [], context
            assert re.search(case.says, done.stdout + done.stderr, re.MULTILINE), context
        assert outside_after == outside_before, f"{case.id}: wrote outside the project"
        lost = _unchanged(project_before, project_after, case.changes)
        assert lost == [], f"{case.id}: changed or removed {lost}\n{context}"
        if case.exit != 0:
            # Cache fan-out directories are Pivot's and harmless; files are not.
            new = sorted(
                rel
                for rel in set(project_after) - set(project_before)
                if not _within(rel, case.changes)
                and not (rel.startswith(".pivot/cache/") and project_after[rel] == "dir")
            )
            assert new == [], f"{case.id}: a failing command wrote {new}\n{context}"


def test_the_table_holds_sixty_distinct_bad_inputs() -> None:
    ids = [c.id for c in bad_inputs.CASES]
    assert len(set(ids)) == len(ids)
    assert len(ids) >= 60
    assert {c.category for c in bad_inputs.CASES} >= {
        "state",
        "cache",
        "leftovers",
        "paths",
        "yaml",
        "special",
        "encoding",
        "permissions",
        "disk",
    }
