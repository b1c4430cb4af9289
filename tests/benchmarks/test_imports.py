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


IMPORTTIME = """\
import time: self [us] | cumulative | imported package
import time:       120 |        120 |   _io
import time:      1254 |     256073 |   cyclopts
import time:      2051 |     285250 | pivot.cli.main
not an import line
"""


def test_import_times_are_read_per_module() -> None:
    assert suite.parse_import_times(IMPORTTIME) == {
        "_io": 120,
        "cyclopts": 256073,
        "pivot.cli.main": 285250,
    }
