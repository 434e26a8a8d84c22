"""Screenshots of every page for the README: ``.venv/bin/python docs/make_screenshots.py``.

Starts the app in a thread and captures each page in headless Chromium (Debian's chromium +
chromedriver, as the browser tests use).

* no flag: the synthetic Kent demo the app starts with;
* ``--upload``: writes the ``--messy`` demo (``placemap demo --messy``), uploads its files through
  the Data page's upload control as a user would, presses *Use this data*, waits until the banner
  names the upload, then captures the Data page (the validation report of the upload) and every
  other page on the uploaded data;
* ``--full``: the whole height of each page rather than the first 1,500 pixels;
* ``--out DIR``: write the pictures there (default ``docs/``);
* ``--text DIR``: also write each page's visible text (``<page>.txt``) and download the HTML
  report from the District comparison page (``report.html``) there, for checking that the pages
  agree.
"""

from __future__ import annotations

import argparse
import logging
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

# every page of the navigation bar (app.main.PAGES), by the name of its picture
PAGES = {
    "overview": "/",
    "coverage": "/coverage",
    "recruitment": "/recruitment",
    "comparison": "/comparison",
    "benchmark": "/benchmark",
    "forecast": "/forecast",
    "data": "/data",
}
UPLOAD = "#dt-upload-placements input[type=file]"
# the messy demo's data files; faults.csv (the list of faults) and README.txt are not data
UPLOADED_FILES = ("episodes.csv", "header.csv", "uasc.csv", "carers.csv")
WIDTH, HEIGHT = 1440, 1500


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
            "      .some(g => !g.data || g.data.length === 0);"
        )
        if not busy:
            time.sleep(1.0)
            return
        time.sleep(0.3)


def wait_for_text(driver, selector: str, text: str, timeout: float = 180) -> str:
    """The text of ``selector`` once it contains ``text``; SystemExit with what it shows if not."""
    end = time.time() + timeout
    shown = ""
    while time.time() < end:
        shown = driver.execute_script(
            "const e = document.querySelector(arguments[0]); return e ? e.innerText : '';", selector
        )
        if text in shown:
            return shown
        time.sleep(0.5)
    raise SystemExit(f"Timed out waiting for {text!r} in {selector}; it shows: {shown[:500]!r}")


def click(driver, element) -> None:
    """Click ``element`` as a user would: scrolled into view first (not under the banner)."""
    driver.execute_script("arguments[0].scrollIntoView({block: 'center'});", element)
    time.sleep(0.5)
    element.click()


def write_messy_demo(folder: Path) -> list[Path]:
    """The ``--messy`` demo, written as ``placemap demo --messy --out folder`` writes it."""
    from geo.demo import demo_dataset, write_demo

    write_demo(folder, demo_dataset(messy=True))
    return [folder / name for name in UPLOADED_FILES]


def upload(driver, base: str, files: list[Path]) -> None:
    """Upload ``files`` on the Data page, use them, and wait until they are the data in use."""
    driver.get(f"{base}/data")
    wait_idle(driver)
    driver.find_element("css selector", UPLOAD).send_keys("\n".join(str(f) for f in files))
    end = time.time() + 240  # validated: "Use this data" enabled, or an alert says why not
    while time.time() < end:
        use = driver.find_element("css selector", "#dt-use")
        alert = driver.find_element("css selector", "#dt-alert").text
        if use.is_enabled() or alert:
            break
        time.sleep(0.5)
    if not use.is_enabled():
        raise SystemExit(f"The upload cannot be used: {alert or 'no answer within 4 minutes'}")
    wait_idle(driver)
    click(driver, use)
    wait_for_text(driver, "#dataset-badge", files[0].name)  # the banner names the upload
    wait_idle(driver)


def capture(driver, out: Path, *, full: bool) -> None:
    # from the top of the page (a click scrolls its button into view and keeps the focus)
    driver.execute_script("document.activeElement?.blur(); window.scrollTo(0, 0);")
    time.sleep(0.5)
    if full:
        height = driver.execute_script("return document.documentElement.scrollHeight")
        driver.set_window_size(WIDTH, max(HEIGHT, min(int(height) + 150, 12000)))
        time.sleep(1.0)  # graphs resize to the new window
    driver.save_screenshot(str(out))
    if full:
        driver.set_window_size(WIDTH, HEIGHT)
    print(out)


def download_html_report(driver, base: str, folder: Path) -> None:
    """Press *HTML* under the District comparison page's report downloads; keep the file."""
    driver.execute_cdp_cmd(
        "Browser.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(folder.resolve())}
    )
    before = set(folder.glob("*.html"))
    driver.get(f"{base}/comparison")
    wait_idle(driver)
    click(driver, driver.find_element("css selector", "#cp-dl-html"))
    end = time.time() + 180
    while time.time() < end:
        new = set(folder.glob("*.html")) - before
        if new:
            print(new.pop())
            return
        time.sleep(0.5)
    raise SystemExit("The HTML report was not downloaded within 3 minutes.")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--upload", action="store_true", help="upload the --messy demo on the Data page first"
    )
    parser.add_argument("--full", action="store_true", help="capture the whole page height")
    parser.add_argument("--out", type=Path, default=ROOT / "docs", help="folder for the pictures")
    parser.add_argument(
        "--text",
        type=Path,
        default=None,
        metavar="DIR",
        help="also write each page's text and the HTML report here",
    )
    args = parser.parse_args(argv)

    from selenium import webdriver
    from selenium.webdriver.chrome.options import Options

    from app.main import create_app
    from app.settings import Settings

    tmp = Path(tempfile.mkdtemp(prefix="placemap-shots-"))
    port = 8071
    token = "screenshots"  # local mode's token: the first page opened carries it
    base = f"http://127.0.0.1:{port}"
    app = create_app(
        Settings(
            cache_dir=tmp / "cache",
            upload_dir=tmp / "uploads",
            port=port,
            extra={"users_file": str(tmp / "users.json"), "local_token": token},
        )
    )
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # not a line per request
    threading.Thread(target=lambda: app.run(port=port, debug=False), daemon=True).start()
    options = Options()
    options.binary_location = "/usr/bin/chromium"
    for arg in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        f"--window-size={WIDTH},{HEIGHT}",
        "--hide-scrollbars",
    ):
        options.add_argument(arg)
    args.out.mkdir(parents=True, exist_ok=True)
    if args.text:
        args.text.mkdir(parents=True, exist_ok=True)
    driver = webdriver.Chrome(options=options)
    try:
        driver.get(f"{base}/?token={token}")  # exchanged for a session cookie
        pages = dict(PAGES)
        if args.upload:
            upload(driver, base, write_messy_demo(tmp / "messy"))
            # the Data page as the upload left it: rows accepted and rejected, with reasons
            pages.pop("data")
            _save(driver, args, "data")
        for name, path in pages.items():
            driver.get(f"{base}{path}")  # a new page load keeps the dataset (session storage)
            wait_idle(driver)
            _save(driver, args, name)
        if args.text:
            download_html_report(driver, base, args.text)
    finally:
        driver.quit()


def _save(driver, args: argparse.Namespace, name: str) -> None:
    capture(driver, args.out / f"screenshot-{name}.png", full=args.full)
    if args.text:
        (args.text / f"{name}.txt").write_text(
            driver.execute_script("return document.body.innerText"), encoding="utf-8"
        )


if __name__ == "__main__":
    main()
