"""Every page at 200 % zoom (docs/zoom200-<page>.png), and the reflow check at 320 CSS px:
``.venv/bin/python docs/make_zoom_screenshots.py``.

200 % zoom on a 1280 px wide screen is a 640 CSS px viewport drawn at two device pixels per CSS
pixel, which is what Chromium's device metrics emulate here. At 320 CSS px (400 % zoom) the
script reports any page that scrolls sideways (WCAG 1.4.10; a wide table may scroll inside its
own box, the page may not).
"""

from __future__ import annotations

import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

TOKEN = "zoom-screenshots"


def wait_idle(driver, timeout: float = 120) -> None:
    end = time.time() + timeout
    time.sleep(1.5)
    while time.time() < end:
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


def emulate(driver, width: int, height: int, scale: float) -> None:
    driver.execute_cdp_cmd(
        "Emulation.setDeviceMetricsOverride",
        {"width": width, "height": height, "deviceScaleFactor": scale, "mobile": False},
    )


def shrink(path: Path) -> None:
    """A 256-colour PNG: a fifth of the size, the same to read."""
    from PIL import Image

    with Image.open(path) as im:
        small = im.convert("RGB").quantize(colors=256, method=Image.Quantize.MEDIANCUT)
    small.save(path, optimize=True)


def main() -> None:
    from selenium import webdriver
    from selenium.webdriver.chrome.options import Options

    from app.main import FOOTER_PAGES, PAGES, create_app
    from app.settings import Settings

    tmp = Path(tempfile.mkdtemp(prefix="placemap-zoom-"))
    port = 8072
    app = create_app(
        Settings(
            cache_dir=tmp / "cache",
            upload_dir=tmp / "uploads",
            port=port,
            extra={"users_file": str(tmp / "users.json"), "local_token": TOKEN},
        )
    )
    threading.Thread(target=lambda: app.run(port=port, debug=False), daemon=True).start()
    options = Options()
    options.binary_location = "/usr/bin/chromium"
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu",
                "--disable-background-networking", "--hide-scrollbars"):  # fmt: skip
        options.add_argument(arg)
    driver = webdriver.Chrome(options=options)
    sideways = []
    try:
        driver.get(f"http://127.0.0.1:{port}/?token={TOKEN}")  # exchanged for a session cookie
        # the first page computes the demo's tables: wait for its figures before the shots
        end = time.time() + 300
        while time.time() < end and not driver.execute_script(
            "return document.querySelector('#ov-kpis .kpi-card') !== null"
        ):
            time.sleep(0.5)
        for _module, path, _name in PAGES + FOOTER_PAGES:
            name = path.strip("/") or "overview"
            emulate(driver, 640, 900, 2)
            driver.get(f"http://127.0.0.1:{port}{path}")
            wait_idle(driver)
            height = driver.execute_script("return document.documentElement.scrollHeight")
            emulate(driver, 640, int(height), 2)
            time.sleep(1.0)
            out = ROOT / "docs" / f"zoom200-{name}.png"
            driver.save_screenshot(str(out))
            shrink(out)
            print(out)
            emulate(driver, 320, 900, 1)
            time.sleep(1.5)
            width = driver.execute_script("return document.documentElement.scrollWidth")
            if width > 320:
                sideways.append(f"{path}: {width} CSS px wide at 320")
    finally:
        driver.quit()
    print("\n".join(sideways) or "reflow: no page scrolls sideways at 320 CSS px")


if __name__ == "__main__":
    main()
