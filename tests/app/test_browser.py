"""The app in a real headless Chromium (dash[testing]): pages, map, filters, upload, what-if."""

from __future__ import annotations

import time

import pytest

from tests.app.conftest import requires_browser
from tests.app.local_app import local_app, start

pytestmark = [
    requires_browser,
    pytest.mark.browser,
    pytest.mark.xdist_group("browser"),
    # dash.testing's ThreadedRunner stops its server by raising SystemExit inside request
    # threads that may still be computing when a test ends; that is the harness, not the app.
    pytest.mark.filterwarnings("ignore::pytest.PytestUnhandledThreadExceptionWarning"),
]

PAGES = ["/", "/coverage", "/recruitment", "/comparison", "/data"]


@pytest.fixture(scope="module")
def app(app_cache_dir, tmp_path_factory):
    """One app (and server-side cache) for the module: pages answer from warm caches."""
    return local_app(app_cache_dir, tmp_path_factory.mktemp("state"))


def severe_logs(dash_duo) -> list[dict]:
    return [e for e in dash_duo.get_logs() or [] if e.get("level") == "SEVERE"]


def graph_data(dash_duo, graph_id: str) -> list[dict]:
    return dash_duo.driver.execute_script(
        f"const g = document.querySelector('#{graph_id} .js-plotly-plot');"
        "return g && g.data ? g.data.map(t => ({type: t.type, name: t.name, "
        "locations: t.locations || [], text: t.text || []})) : null;"
    )


def wait_idle(dash_duo, timeout: float = 90) -> None:
    """Wait until no Dash callback is pending (the renderer marks the page while loading)."""
    end = time.time() + timeout
    while time.time() < end:
        busy = dash_duo.driver.execute_script(
            "return document.querySelector('[data-dash-is-loading=\"true\"]') !== null;"
        )
        if not busy:
            return
        time.sleep(0.3)
    raise AssertionError("callbacks still running")


def wait_for_graph(dash_duo, graph_id: str, timeout: float = 40) -> list[dict]:
    end = time.time() + timeout
    while time.time() < end:
        data = graph_data(dash_duo, graph_id)
        if data and any(t["locations"] for t in data):
            return data
        time.sleep(0.3)
    raise AssertionError(f"graph {graph_id} did not render")


def test_every_page_loads_without_console_errors(dash_duo, app):
    start(dash_duo, app)
    for path in PAGES:
        dash_duo.driver.get(dash_duo.server_url + path)
        dash_duo.wait_for_element(".page-title", timeout=60)
        dash_duo.wait_for_no_elements("._dash-loading", timeout=60)
        wait_idle(dash_duo)
        assert not dash_duo.find_elements(".alert-danger"), path
        assert "nothing to delete" not in dash_duo.find_element("body").text, path  # no click
        assert severe_logs(dash_duo) == [], path


def test_map_renders_twelve_kent_districts_and_filter_changes_figures(dash_duo, app):
    start(dash_duo, app)
    data = wait_for_graph(dash_duo, "ov-map")
    banded = [
        t
        for t in data
        if t["type"] == "choropleth"
        and "arget" in (t["name"] or "")
        or (t["name"] or "").startswith("No children")
    ]
    kent = sorted(loc for t in banded for loc in t["locations"])
    assert len(kent) == 12 and all(c.startswith("E07") for c in kent)
    before = dash_duo.find_element("#ov-kpis").text
    dash_duo.find_element("label[for='_dbcprivate_radioitems_ov-threshold_input_10']").click()
    dash_duo.wait_for_contains_text("#ov-kpis", "within 10 miles", timeout=30)
    assert dash_duo.find_element("#ov-kpis").text != before
    assert severe_logs(dash_duo) == []


def test_bad_upload_shows_the_error(dash_duo, app, tmp_path):
    bad = tmp_path / "episodes.csv"
    bad.write_text("CHILD,DECOM\n1,01/01/2018\n")
    start(dash_duo, app)
    dash_duo.driver.get(dash_duo.server_url + "/data")
    dash_duo.wait_for_element("#dt-upload-placements input[type=file]", timeout=60)
    dash_duo.find_element("#dt-upload-placements input[type=file]").send_keys(str(bad))
    dash_duo.wait_for_contains_text("#dt-alert", "missing required column", timeout=30)
    assert "Traceback" not in dash_duo.driver.page_source


def test_what_if_click_changes_a_district_figure(dash_duo, app):
    """Click a 5 km square on the recruitment map: a hypothetical household is added there and
    a district's coverage figures change."""
    from selenium.webdriver.common.action_chains import ActionChains

    from app.coverage_view import result_with_edits
    from app.data.state import store

    with app.server.app_context():
        res = result_with_edits(store(), None)
    grid = res.areas[res.areas["area_type"].str.startswith("grid")]
    # squares with children at risk, most first (the demo's shortage is in West and North Kent)
    targets = grid[grid["children_at_risk"] > 0].sort_values("children_at_risk", ascending=False)
    targets = targets["area_id"].tolist()

    start(dash_duo, app)
    dash_duo.driver.get(dash_duo.server_url + "/recruitment")
    data = wait_for_graph(dash_duo, "rc-map", timeout=90)
    wait_idle(dash_duo)
    cells = next(i for i, t in enumerate(data) if targets[0] in t["locations"])
    order = [data[cells]["locations"].index(t) for t in targets]
    before = dash_duo.find_element("#rc-district-table").text
    # the first of those squares that is whole around its centre (the coast and the Thames cut
    # some squares: the centre of their box can be water, where a click selects nothing)
    path = dash_duo.driver.execute_script(
        "const g = document.querySelector('#rc-map .js-plotly-plot');"
        "const traces = g.querySelectorAll('g.trace.choropleth');"
        f"const paths = traces[{cells}].querySelectorAll('path.choroplethlocation');"
        "for (const i of arguments[0]) {"
        "  const p = paths[i], b = p.getBBox();"
        "  const cx = b.x + b.width / 2, cy = b.y + b.height / 2;"
        "  const pts = [[0, 0], [-0.3, 0], [0.3, 0], [0, -0.3], [0, 0.3]];"
        "  if (pts.every(([u, v]) => p.isPointInFill(new DOMPoint(cx + u * b.width,"
        "      cy + v * b.height)))) return p;"
        "}"
        "return null;",
        order,
    )
    assert path is not None, "no square with children at risk can be clicked"
    ActionChains(dash_duo.driver).move_to_element(path).click().perform()
    dash_duo.wait_for_contains_text("#rc-districts", "1 edit(s)", timeout=60)
    wait_idle(dash_duo)
    after = dash_duo.find_element("#rc-district-table").text
    assert after != before
    assert dash_duo.find_elements("#rc-district-table .changed-row")
    assert severe_logs(dash_duo) == []
