import json
import pathlib
import re
import shutil

import pytest

from tests.e2e import compare_project, conftest

pytestmark = pytest.mark.slow

BROWSER = shutil.which("chromium") or shutil.which("chromium-browser")
DRIVER = shutil.which("chromedriver")


@pytest.fixture(scope="module")
def history(tmp_path_factory: pytest.TempPathFactory) -> tuple[conftest.Project, str]:
    """A committed run at lr=0.1, and the workspace re-run at lr=0.5."""
    proj = compare_project.make(tmp_path_factory.mktemp("plots"))
    first = compare_project.git(proj.root, "rev-parse", "HEAD")
    compare_project.change_lr(proj, "0.5")
    return proj, first


def _page(proj: conftest.Project, *args: str) -> tuple[dict[str, object], str]:
    done = proj.pivot("plots", *args, "--json")
    assert done.returncode == 0, done.stderr
    body = json.loads(done.stdout)
    return body, pathlib.Path(str(body["html"])).read_text()


def test_plots_show_writes_one_offline_page_with_a_chart_per_plot(
    history: tuple[conftest.Project, str],
) -> None:
    proj, _ = history
    body, page = _page(proj, "show", "-o", "out")
    assert body["html"] == str(proj.root / "out" / "index.html")
    assert body["plots"] == [
        "train:curve → plots/loss.csv",
        "train:points → plots/points.jsonl",
        "confusion → plots/confusion.csv",
        "picture → plots/logo.svg",
    ]
    assert page.count('<div class="chart"><svg') == 3
    assert page.count('<img src="data:image/svg+xml;base64,') == 1
    assert re.search(r"(src|href)=[\"']?(https?:)?//", page) is None
    assert "<script" not in page


def test_plots_diff_overlays_head_and_workspace_and_two_shas(
    history: tuple[conftest.Project, str],
) -> None:
    proj, first = history
    body, page = _page(proj, "diff", "train:curve")
    assert body["revisions"] == ["HEAD", "workspace"]
    assert body["plots"] == ["train:curve → plots/loss.csv"]
    assert page.count("<svg") == 1
    assert ">HEAD</text>" in page
    assert ">workspace</text>" in page
    compare_project.git(proj.root, "commit", "-q", "-am", "lr 0.5")
    second = compare_project.git(proj.root, "rev-parse", "HEAD")
    body, page = _page(proj, "diff", first, second, "confusion", "picture")
    assert body["revisions"] == [first, second]
    assert page.count("<svg") == 1  # the confusion matrix: one facet per revision
    assert page.count("<img ") == 2
    assert f">{second}</text>" in page


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("plots", "diff", "nope"), "unknown revision 'nope'"),
        (("plots", "show", "metrics.json"), "'metrics.json' is output 'train:score' (metric)"),
        (("plots", "show", "badplot"), "plot 'badplot → bad.csv': y column 'nope' does not exist"),
    ],
)
def test_plot_errors_are_one_line_and_exit_1(
    tmp_path: pathlib.Path, args: tuple[str, ...], message: str
) -> None:
    proj = conftest.Project(tmp_path / "proj")
    proj.root.mkdir()
    proj.write("stages.py", compare_project.STAGES + BAD_PLOT)
    proj.write("pipeline.py", compare_project.PIPELINE + "pipeline.register(stages.badplot)\n")
    compare_project.git(proj.root, "init", "-q", "-b", "main")
    assert proj.pivot("init").returncode == 0
    assert proj.pivot("run").returncode == 0
    compare_project.git(proj.root, "add", "-A")
    compare_project.git(proj.root, "commit", "-q", "-m", "one")
    done = proj.pivot(*args)
    assert done.returncode == 1
    assert done.stderr.count("\n") == 1, done.stderr
    assert message in done.stderr
    assert not (proj.root / "pivot_plots").exists()


BAD_PLOT = """

def badplot() -> Annotated[str, outputs.Plot("bad.csv", loaders.Text(), x="a", y="nope")]:
    return "a,b\\n1,2\\n"
"""


@pytest.mark.skipif(
    BROWSER is None or DRIVER is None,
    reason="needs Debian's chromium and chromium-driver (`.ci/run` installs them)",
)
def test_the_page_renders_in_headless_chromium_without_network(
    history: tuple[conftest.Project, str],
) -> None:
    from selenium import webdriver

    proj, _ = history
    body, _ = _page(proj, "show", "-o", "browser")
    options = webdriver.ChromeOptions()
    options.binary_location = str(BROWSER)
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"):
        options.add_argument(flag)
    options.add_argument("--host-resolver-rules=MAP * ~NOTFOUND")  # any network fetch fails
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(options=options, service=webdriver.ChromeService(str(DRIVER)))
    try:
        driver.execute_cdp_cmd("Network.enable", {})
        driver.execute_cdp_cmd(
            "Network.emulateNetworkConditions",
            {"offline": True, "latency": 0, "downloadThroughput": 0, "uploadThroughput": 0},
        )
        driver.get(pathlib.Path(str(body["html"])).as_uri())
        figures = driver.find_elements("css selector", "figure.plot")
        charts = driver.find_elements("css selector", "figure.plot .chart > svg")
        marks = driver.find_elements("css selector", "figure.plot .chart svg path, .chart svg rect")
        images = driver.find_elements("css selector", "figure.plot img")
        loaded = driver.execute_script(
            "return [...document.images].every(i => i.complete && i.naturalWidth > 0)"
        )
        errors = [e for e in driver.get_log("browser") if e["level"] == "SEVERE"]
    finally:
        driver.quit()
    assert len(figures) == 4
    assert len(charts) == 3
    assert len(marks) > 20
    assert len(images) == 1
    assert loaded
    assert errors == []
