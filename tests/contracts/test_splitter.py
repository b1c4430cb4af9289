"""The `Splitter` port: work over consecutive slices, results in order, counts passed on, the
first failure raised once every slice ended. Inside pytest (which runs threads) the forking
adapter does the whole work here; `tests/integration/adapters/test_forked.py` forks."""

from collections.abc import Callable, Sequence

import pytest
from tests.fakes import progress as fake_progress

from pivot.adapters import forked
from pivot.adapters.memory import splitter as memory_splitter
from pivot.ports import progress as progress_port
from pivot.ports import splitter as splitter_port


@pytest.fixture(
    params=[memory_splitter.SlicingSplitter, forked.ForkSplitter], ids=["slicing", "forked"]
)
def splitter(request: pytest.FixtureRequest) -> splitter_port.Splitter:
    make: Callable[[], splitter_port.Splitter] = request.param
    return make()


def _listed(part: Sequence[int], _: progress_port.Progress) -> list[int]:
    return list(part)


def test_slices_cover_the_items_in_order(splitter: splitter_port.Splitter) -> None:
    parts = splitter.split(_listed, range(1000), min_items=100, most=4)

    assert [i for part in parts for i in part] == list(range(1000))
    assert 1 <= len(parts) <= 4
    assert all(len(part) >= 100 for part in parts)


def test_one_slice_when_too_few_items_or_one_process(splitter: splitter_port.Splitter) -> None:
    assert splitter.split(_listed, range(150), min_items=100, most=4) == [list(range(150))]
    assert splitter.split(_listed, range(1000), min_items=100, most=1) == [list(range(1000))]
    assert splitter.split(_listed, [], min_items=100, most=4) == [[]]


def test_every_slices_counts_reach_the_progress(splitter: splitter_port.Splitter) -> None:
    progress = fake_progress.RecordingProgress()

    def work(part: Sequence[int], prog: progress_port.Progress) -> int:
        prog.add_total(files=len(part), nbytes=len(part))
        for _ in part:
            prog.advance(files=1, nbytes=1)
        return len(part)

    done = splitter.split(work, range(1000), min_items=100, most=4, progress=progress)

    assert sum(done) == 1000
    assert (progress.files, progress.files_total, progress.nbytes, progress.bytes_total) == (
        1000,
        1000,
        1000,
        1000,
    )


def test_a_failing_slice_raises_its_exception(splitter: splitter_port.Splitter) -> None:
    def work(part: Sequence[int], _: progress_port.Progress) -> int:
        if 0 in part:
            raise LookupError("first slice")
        return len(part)

    with pytest.raises(LookupError, match="first slice"):
        splitter.split(work, range(1000), min_items=100, most=4)
