"""WCAG 2.2 AA in a real headless Chromium (dash[testing]): axe-core on every page and after the
main interactions, every graph named with a table equivalent, the what-if by keyboard only,
sorting that keeps the focus and says the order."""

from __future__ import annotations

import time

import pytest
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.keys import Keys

from app.main import FOOTER_PAGES, PAGES
from tests.app.axe import axe_violations, require_axe, summary
from tests.app.conftest import requires_browser
from tests.app.local_app import local_app
from tests.app.local_app import start as start_local

pytestmark = [
    requires_browser,
    pytest.mark.browser,
    pytest.mark.xdist_group("browser"),
    # dash.testing's ThreadedRunner stops its server by raising SystemExit inside request
    # threads that may still be computing when a test ends; that is the harness, not the app.
    pytest.mark.filterwarnings("ignore::pytest.PytestUnhandledThreadExceptionWarning"),
]


@pytest.fixture(scope="module")
def app(app_cache_dir, tmp_path_factory):
    return local_app(app_cache_dir, tmp_path_factory.mktemp("a11y-state"))


def start(dash_duo, app) -> None:
    """Start the server and open the local-mode link, once axe is there to check the pages."""
    require_axe()
    start_local(dash_duo, app)


def wait_idle(dash_duo, timeout: float = 90) -> None:
    """Until no callback is pending and every graph has drawn."""
    end = time.time() + timeout
    time.sleep(0.5)
    while time.time() < end:
        busy = dash_duo.driver.execute_script(
            "return document.querySelector('[data-dash-is-loading=\"true\"]') !== null"
            " || document.querySelector('.page-title') === null"
            " || Array.from(document.querySelectorAll('.js-plotly-plot'))"
            "      .some(g => !g.data || g.data.length === 0);"
        )
        if not busy:
            return
        time.sleep(0.3)
    raise AssertionError("callbacks still running")


def open_page(dash_duo, path: str) -> None:
    dash_duo.driver.get(dash_duo.server_url + path)
    dash_duo.wait_for_element(".page-title", timeout=60)
    wait_idle(dash_duo)


def assert_axe_clean(dash_duo, where: str) -> None:
    found = axe_violations(dash_duo.driver)
    assert found == [], f"{where}: {summary(found)}"


# Every plotly graph sits in a <figure> with an accessible name, and the figure either holds a
# "Show as table" <details> with a <table> or points (aria-details) at a table on the page.
GRAPHS_JS = """
return Array.from(document.querySelectorAll('.js-plotly-plot')).map(g => {
  const fig = g.closest('figure');
  const name = fig ? (fig.getAttribute('aria-label') || '') : '';
  let table = null;
  if (fig) {
    const details = fig.querySelector('details.graph-table');
    if (details) { details.open = true; table = details.querySelector('table'); }
    const ref = fig.getAttribute('aria-details');
    if (!table && ref) {
      const el = document.getElementById(ref);
      table = el && (el.tagName === 'TABLE' ? el : el.querySelector('table'));
    }
  }
  return {id: g.parentElement.id || g.closest('[id]').id, name: name,
          rows: table ? table.querySelectorAll('tbody tr').length : 0};
});
"""


def graph_tables(driver, timeout: float = 30) -> list[dict]:
    """The graphs of the page with their names and table rows, once every table has rows (a
    table may be drawn a moment after its graph)."""
    end = time.time() + timeout
    while True:
        graphs = driver.execute_script(GRAPHS_JS)
        if all(g["rows"] > 0 for g in graphs) or time.time() > end:
            return graphs
        time.sleep(0.3)


def test_every_page_is_axe_clean_and_every_graph_has_a_name_and_a_table(dash_duo, app):
    start(dash_duo, app)
    driver = dash_duo.driver
    assert driver.execute_script("return document.documentElement.lang") == "en-GB"
    graphs = 0
    for _module, path, _name in PAGES + FOOTER_PAGES:
        open_page(dash_duo, path)
        assert len(dash_duo.find_elements("main#main-content h1")) == 1, path
        assert dash_duo.find_elements("footer a[href='/accessibility']"), path
        for g in graph_tables(driver):
            assert len(g["name"]) > 10, (path, g)
            assert g["rows"] > 0, (path, g)
            graphs += 1
        time.sleep(0.3)  # an opened "Show as table" is checked by axe too
        assert_axe_clean(dash_duo, path)
        # reflow (WCAG 1.4.10): at 320 CSS px (400 % zoom) the page does not scroll sideways
        driver.execute_cdp_cmd(
            "Emulation.setDeviceMetricsOverride",
            {"width": 320, "height": 800, "deviceScaleFactor": 1, "mobile": False},
        )
        time.sleep(0.5)
        width = driver.execute_script("return document.documentElement.scrollWidth")
        driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
        assert width <= 320, (path, width)
    assert graphs >= 5  # two maps, the comparison's bars and trend, the overview map
    # the skip link is the first thing the keyboard reaches, and it moves the focus to <main>
    open_page(dash_duo, "/comparison")
    driver.find_element("tag name", "body").send_keys(Keys.TAB)
    active = driver.switch_to.active_element
    assert active.text == "Skip to main content"
    active.send_keys(Keys.ENTER)
    assert driver.execute_script("return document.activeElement.id") == "main-content"


