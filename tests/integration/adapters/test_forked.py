import json
import os
import pathlib
import signal
import subprocess
import sys
import textwrap
import time

import pytest

from pivot.adapters.hashing import xxh3_hasher

HASHER = xxh3_hasher.Xxh3Hasher()

# pytest's workers run threads, so `split_map` never forks in them: each case runs in a fresh,
# single-threaded interpreter and writes what it saw to a file.
needs_two_cpus = pytest.mark.skipif(
    not sys.platform.startswith("linux") or len(os.sched_getaffinity(0)) < 2,
    reason="helpers are forked on Linux with a spare CPU",
)


def _script(tmp_path: pathlib.Path, body: str) -> dict[str, object]:
    report = tmp_path / "report.json"
    code = "import json, os, sys\nREPORT = sys.argv[1]\n" + textwrap.dedent(body)
    subprocess.run([sys.executable, "-c", code, str(report)], check=True, cwd=tmp_path, timeout=120)
    return json.loads(report.read_text())


def _no_children_left() -> str:
    # Indented as the scripts' bodies are, which `_script` dedents.
    return """
        try:
            os.waitpid(-1, os.WNOHANG)
            children_left = True
        except ChildProcessError:
            children_left = False
        """


def _counting_forks() -> str:
    """Script lines that count the forks made from here on in `forks`."""
    return """
        forks = []
        real_fork = os.fork
        def counting_fork():
            pid = real_fork()
            if pid:
                forks.append(pid)
            return pid
        os.fork = counting_fork
        """


@needs_two_cpus
def test_slices_run_in_helper_processes_and_come_back_in_order(tmp_path: pathlib.Path) -> None:
    seen = _script(
        tmp_path,
        """
        from pivot.adapters import forked
        def work(part, _):
            return os.getpid(), list(part)
        results = forked.split_map(work, range(100), min_items=10)
        """
        + _no_children_left()
        + """
        items = [i for _, part in results for i in part]
        json.dump({"pids": [p for p, _ in results], "items": items, "me": os.getpid(),
                   "children_left": children_left}, open(REPORT, "w"))
        """,
    )
    pids = seen["pids"]
    assert isinstance(pids, list)
    assert seen["items"] == list(range(100))
    assert len(pids) >= 2
    assert len(set(pids)) == len(pids)
    assert pids[-1] == seen["me"]
    assert seen["children_left"] is False


@needs_two_cpus
def test_a_helpers_exception_is_raised_by_the_caller(tmp_path: pathlib.Path) -> None:
    seen = _script(
        tmp_path,
        """
        from pivot.adapters import forked
        def work(part, _):
            if 0 in part:
                open("/nonexistent/first-slice")
            return os.getpid()
        try:
            forked.split_map(work, range(100), min_items=10)
            raised = None
        except OSError as exc:
            raised = [type(exc).__name__, exc.filename]
        """
        + _no_children_left()
        + """
        json.dump({"raised": raised, "children_left": children_left}, open(REPORT, "w"))
        """,
    )
    assert seen == {
        "raised": ["FileNotFoundError", "/nonexistent/first-slice"],
        "children_left": False,
    }


def test_no_fork_beside_other_threads_or_below_the_minimum(tmp_path: pathlib.Path) -> None:
    seen = _script(
        tmp_path,
        """
        import threading
        from pivot.adapters import forked
        work = lambda part, _: os.getpid()
        few = forked.split_map(work, range(100), min_items=100)
        stop = threading.Event()
        other = threading.Thread(target=stop.wait)
        other.start()
        threaded = forked.split_map(work, range(100), min_items=10)
        stop.set()
        other.join()
        json.dump({"few": few, "threaded": threaded, "me": os.getpid()}, open(REPORT, "w"))
        """,
    )
    assert seen["few"] == [seen["me"]]
    assert seen["threaded"] == [seen["me"]]


@needs_two_cpus
def test_add_files_split_across_processes_stores_every_file(tmp_path: pathlib.Path) -> None:
    contents = {f"src/d{i % 9}/f{i}": f"file {i % 150}".encode() * (i % 5) for i in range(600)}
    for rel, data in contents.items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_bytes(data)
    sizes = {str(tmp_path / rel): len(data) for rel, data in contents.items()}
    (tmp_path / "sizes.json").write_text(json.dumps(sizes))

    seen = _script(
        tmp_path,
        """
        import pathlib
        from pivot.adapters import forked
        from pivot.adapters.cache import local_content_cache
        from pivot.adapters.hashing import xxh3_hasher
        local_content_cache._SPLIT_MIN = 100
        """
        + _counting_forks()
        + """
        hasher = xxh3_hasher.Xxh3Hasher()
        cache = local_content_cache.LocalContentCache(pathlib.Path("cache"), hasher)
        digests = cache.add_files(json.load(open("sizes.json")))
        json.dump({"digests": digests, "forks": len(forks)}, open(REPORT, "w"))
        """,
    )

    digests = seen["digests"]
    assert isinstance(digests, dict)
    assert seen["forks"] == min(len(os.sched_getaffinity(0)) - 1, 3)
    assert digests == {str(tmp_path / rel): HASHER.bytes_digest(d) for rel, d in contents.items()}
    objects = sorted(
        os.path.relpath(os.path.join(top, name), tmp_path / "cache")
        for top, _, names in os.walk(tmp_path / "cache")
        for name in names
    )
    stored = {str(d) for d in digests.values()}
    assert objects == sorted(f"files/{d[:2]}/{d[2:]}" for d in stored)
    for data in contents.values():
        digest = HASHER.bytes_digest(data)
        assert (tmp_path / "cache" / "files" / digest[:2] / digest[2:]).read_bytes() == data


