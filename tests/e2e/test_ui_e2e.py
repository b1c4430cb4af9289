import json
import pathlib
import re
import shutil
import socket
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest

from tests.e2e import conftest, live_project

BROWSER = shutil.which("chromium") or shutil.which("chromium-browser")
DRIVER = shutil.which("chromedriver")

pytestmark = pytest.mark.usefixtures("counted_runs")


@pytest.fixture
def proj(tmp_path: pathlib.Path) -> conftest.Project:
    made = live_project.make(tmp_path / "proj")
    done = made.pivot("run")
    assert done.returncode == 0, done.stderr
    return made


@pytest.fixture
def served(proj: conftest.Project) -> Iterator[tuple[conftest.Project, str]]:
    server = live_project.Background(proj, "ui", "--port", "0")
    try:
        first = server.until(lambda line: "http://" in line, timeout=60)[-1]
        url = re.search(r"http://\S+/", first)
        assert url is not None, first
        yield proj, url.group(0)
    finally:
        server.stop()


def _get(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=30) as response:
        return json.loads(response.read())


def test_ui_says_where_it_listens_and_serves_state_as_json(
    served: tuple[conftest.Project, str],
) -> None:
    proj, url = served
    assert url.startswith("http://127.0.0.1:")
    state = _get(url + "api/state")
    assert sorted(s["name"] for s in state["stages"]) == sorted(live_project.STAGE_NAMES)
    assert {s["state"] for s in state["stages"]} == {"up_to_date"}
    assert state["run"]["active"] is False
    (run,) = _get(url + "api/history")["runs"]
    assert run["counts"] == {"ran": 5}
    assert _get(url + "api/metrics")["metrics"] == [
        {"path": "side_metrics.json", "key": "chars", "value": 6}
    ]
    (plot,) = _get(url + "api/plots")["plots"]
    assert "<svg" in plot["svg"]

    proj.edit("stages.py", "def tag(", "def tag(:")
    broken = _get(url + "api/state")
    assert broken["error"].startswith("stages.py:")
    assert len(broken["stages"]) == 5


def test_ui_marks_the_stage_that_failed_in_the_last_run(
    served: tuple[conftest.Project, str],
) -> None:
    proj, url = served
    proj.edit(
        "stages.py", "return SideOutputs(", "raise ValueError('no notes')\n    return SideOutputs("
    )
    assert proj.pivot("run").returncode == 1
    states = {s["name"]: s["state"] for s in _get(url + "api/state")["stages"]}
    assert states == {**dict.fromkeys(live_project.STAGE_NAMES, "up_to_date"), "side": "failed"}


def test_ui_port_in_use_says_which_and_suggests_port(proj: conftest.Project) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = proj.pivot("ui", "--port", str(port))
    assert done.returncode == 1
    assert done.stderr.strip().splitlines() == [
        f"pivot: error: port {port} on 127.0.0.1 is in use (another `pivot ui`?): "
        + f"choose another with --port, e.g. `pivot ui --port {port + 1}`"
    ]


def test_ui_outside_a_project_names_the_fix(tmp_path: pathlib.Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "pivot", "ui"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert done.returncode == 1
    assert "not inside a Pivot project" in done.stderr
    assert "pivot init" in done.stderr
    assert "Traceback" not in done.stderr


def _state_of(driver: Any, stage: str) -> str | None:
    return driver.execute_script(
        "const n = document.querySelector(`.node[data-stage='${arguments[0]}']`);"
        + "return n && n.dataset.state;",
        stage,
    )


@pytest.mark.slow
@pytest.mark.skipif(
    BROWSER is None or DRIVER is None,
    reason="needs Debian's chromium and chromium-driver (`.ci/run` installs them)",
)
def test_the_page_in_headless_chromium_follows_a_run_and_explains(
    served: tuple[conftest.Project, str], tmp_path: pathlib.Path
) -> None:
    from selenium import webdriver
    from selenium.webdriver.support.wait import WebDriverWait

    proj, url = served
    shots = tmp_path / "screenshots"
    shots.mkdir()
    options = webdriver.ChromeOptions()
    options.binary_location = str(BROWSER)
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"):
        options.add_argument(flag)
    options.add_argument("--window-size=1280,1000")
    # Any name lookup fails: only the page's own origin (an IP address) is reachable.
    options.add_argument("--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1")
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(options=options, service=webdriver.ChromeService(str(DRIVER)))
    wait = WebDriverWait(driver, 90, poll_frequency=0.1)
    run: subprocess.Popen[str] | None = None
    try:
        driver.get(url)
        wait.until(lambda d: len(d.find_elements("css selector", ".node")) == 5)
        wait.until(lambda d: d.find_elements("css selector", "figure.plot .chart svg"))
        # The graph is redrawn on every poll: read it in one script, not through elements.
        names = driver.execute_script(
            "return [...document.querySelectorAll('.node')].map(n => n.dataset.stage)"
        )
        assert sorted(names) == sorted(live_project.STAGE_NAMES)
        assert {_state_of(driver, n) for n in live_project.STAGE_NAMES} == {"up_to_date"}
        wait.until(lambda d: "side_metrics.json" in d.find_element("id", "metric-rows").text)
        assert "chars" in driver.find_element("id", "metric-rows").text
        marks = driver.find_elements("css selector", "figure.plot .chart svg path")
        assert len(marks) > 5
        driver.save_screenshot(str(shots / "1-up-to-date.png"))

        proj.edit("helpers.py", "text.strip().lower()", "text.strip().lower() + '!'")
        wait.until(lambda d: _state_of(d, "tag") == "stale")
        driver.execute_script(
            "document.querySelector(`.node[data-stage='tag']`)"
            + ".dispatchEvent(new MouseEvent('click'))"
        )
        wait.until(lambda d: "helpers.normalize" in d.find_element("id", "reasons").text)
        reasons = driver.find_element("id", "reasons").text
        assert reasons.startswith("code changed: func:helpers.normalize")
        assert _state_of(driver, "side") == "up_to_date"
        driver.save_screenshot(str(shots / "2-stale-explained.png"))

        run = subprocess.Popen(
            [sys.executable, "-m", "pivot", "run"],
            cwd=proj.root,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env={**live_project.os.environ, "LIVE_PAUSE": "4"},
        )
        wait.until(lambda d: _state_of(d, "count") == "running")
        driver.save_screenshot(str(shots / "3-running.png"))
        wait.until(lambda d: _state_of(d, "count") == "up_to_date")
        wait.until(lambda d: {_state_of(d, n) for n in live_project.STAGE_NAMES} == {"up_to_date"})
        driver.save_screenshot(str(shots / "4-done.png"))
        out, _ = run.communicate(timeout=120)
        assert run.returncode == 0, out

        origin = url.rstrip("/")
        fetched = driver.execute_script(
            "return performance.getEntriesByType('resource').map(e => e.name)"
        )
        severe = [e for e in driver.get_log("browser") if e["level"] == "SEVERE"]
    finally:
        if run is not None and run.poll() is None:
            run.kill()
        driver.quit()
    assert fetched
    assert all(name.startswith(origin + "/api/") for name in fetched), fetched  # no CDN
    assert severe == []
    assert sorted(p.name for p in shots.iterdir()) == [
        "1-up-to-date.png",
        "2-stale-explained.png",
        "3-running.png",
        "4-done.png",
    ]
