"""Browser tests: real headless Chromium (Debian's chromium + chromedriver) via dash[testing]."""

from __future__ import annotations

import os
import shutil

import pytest

os.environ.setdefault("DASH_TEST_CHROMEPATH", shutil.which("chromium") or "/usr/bin/chromium")


def pytest_setup_options():
    """Chromium options for dash_duo: headless, no network chatter, fixed window size."""
    from selenium.webdriver.chrome.options import Options

    options = Options()
    for arg in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--window-size=1440,1000",
        "--hide-scrollbars",
    ):
        options.add_argument(arg)
    return options


@pytest.fixture(scope="session")
def app_cache_dir(tmp_path_factory):
    """One cache (demo data, derived boundaries) shared by the app tests of a session."""
    return tmp_path_factory.mktemp("placemap-cache")


def browser_available() -> bool:
    return bool(shutil.which("chromedriver")) and bool(
        shutil.which("chromium") or os.path.exists("/usr/bin/chromium")
    )


requires_browser = pytest.mark.skipif(
    not browser_available(),
    reason="Chromium/chromedriver not installed: run `make browser-deps` (make test does)",
)