@needs_two_cpus
def test_forks_beside_a_thread_marked_allowed(tmp_path: pathlib.Path) -> None:
    seen = _script(
        tmp_path,
        """
        import threading
        from pivot.adapters import forked
        stop = threading.Event()
        lifeline = threading.Thread(target=stop.wait)
        forked.allow(lifeline)
        lifeline.start()
        pids = forked.split_map(lambda part, _: os.getpid(), range(100), min_items=10)
        stop.set()
        lifeline.join()
        json.dump({"pids": pids, "me": os.getpid()}, open(REPORT, "w"))
        """,
    )
    pids = seen["pids"]
    assert isinstance(pids, list)
    assert len(set(pids)) == len(pids) >= 2
    assert pids[-1] == seen["me"]


@needs_two_cpus
def test_helpers_progress_reaches_the_callers_while_they_work(tmp_path: pathlib.Path) -> None:
    seen = _script(
        tmp_path,
        """
        import time
        from pivot.adapters import forked
        me = os.getpid()
        calls = []
        class Recording:
            def __init__(self):
                self.files = self.nbytes = self.files_total = self.bytes_total = 0
            def add_total(self, files=0, nbytes=0):
                self.files_total += files
                self.bytes_total += nbytes
            def advance(self, files=0, nbytes=0):
                self.files += files
                self.nbytes += nbytes
                calls.append(self.files)
        def work(part, progress):
            progress.add_total(files=len(part), nbytes=10 * len(part))
            for _ in part:
                if os.getpid() != me:
                    time.sleep(0.003)  # the helpers are slow: the caller waits for them
                progress.advance(files=1, nbytes=10)
            return len(part)
        rec = Recording()
        done = forked.split_map(work, range(300), min_items=10, progress=rec)
        json.dump({"done": done, "counts": [rec.files, rec.nbytes, rec.files_total,
                   rec.bytes_total], "calls": calls}, open(REPORT, "w"))
        """,
    )
    done, calls = seen["done"], seen["calls"]
    assert isinstance(done, list)
    assert isinstance(calls, list)
    assert len(done) >= 2
    assert sum(done) == 300
    assert seen["counts"] == [300, 3000, 300, 3000]
    mine = done[-1]
    # After its own slice the caller passed on the helpers' counts in steps, not all at the end.
    assert any(mine < c < 300 for c in calls)


def test_most_caps_the_processes(tmp_path: pathlib.Path) -> None:
    seen = _script(
        tmp_path,
        """
        from pivot.adapters import forked
        one = forked.split_map(lambda part, _: os.getpid(), range(100), min_items=10, most=1)
        json.dump({"one": one, "helpers": forked.helpers(100, min_items=10, most=1),
                   "me": os.getpid()}, open(REPORT, "w"))
        """,
    )
    assert seen == {"one": [seen["me"]], "helpers": 0, "me": seen["me"]}


@needs_two_cpus
def test_forks_beside_the_progress_bar_and_the_bar_counts_every_slice(
    tmp_path: pathlib.Path,
) -> None:
    seen = _script(
        tmp_path,
        """
        from pivot.adapters import forked
        from pivot.cli import output
        output.interactive = lambda: True
        def work(part, progress):
            progress.add_total(files=len(part))
            progress.advance(files=len(part))
            return os.getpid()
        with output.progress_bar("placing") as bar:
            pids = forked.split_map(work, range(100), min_items=10, progress=bar)
            bar.refresh()
            task = bar.live.tasks[0]
            shown = [task.completed, task.total]
        json.dump({"pids": pids, "shown": shown}, open(REPORT, "w"))
        """,
    )
    pids = seen["pids"]
    assert isinstance(pids, list)
    assert len(set(pids)) == len(pids) >= 2
    assert seen["shown"] == [100, 100]


