"""Screenshots of every page for the README: ``.venv/bin/python docs/make_screenshots.py``.

Starts the app on the synthetic Kent demo in a thread and captures each page in headless
Chromium (Debian's chromium + chromedriver, as the browser tests use).
"""

from __future__ import annotations

import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

PAGES = {"overview": "/", "coverage": "/coverage", "recruitment": "/recruitment",
         "comparison": "/comparison", "data": "/data"}


def wait_idle(driver, timeout: float = 120) -> None:
    end = time.time() + timeout
    time.sleep(1.5)
    while time.time() < end:
        # busy while a callback runs, before the page renders, or while a graph is still
        # empty (the first page after start-up computes the demo's tables first)
        busy = driver.execute_script(
            "return document.querySelector('[data-dash-is-loading=\"true\"]') !== null"
            " || document.querySelector('.page-title') === null"
            " || Array.from(document.querySelectorAll('.js-plotly-plot'))"
            "      .some(g => !g.data || g.data.length === 0);")
        if not busy:
            time.sleep(1.0)
            return
        time.sleep(0.3)


def main() -> None:
    from selenium import webdriver
    from selenium.webdriver.chrome.options import Options

    from app.main import create_app
    from app.settings import Settings

    tmp = Path(tempfile.mkdtemp(prefix="placemap-shots-"))
    port = 8071
    token = "screenshots"  # local mode's token: the first page opened carries it
    app = create_app(
        Settings(
            cache_dir=tmp / "cache",
            upload_dir=tmp / "uploads",
            port=port,
            extra={"users_file": str(tmp / "users.json"), "local_token": token},
        )
    )
    threading.Thread(target=lambda: app.run(port=port, debug=False), daemon=True).start()
    options = Options()
    options.binary_location = "/usr/bin/chromium"
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu",
                "--disable-background-networking", "--window-size=1440,1500",
                "--hide-scrollbars"):
        options.add_argument(arg)
    driver = webdriver.Chrome(options=options)
    try:
        driver.get(f"http://127.0.0.1:{port}/?token={token}")  # exchanged for a session cookie
        for name, path in PAGES.items():
            driver.get(f"http://127.0.0.1:{port}{path}")
            wait_idle(driver)
            out = ROOT / "docs" / f"screenshot-{name}.png"
            driver.save_screenshot(str(out))
            print(out)
    finally:
        driver.quit()


if __name__ == "__main__":
    main()
