"""Serve the dashboard on a published database and look at every page in headless Chromium (Debian's `chromium` and
`chromium-driver`, driven by Selenium).

Also a command, to refresh the README's screenshots from a built world:

    EMPATHY_HOME=... .venv/bin/python -m tests.dashboard.browser --out docs/img
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import socket
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from empathy.dashboard.serve import streamlit_command

CHROMIUM = ("chromium", "chromium-browser")
CHROMEDRIVER = "chromedriver"
# url path -> the header the page draws first (st.header), which says it has run
PAGES = {
    "": "How customers feel",
    "customers": "Customers at risk and saveable",
    "effects": "Event library",
    "actions": "Segments and actions",
    "models": "Model quality",
    "quality": "Data-quality gate",
}
SCREENSHOT_NAMES = {"": "overview", **{page: page for page in PAGES if page}}


def chromium() -> tuple[str, str] | None:
    """(browser, driver) paths when both are installed, else None."""
    browser = next((path for name in CHROMIUM if (path := shutil.which(name))), None)
    driver = shutil.which(CHROMEDRIVER)
    return (browser, driver) if browser and driver else None


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def serve(env: dict[str, str], timeout: float = 90.0) -> Iterator[str]:
    """Run the dashboard on a free local port; yield its base URL; stop it on exit."""
    port = free_port()
    log = open(Path(env.get("EMPATHY_HOME", ".")) / f"dashboard-{port}.log", "w")  # noqa: SIM115
    proc = subprocess.Popen(streamlit_command(port), env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + timeout
        while True:
            with contextlib.suppress(OSError), urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as answer:
                if answer.status == 200:
                    break
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the dashboard did not start on {url}; see {log.name}")
            time.sleep(0.5)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


@dataclass
class PageView:
    path: str
    text: str  # the page's visible text
    metrics: dict[str, str]  # st.metric label -> value as shown
    exceptions: list[str]  # Streamlit exception boxes on the page
    charts: int  # Vega-Lite charts drawn
    screenshot: Path | None


def browser(binary: str, driver: str, width: int = 1400, height: int = 2200):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = binary
    for arg in (
        "--headless=new",
        "--no-sandbox",
        "--disable-dev-shm-usage",
        "--disable-gpu",
        f"--window-size={width},{height}",
    ):
        options.add_argument(arg)
    return webdriver.Chrome(service=Service(executable_path=driver), options=options)


def _settled(drv, header: str) -> bool:
    """The page drew its header, the script is no longer running, and every chart has its drawing."""
    from selenium.webdriver.common.by import By

    if header not in drv.find_element(By.TAG_NAME, "body").text:
        return False
    if drv.find_elements(By.CSS_SELECTOR, '[data-testid="stStatusWidget"]'):
        return False
    charts = drv.find_elements(By.CSS_SELECTOR, '[data-testid="stVegaLiteChart"]')
    return all(chart.find_elements(By.CSS_SELECTOR, "canvas, svg") for chart in charts)


def view(drv, url: str, path: str, out: Path | None, timeout: float = 90.0) -> PageView:
    """Open a page, wait until it has run and drawn, read what it shows and take its screenshot."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    drv.get(f"{url}/{path}")
    WebDriverWait(drv, timeout, poll_frequency=0.5).until(lambda d: _settled(d, PAGES[path]))
    time.sleep(1.0)  # let the charts' last frame paint
    metrics = {}
    for metric in drv.find_elements(By.CSS_SELECTOR, '[data-testid="stMetric"]'):
        label = metric.find_element(By.CSS_SELECTOR, '[data-testid="stMetricLabel"]').text.strip()
        metrics[label] = metric.find_element(By.CSS_SELECTOR, '[data-testid="stMetricValue"]').text.strip()
    shot = None
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
        shot = out / f"dashboard-{SCREENSHOT_NAMES[path]}.png"
        full = drv.execute_script(
            "return document.querySelector('[data-testid=\"stMainBlockContainer\"]')?.scrollHeight || 2200"
        )
        drv.set_window_size(1400, min(max(int(full) + 80, 900), 6000))
        drv.save_screenshot(str(shot))
    return PageView(
        path=path,
        text=drv.find_element(By.TAG_NAME, "body").text,
        metrics=metrics,
        exceptions=[e.text for e in drv.find_elements(By.CSS_SELECTOR, '[data-testid="stException"]')],
        charts=len(drv.find_elements(By.CSS_SELECTOR, '[data-testid="stVegaLiteChart"]')),
        screenshot=shot,
    )


def view_all(env: dict[str, str], out: Path | None) -> dict[str, PageView]:
    """Serve the dashboard with `env` and view every page."""
    found = chromium()
    if found is None:
        raise RuntimeError("chromium and chromedriver are not installed: `make browser`")
    with serve(env) as url:
        drv = browser(*found)
        try:
            return {path: view(drv, url, path, out) for path in PAGES}
        finally:
            drv.quit()


def main() -> None:  # pragma: no cover - a maintenance command
    from empathy.config import load_settings

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("docs/img"))
    args = parser.parse_args()
    env = load_settings().env()
    env.setdefault("EMPATHY_HOME", os.environ.get("EMPATHY_HOME", "."))
    for path, page in view_all(env, args.out).items():
        print(f"/{path}: {page.charts} charts, {len(page.exceptions)} exceptions, {page.screenshot}")


if __name__ == "__main__":
    main()