def test_axe_clean_after_a_filter_a_suggestion_run_a_sort_and_an_upload_error(
    dash_duo, app, tmp_path
):
    start(dash_duo, app)
    driver = dash_duo.driver
    # a filter change: 10 miles, and a census-date select moved by the keyboard
    open_page(dash_duo, "/")
    dash_duo.find_element("label[for='_dbcprivate_radioitems_ov-threshold_input_10']").click()
    dash_duo.wait_for_contains_text("#ov-status", "within 10 miles", timeout=30)
    wait_idle(dash_duo)
    assert_axe_clean(dash_duo, "/ after a filter change")
    # a suggestion run
    open_page(dash_duo, "/recruitment")
    dash_duo.find_element("#rc-run").click()
    dash_duo.wait_for_contains_text("#rc-status", "Suggestions updated", timeout=60)
    wait_idle(dash_duo)
    assert_axe_clean(dash_duo, "/recruitment after suggestions")
    # a sort by keyboard: the focus stays on the heading's button, aria-sort and the live
    # region say the order
    open_page(dash_duo, "/comparison")
    button = dash_duo.find_element("#cp-grid th:nth-child(3) button")
    driver.execute_script("arguments[0].focus();", button)
    ActionChains(driver).send_keys(Keys.ENTER).perform()
    dash_duo.wait_for_contains_text("#cp-status", "Table sorted by % within 20 mi", timeout=30)
    wait_idle(dash_duo)
    th = dash_duo.find_element("#cp-grid th:nth-child(3)")
    assert th.get_attribute("aria-sort") in ("ascending", "descending")
    focused = driver.execute_script("return document.activeElement.textContent")
    assert focused.startswith("% within 20 mi")
    assert_axe_clean(dash_duo, "/comparison after a sort")
    # an upload error
    bad = tmp_path / "episodes.csv"
    bad.write_text("CHILD,DECOM\n1,01/01/2018\n")
    open_page(dash_duo, "/data")
    upload = dash_duo.find_element("#dt-upload-placements input[type=file]")
    assert "Choose CSV, XML or XLSX files" in driver.execute_script(
        "return arguments[0].labels[0].textContent;", upload
    )
    upload.send_keys(str(bad))
    dash_duo.wait_for_contains_text("#dt-alert", "missing required column", timeout=30)
    assert_axe_clean(dash_duo, "/data after an upload error")


def _tab_to(driver, element_id: str, limit: int = 80) -> None:
    """Press Tab until ``element_id`` has the focus (the keyboard's own way there)."""
    for _ in range(limit):
        if driver.execute_script("return document.activeElement.id") == element_id:
            return
        ActionChains(driver).send_keys(Keys.TAB).perform()
    raise AssertionError(f"Tab never reached #{element_id}")


def _settled_value(driver, element_id: str, ok, timeout: float = 20.0) -> str:
    """The select's value once ``ok(value)`` holds (the page redraws asynchronously)."""
    import time

    end = time.time() + timeout
    value = ""
    while time.time() < end:
        value = driver.execute_script(
            "const e = document.getElementById(arguments[0]); return e ? e.value : '';",
            element_id,
        )
        if ok(value):
            return value
        time.sleep(0.2)
    raise AssertionError(f"#{element_id} value stayed {value!r}")


def test_what_if_by_keyboard_only_adds_and_removes_a_household(dash_duo, app):
    start(dash_duo, app)
    driver = dash_duo.driver
    open_page(dash_duo, "/recruitment")
    dash_duo.wait_for_element("#rc-area option", timeout=60)
    driver.find_element("tag name", "body").click()  # start from the top of the page
    # the page callback fills the list and chooses its first square: wait for that value
    first = _settled_value(driver, "rc-area", lambda v: v != "")
    _tab_to(driver, "rc-area")
    ActionChains(driver).send_keys(Keys.ARROW_DOWN).perform()  # a closed select moves on
    _settled_value(driver, "rc-area", lambda v: v not in ("", first))
    ActionChains(driver).send_keys(Keys.ARROW_UP).perform()
    chosen = _settled_value(driver, "rc-area", lambda v: v == first)
    assert chosen == first
    _tab_to(driver, "rc-add")
    ActionChains(driver).send_keys(Keys.ENTER).perform()
    dash_duo.wait_for_contains_text("#rc-districts", "1 edit(s)", timeout=60)
    dash_duo.wait_for_contains_text("#rc-status", "What-if updated: 1 edit(s)", timeout=30)
    wait_idle(dash_duo)
    # the change is marked in words (a "Changed" cell), not only by the row's shading
    marks = [e.text for e in dash_duo.find_elements("#rc-district-table td.changed-mark")]
    assert "Changed" in marks
    assert "Added a household" in dash_duo.find_element("#rc-districts").text
    assert_axe_clean(dash_duo, "/recruitment after a what-if edit")
    _tab_to(driver, "rc-remove")
    ActionChains(driver).send_keys(Keys.SPACE).perform()
    dash_duo.wait_for_contains_text("#rc-districts", "2 edit(s)", timeout=60)
    wait_idle(dash_duo)
    marks = [e.text for e in dash_duo.find_elements("#rc-district-table td.changed-mark")]
    assert "Changed" not in marks  # removing the one added leaves every district as it was
    assert "Removed one added" in dash_duo.find_element("#rc-districts").text
    assert driver.execute_script("return document.activeElement.id") == "rc-remove"
