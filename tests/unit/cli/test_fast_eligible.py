import pytest

from pivot.cli import fast


@pytest.mark.parametrize(
    ("argv", "command"),
    [
        (["run"], "run"),
        (["-q", "run", "train", "-j", "2", "--explain"], "run"),
        (["status", "--json", "train@*"], "status"),
        (["run", "--jobs=2", "--explain"], "run"),
        (["run", "--executor=inline"], None),
        (["-v", "status"], "status"),
        (["run", "--force"], None),
        (["run", "--dry-run"], None),
        (["run", "--json"], "run"),
        (["run", "--json", "--dry-run"], None),
        (["run", "--no-fast"], None),
        (["run", "-j"], None),
        (["status", "--remote"], None),
        (["status", "-h"], None),
        (["push"], None),
        ([], None),
    ],
)
def test_only_plain_run_and_status_spellings_are_eligible(argv: list[str], command: str | None):
    assert fast.eligible(argv) == command
