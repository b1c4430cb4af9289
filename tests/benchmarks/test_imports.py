import subprocess
import sys

from benchmarks import suite

PROBE = "import sys, pivot; print(','.join(m for m in {heavy!r} if m in sys.modules))"


def test_import_pivot_loads_no_heavy_library() -> None:
    done = subprocess.run(
        [sys.executable, "-c", PROBE.format(heavy=suite.HEAVY_FOR_IMPORT)],
        capture_output=True,
        text=True,
        check=True,
    )

    assert done.stdout.strip() == ""
