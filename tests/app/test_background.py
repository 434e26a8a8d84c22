"""Long work in the app (issue 24): the recruitment search runs as a Dash background callback in
a real headless Chromium, shows its progress, and Cancel stops it and leaves the page usable."""

from __future__ import annotations

import time

import psutil
import pytest
from selenium.webdriver.common.keys import Keys

from app.background import progress_value, reporter
from geo.progress import Stage
from tests.app.conftest import requires_browser
from tests.app.local_app import local_app
from tests.app.test_accessibility import assert_axe_clean, open_page, start


def test_progress_value_words_and_percent():
    stage = Stage("choosing sites for 50 households among 263 sectors", 5, 50, "households")
    assert progress_value(stage) == (
        10,
        "Choosing sites for 50 households among 263 sectors: 5 of 50 households",
    )
    assert progress_value(Stage("reading 3 files")) == (0, "Reading 3 files…")


def test_reporter_shows_every_new_stage_and_throttles_repeats():
    shown: list[tuple[int, str]] = []
    show = reporter(shown.append)
    for done in range(100):  # one stage reported many times in a moment: shown once
        show(Stage("listing pairs", done, 100, "sectors"))
    show(Stage("matching 1,343 children to 964 households"))
    assert shown == [
        (0, "Listing pairs: 0 of 100 sectors"),
        (0, "Matching 1,343 children to 964 households…"),
    ]


@pytest.fixture
def app(app_cache_dir, tmp_path):
    return local_app(app_cache_dir, tmp_path)


def _running_children() -> list[psutil.Process]:
    """Forked copies of this process still at work (background jobs; not chromedriver)."""
    me = psutil.Process()
    out = []
    for child in me.children():
        try:
            if child.cmdline() == me.cmdline() and child.status() != psutil.STATUS_ZOMBIE:
                out.append(child)
        except psutil.NoSuchProcess:
            continue
    return out


@requires_browser
@pytest.mark.browser
def _click(driver, element) -> None:
    """Click after scrolling the element to the middle of the window (the page is long)."""
    from selenium.common.exceptions import ElementClickInterceptedException

    driver.execute_script("arguments[0].scrollIntoView({block: 'center'});", element)
    try:
        element.click()
    except ElementClickInterceptedException:  # a sticky bar over it: the button's own click
        driver.execute_script("arguments[0].click();", element)


@pytest.mark.xdist_group("browser")
@pytest.mark.filterwarnings("ignore::pytest.PytestUnhandledThreadExceptionWarning")
def test_search_shows_progress_and_cancel_stops_it(dash_duo, app, monkeypatch):
    import app.pages.recruitment as page

    # A slow laptop: each progress report of the real search takes a second longer, so the
    # search (50 households: one report each) outlasts the test's look at it.
    def slow_reporter(set_progress):
        show = reporter(set_progress)

        def slow(stage: Stage) -> None:
            show(stage)
            time.sleep(1.0)

        return slow

    monkeypatch.setattr(page, "reporter", slow_reporter)
    start(dash_duo, app)
    driver = dash_duo.driver
    open_page(dash_duo, "/recruitment")
    dash_duo.wait_for_contains_text("#rc-status", "", timeout=60)
    before = dash_duo.find_element("#rc-suggestions").text
    assert not dash_duo.find_element("#rc-working").is_displayed()
    for field, value in (("#rc-n", "50"), ("#rc-places", "1")):
        box = dash_duo.find_element(field)
        box.send_keys(Keys.CONTROL, "a")
        box.send_keys(value)
    _click(driver, dash_duo.find_element("#rc-run"))
    dash_duo.wait_for_contains_text(
        "#rc-progress-text", "Choosing sites for 50 households", timeout=30
    )
    assert dash_duo.find_element("#rc-working").is_displayed()
    assert dash_duo.find_element("#rc-run").get_attribute("disabled") is not None
    assert _running_children(), "the search runs in a child process"
    assert_axe_clean(dash_duo, "/recruitment while a search runs")
    cancel = dash_duo.find_element("#rc-cancel")
    assert cancel.text == "Cancel the search"
    _click(driver, cancel)
    dash_duo.wait_for_element_by_css_selector("#rc-working[hidden]", timeout=10)
    end = time.time() + 10
    while _running_children() and time.time() < end:
        time.sleep(0.2)
    assert not _running_children(), "Cancel ends the child process"
    assert dash_duo.find_element("#rc-run").get_attribute("disabled") is None
    assert dash_duo.find_element("#rc-suggestions").text == before  # the last result stays
    # the page is usable: a what-if edit works at once
    _click(driver, dash_duo.find_element("#rc-add"))
    dash_duo.wait_for_contains_text("#rc-status", "What-if updated: 1 edit(s)", timeout=60)
    assert "for 10 new household(s)" in dash_duo.find_element("#rc-suggestions").text
    assert driver.execute_script("return document.activeElement.id") == "rc-add"