@needs_two_cpus
def test_helpers_end_when_the_caller_is_killed(tmp_path: pathlib.Path) -> None:
    code = textwrap.dedent(
        """
        import os, time
        from pivot.adapters import forked
        me = os.getpid()
        def work(part, _):
            if os.getpid() != me:
                with open("helper.pid", "w") as f:
                    f.write(str(os.getpid()))
            time.sleep(60)
        forked.split_map(work, range(100), min_items=10)
        """
    )
    caller = subprocess.Popen([sys.executable, "-c", code], cwd=tmp_path)
    pid_file = tmp_path / "helper.pid"
    deadline = time.monotonic() + 30
    while not (pid_file.exists() and pid_file.read_text()) and time.monotonic() < deadline:
        time.sleep(0.01)
    helper = int(pid_file.read_text())
    caller.send_signal(signal.SIGKILL)
    caller.wait()

    deadline = time.monotonic() + 10
    while _alive(helper) and time.monotonic() < deadline:
        time.sleep(0.01)
    assert not _alive(helper)


def _alive(pid: int) -> bool:
    """Running, not a zombie waiting for its (re-)parent to reap it."""
    try:
        state = pathlib.Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return False
    return state != "Z"


@needs_two_cpus
def test_a_directory_is_placed_by_forked_helpers(tmp_path: pathlib.Path) -> None:
    contents = {f"d{i % 9}/f{i}": f"file {i % 700}".encode() for i in range(1200)}
    (tmp_path / "contents.json").write_text(
        json.dumps({k: v.decode() for k, v in contents.items()})
    )

    seen = _script(
        tmp_path,
        """
        import pathlib
        from pivot.adapters.cache import local_content_cache
        from pivot.adapters.hashing import xxh3_hasher
        from pivot.ports import content_cache
        local_content_cache._SPLIT_MIN = 100
        hasher = xxh3_hasher.Xxh3Hasher()
        cache = local_content_cache.LocalContentCache(pathlib.Path("cache"), hasher)
        contents = json.load(open("contents.json"))
        members = {}
        for rel, text in contents.items():
            digest = cache.hasher.bytes_digest(text.encode())
            cache.receive(digest, [text.encode()])
            members[rel] = digest
        data = json.dumps(members, sort_keys=True).encode()
        tree = cache.hasher.tree_digest(members.items())
        cache.receive(tree, [data])
        """
        + _counting_forks()
        + """
        used = cache.materialize(tree, pathlib.Path("out"), (content_cache.LinkMode.COPY,))
        json.dump({"forks": len(forks), "used": used.value}, open(REPORT, "w"))
        """,
    )

    assert seen["forks"] == min(len(os.sched_getaffinity(0)) - 1, 3)
    assert seen["used"] == "copy"
    placed = {
        os.path.relpath(os.path.join(top, name), tmp_path / "out")
        for top, _, names in os.walk(tmp_path / "out")
        for name in names
    }
    assert placed == set(contents)
    for rel, data in contents.items():
        assert (tmp_path / "out" / rel).read_bytes() == data
        assert (tmp_path / "out" / rel).stat().st_mode & 0o200


def test_a_failing_caller_ends_its_helpers_even_with_large_results_pending(
    tmp_path: pathlib.Path,
) -> None:
    # Three helpers (a 2-CPU machine forks one by itself): each earlier helper's pipe must not
    # be held open by the later ones, or closing it would not release its writer.
    seen = _script(
        tmp_path,
        """
        from pivot.adapters import forked
        forked._spare_cpus = lambda: 3
        me = os.getpid()
        def work(part, _):
            if os.getpid() == me:
                raise LookupError("the caller's own slice")
            return [("x" * 60, i) for i in range(13000)]  # far more than a pipe holds
        try:
            forked.split_map(work, range(400), min_items=10)
            raised = None
        except LookupError as exc:
            raised = str(exc)
        """
        + _no_children_left()
        + """
        json.dump({"raised": raised, "children_left": children_left}, open(REPORT, "w"))
        """,
    )

    assert seen == {"raised": "the caller's own slice", "children_left": False}


@needs_two_cpus
def test_a_helpers_error_comes_back_as_it_was_raised(tmp_path: pathlib.Path) -> None:
    seen = _script(
        tmp_path,
        """
        from pivot.adapters import forked
        from pivot.domain import errors
        me = os.getpid()
        class Odd(Exception):
            def __init__(self, a, b):
                super().__init__(f"{a}-{b}")
        def corrupt(part, _):
            if os.getpid() != me:
                raise errors.ArrivedCorruptError("ab" * 16)
            return 0
        def odd(part, _):
            if os.getpid() != me:
                raise Odd(1, 2)
            return 0
        got = []
        for work in (corrupt, odd):
            try:
                forked.split_map(work, range(100), min_items=10)
            except Exception as exc:
                got.append([type(exc).__name__, str(exc)])
        json.dump(got, open(REPORT, "w"))
        """,
    )

    assert isinstance(seen, list)
    (corrupt_kind, corrupt_text), (odd_kind, odd_text) = seen
    assert corrupt_kind == "ArrivedCorruptError"
    assert corrupt_text.startswith("object " + "ab" * 16 + " arrived with different content")
    assert f"delete files/ab/{'ab' * 15} from the remote" in corrupt_text
    assert odd_kind == "ChildProcessError"
    assert "unreadable" in odd_text
