import pathlib

from benchmarks import ab

IMPORTTIME = """\
import time: self [us] | cumulative | imported package
import time:       120 |        120 |   _io
import time:      1000 |       1500 | json
import time:       400 |        400 |   json.decoder
not an import line
"""


def _sides() -> tuple[ab.Side, ab.Side]:
    here = pathlib.Path("/x")
    return (
        ab.Side("A", "aaa base", here / "a/src", here / "a/p"),
        ab.Side("B", "bbb new", here / "b/src", here / "b/p"),
    )


def test_alternate_interleaves_the_sides_and_swaps_who_goes_first() -> None:
    order: list[str] = []

    def run_one(side: ab.Side) -> float:
        order.append(side.label)
        return float(len(order))

    timings = ab.alternate(_sides(), 3, run_one)

    assert order == ["A", "B", "B", "A", "A", "B"]
    assert timings == {"A": [1.0, 4.0, 5.0], "B": [2.0, 3.0, 6.0]}


def test_self_import_total_sums_self_times_of_every_module() -> None:
    assert ab.self_import_total(IMPORTTIME) == (3, 1520)


def test_each_side_imports_its_own_source_tree() -> None:
    a, b = _sides()

    assert a.env()["PYTHONPATH"] == "/x/a/src"
    assert b.env(PIVOT_FAST="0")["PYTHONPATH"] == "/x/b/src"
    assert b.env(PIVOT_FAST="0")["PIVOT_FAST"] == "0"


def test_render_judges_targeted_rows_against_sixty_percent() -> None:
    rows = [
        (ab.ROWS[0], {"A": [1.0, 1.0], "B": [0.5, 0.5]}),
        (ab.ROWS[1], {"A": [1.0, 1.0], "B": [0.7, 0.7]}),
        (ab.ROWS[-1], {"A": [0.1, 0.1], "B": [0.2, 0.2]}),
    ]

    text = ab.render(_sides(), rows, [("profile", "text")], n=176, reps=2)

    lines = text.splitlines()
    assert "| 50% | met |" in next(line for line in lines if ab.ROWS[0].title in line)
    assert "| 70% | **missed** |" in next(line for line in lines if ab.ROWS[1].title in line)
    assert "| 200% | — |" in next(line for line in lines if ab.ROWS[-1].title in line)
    assert "### profile" in lines
