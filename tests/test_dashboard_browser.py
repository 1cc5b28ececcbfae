"""End to end in a real browser: ``aqa dashboard`` on the sample project, driven by Playwright
through Debian's chromium (installed by ``apt-get install -y chromium``; never downloaded).

The server runs on a free localhost port over a temporary copy of the sample data, so the
adjudication database it writes lands in the copy. Screenshots go to ``test-artifacts/``.
"""

from __future__ import annotations

import os
import shutil
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
ARTIFACTS = REPO / "test-artifacts"
SERVER_START_S = 120
PAGE_LOAD_MS = 240_000  # the first page computes agreement, disputes and calibration
PAGES = {  # url path -> the page's title
    "overview": "Overview",
    "disputes": "Disputed items",
    "annotators": "Annotators",
    "labels": "Labels",
    "coverage": "Coverage",
    "checks": "Checks",
}

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian chromium is not installed (apt-get install -y chromium)"),
]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def sample_export(folder: Path) -> Path:
    """A copy of the sample project (generated when the checkout does not hold it)."""
    shipped = REPO / "sample_data" / "support_project.csv"
    if shipped.exists():
        shutil.copy(shipped, folder / shipped.name)
    else:
        subprocess.run([sys.executable, str(REPO / "sample_data" / "generate.py"), str(folder)], check=True,
                       capture_output=True, timeout=600)
    return folder / "support_project.csv"


def wait_until_healthy(url: str, server: subprocess.Popen) -> None:
    deadline = time.monotonic() + SERVER_START_S
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"aqa dashboard exited with {server.returncode}")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.5)  # polling a starting server; not a test-timing sleep
    raise TimeoutError(f"the dashboard did not answer at {url} within {SERVER_START_S} s")


@pytest.fixture(scope="module")
def dashboard(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    folder = tmp_path_factory.mktemp("dashboard-e2e")
    export = sample_export(folder)
    (folder / "aqa.toml").write_text("n_boot = 200\n", encoding="utf-8")
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("STREAMLIT_", "AQA_"))}
    env["AQA_UPLOAD_DIR"] = str(folder / "uploads")
    command = [str(Path(sys.executable).parent / "aqa"), "dashboard", str(export), "--port", str(port),
               "--config", str(folder / "aqa.toml")]
    log = open(folder / "server.log", "wb")  # noqa: SIM115 - closed below
    server = subprocess.Popen(command, cwd=folder, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_healthy(url, server)
        yield url, export
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
        log.close()
        ARTIFACTS.mkdir(exist_ok=True)
        shutil.copy(folder / "server.log", ARTIFACTS / "dashboard-server.log")


@pytest.fixture(scope="module")
def browser_page(dashboard):
    playwright_api = pytest.importorskip("playwright.sync_api")
    ARTIFACTS.mkdir(exist_ok=True)
    with playwright_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.set_default_timeout(PAGE_LOAD_MS)
        yield page
        browser.close()


DEFAULT_PAGE = "overview"  # served at the app's root: /overview would be "page not found"


def open_page(page, url: str, path: str):
    page.goto(f"{url}/" if path == DEFAULT_PAGE else f"{url}/{path}")
    page.get_by_role("heading", name=PAGES[path], level=1).wait_for()
    wait_for_run(page)
    assert page.get_by_text("Page not found").count() == 0, f"{path}: Streamlit said page not found"
    return page


IDLE_SCRIPT = (
    "() => !document.querySelector('[data-testid=\"stStatusWidget\"]')"
    " && !document.querySelector('[data-testid=\"stSpinner\"]')"
)


def wait_for_run(page) -> None:
    """Until Streamlit has finished the script run: no status widget and no spinner, seen twice
    a second apart (a run can start just after the first look)."""
    for _ in range(2):
        page.wait_for_function(IDLE_SCRIPT, timeout=PAGE_LOAD_MS)
        page.wait_for_timeout(1000)
    page.wait_for_function(IDLE_SCRIPT, timeout=PAGE_LOAD_MS)


def metric_value(page, label: str) -> str:
    metric = page.get_by_test_id("stMetric").filter(has=page.get_by_text(label, exact=True))
    return metric.get_by_test_id("stMetricValue").inner_text().strip()


def test_every_page_opens_in_the_browser(dashboard, browser_page) -> None:
    url, _ = dashboard
    for path, title in PAGES.items():
        open_page(browser_page, url, path)
        assert browser_page.get_by_test_id("stException").count() == 0, f"{title} raised"
        if path == DEFAULT_PAGE:  # the computed part, not only the header, has rendered
            browser_page.get_by_text("What matters most").wait_for()
            browser_page.get_by_test_id("stPlotlyChart").first.wait_for()  # plotly loads lazily
        browser_page.screenshot(path=str(ARTIFACTS / f"dashboard-{path}.png"), full_page=True)


def test_the_question_chosen_in_the_sidebar_holds_across_pages(dashboard, browser_page) -> None:
    url, _ = dashboard
    open_page(browser_page, url, "labels")
    browser_page.get_by_test_id("stSidebar").get_by_test_id("stSelectbox").click()
    browser_page.get_by_role("option", name="quality").click()
    browser_page.get_by_text("Question: quality").first.wait_for()
    browser_page.get_by_test_id("stSidebarNav").get_by_text("Annotators").click()
    browser_page.get_by_role("heading", name="Annotators", level=1).wait_for()
    browser_page.get_by_text("Question: quality").first.wait_for()
    browser_page.get_by_test_id("stSidebar").get_by_test_id("stSelectbox").click()
    browser_page.get_by_role("option", name="intent").click()
    browser_page.get_by_text("Question: intent").first.wait_for()


def test_an_adjudication_persists_after_a_reload(dashboard, browser_page) -> None:
    url, export = dashboard
    page = open_page(browser_page, url, "disputes")
    before = int(metric_value(page, "Adjudicated").replace(",", ""))
    page.get_by_label("Note").fill("e2e: checked against the guideline")
    page.get_by_label("Who is deciding").fill("e2e-lead")
    page.get_by_role("button", name="Save decision").click()
    saved = page.get_by_text("Saved: item")
    saved.wait_for()
    page.screenshot(path=str(ARTIFACTS / "dashboard-adjudicated.png"), full_page=True)
    item_id = saved.inner_text().split("Saved: item ", 1)[1].split(" ", 1)[0]

    page.reload()
    page.get_by_role("heading", name="Disputed items", level=1).wait_for()
    wait_for_run(page)
    assert int(metric_value(page, "Adjudicated").replace(",", "")) == before + 1
    page.screenshot(path=str(ARTIFACTS / "dashboard-after-reload.png"), full_page=True)
    with sqlite3.connect(export.with_name(export.name + ".adjudications.sqlite")) as connection:
        rows = connection.execute("SELECT item_id, decided_by, note FROM decisions").fetchall()
    assert (item_id, "e2e-lead", "e2e: checked against the guideline") in rows
