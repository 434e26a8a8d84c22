"""Issue 17, items 6, 7 and 9 in a real headless Chromium: the comparison's sort and trend, the
area filter, the maps' size and names, local mode's links, the Data page, the HTML report."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from tests.app.conftest import requires_browser
from tests.app.local_app import local_app, start
from tests.app.test_browser import severe_logs, wait_for_graph, wait_idle

pytestmark = [
    requires_browser,
    pytest.mark.browser,
    pytest.mark.xdist_group("browser"),
    pytest.mark.filterwarnings("ignore::pytest.PytestUnhandledThreadExceptionWarning"),
]


@pytest.fixture(scope="module")
def app(app_cache_dir, tmp_path_factory):
    return local_app(app_cache_dir, tmp_path_factory.mktemp("state"))


def _open(dash_duo, app, path: str) -> None:
    start(dash_duo, app)
    dash_duo.driver.get(dash_duo.server_url + path)
    dash_duo.wait_for_element(".page-title", timeout=60)
    wait_idle(dash_duo)


def _choose(dash_duo, select_id: str, value: str) -> None:
    """Set a (React) select's value as a person choosing an option does."""
    dash_duo.driver.execute_script(
        "const el = document.getElementById(arguments[0]);"
        "const set = Object.getOwnPropertyDescriptor(HTMLSelectElement.prototype, 'value').set;"
        "set.call(el, arguments[1]); el.dispatchEvent(new Event('change', {bubbles: true}));",
        select_id,
        value,
    )


def test_comparison_sorts_c_as_small_and_the_trend_is_small_multiples(dash_duo, app):
    _open(dash_duo, app, "/comparison")
    dash_duo.wait_for_element("#cp-grid", timeout=60)
    button = '[id="{\\"col\\":\\"gap_shown\\",\\"type\\":\\"cp-sort\\"}"]'
    dash_duo.find_element(button).click()
    # a count column sorts largest first on the first click
    dash_duo.wait_for_contains_text("#cp-status", "Coverage gap, descending", timeout=30)
    wait_idle(dash_duo)
    gaps = dash_duo.driver.execute_script(
        "return Array.from(document.querySelectorAll('#cp-grid tbody tr:not(.total-row)'))"
        ".map(r => r.lastElementChild.textContent)"
    )
    body = gaps[:12]  # the districts; Outside and the total stay pinned below
    assert "c" in body, body
    keys = [3.0 if g == "c" else float(g.replace(",", "")) for g in body]
    assert keys == sorted(keys, reverse=True), body  # 6+ … c … 0: c is small, not zero
    assert "sorts as a small number" in dash_duo.find_element("#cp-sort-note").text

    fig = dash_duo.driver.execute_script(
        "const g = document.querySelector('#cp-trend .js-plotly-plot');"
        "return {data: g.data.map(t => ({name: t.name, x: t.xaxis, colour: t.line && t.line.color,"
        " legend: t.showlegend})), layout: g.layout};"
    )
    lines = [t for t in fig["data"] if t["x"]]
    districts = [t for t in lines if t["name"] != "Kent total"]
    totals = [t for t in lines if t["name"] == "Kent total"]
    assert len(districts) == 12
    assert len({t["x"] for t in districts}) == 12  # one panel each: no two share a chart
    assert len(totals) == 12 and len({t["colour"] for t in totals}) == 1  # grey reference
    ticks = fig["layout"]["xaxis"]["ticktext"]
    assert ticks[0] == "Mar<br>2017" and ticks[-1] == "Dec<br>2018", ticks
    assert not any(t.startswith(("Jan", "Apr", "Jul", "Oct")) for t in ticks)
    assert severe_logs(dash_duo) == []


def test_area_filter_relabels_and_draws_other_districts_as_outside(dash_duo, app):
    _open(dash_duo, app, "/")
    wait_for_graph(dash_duo, "ov-map")
    _choose(dash_duo, "ov-group", "West Kent")
    dash_duo.wait_for_contains_text("#ov-kpis", "West Kent: within 20 miles", timeout=30)
    wait_idle(dash_duo)
    table = dash_duo.find_element("#ov-table").text
    assert "West Kent total" in table and "Kent total\n" not in table.replace("West Kent", "")
    assert "Ashford" not in table  # East Kent: not a district of the area
    kpis = dash_duo.find_element("#ov-kpis").text
    assert "other filters do not apply" in kpis  # UASC / short breaks say what they ignore
    traces = dash_duo.driver.execute_script(
        "return document.querySelector('#ov-map .js-plotly-plot').data"
        ".map(t => ({name: t.name, type: t.type, locations: t.locations || [],"
        " legend: t.showlegend}));"
    )
    outside = [t for t in traces if t["name"] == "Outside the selected area"]
    assert outside and any(t["legend"] for t in outside)
    drawn_outside = {c for t in outside for c in t["locations"]}
    assert len(drawn_outside) == 8  # North and East Kent
    grey = [t for t in traces if (t["name"] or "").startswith("No children")]
    assert not {c for t in grey for c in t["locations"]} & drawn_outside
    assert severe_logs(dash_duo) == []


def test_map_fills_its_panel_and_names_do_not_overlap(dash_duo, app):
    _open(dash_duo, app, "/")
    wait_for_graph(dash_duo, "ov-map")
    wait_idle(dash_duo)
    time.sleep(0.5)
    m = dash_duo.driver.execute_script(
        "const g = document.querySelector('#ov-map .js-plotly-plot');"
        "const svg = g.querySelector('.main-svg').getBoundingClientRect();"
        "const box = r => ({l: r.left, r: r.right, t: r.top, b: r.bottom});"
        "const own = Array.from(g.querySelectorAll('g.trace.choropleth'))"
        "  .filter((_, i) => true).flatMap(t => Array.from("
        "  t.querySelectorAll('path.choroplethlocation')));"
        "const labels = Array.from(g.querySelectorAll('g.trace.scattergeo text'))"
        "  .filter(t => t.textContent.trim()).map(t => ({text: t.textContent,"
        "  ...box(t.getBoundingClientRect())}));"
        "return {svg: box(svg), height: svg.height, labels: labels};"
    )
    assert m["height"] >= 460  # sized to its panel, not a fixed small box
    names = {lab["text"] for lab in m["labels"]}
    for name in ("Sevenoaks", "Thanet", "Dartford", "Gravesham"):
        assert any(name in n for n in names), names
    labels = m["labels"]
    for i, a in enumerate(labels):
        assert a["l"] >= m["svg"]["l"] and a["r"] <= m["svg"]["r"], a  # not clipped
        for b in labels[i + 1 :]:
            overlap = min(a["r"], b["r"]) - max(a["l"], b["l"]) > 1 and (
                min(a["b"], b["b"]) - max(a["t"], b["t"]) > 1
            )
            assert not overlap, (a, b)
    # Kent fills the panel's width (it used to share it with its neighbours, small in the middle)
    extent = dash_duo.driver.execute_script(
        "const g = document.querySelector('#ov-map .js-plotly-plot');"
        "const ids = new Set(g.data.filter(t => /arget|No children/.test(t.name || ''))"
        "  .flatMap(t => t.locations));"
        "let l = 1e9, r = -1e9;"
        "g.querySelectorAll('g.trace.choropleth').forEach((tr, i) => {"
        "  const t = g.data.filter(d => d.type === 'choropleth')[i];"
        "  if (!t || !/arget|No children/.test(t.name || '')) return;"
        "  tr.querySelectorAll('path.choroplethlocation').forEach(p => {"
        "    const b = p.getBoundingClientRect(); l = Math.min(l, b.left); r = Math.max(r, b.right);"
        "  });"
        "});"
        "return (r - l) / g.getBoundingClientRect().width;"
    )
    assert extent > 0.6, extent  # was under 0.5 when the map fitted the neighbours too


def test_local_mode_offers_only_what_works(dash_duo, app, app_cache_dir, tmp_path):
    _open(dash_duo, app, "/data")
    nav = dash_duo.find_element(".navbar").text
    assert "Admin" not in nav and "Sign out" not in nav  # no accounts in local mode
    assert not dash_duo.find_element("#dt-delete").is_displayed()  # the demo: nothing to delete
    # a carers register alone is paired with the placements in use
    from app.data.state import store

    with app.server.app_context():
        demo = store().get(None)
    carers = tmp_path / "my_carers.csv"
    carers.write_bytes(demo.files["carers"].read_bytes())  # the demo's folder holds it
    upload = "#dt-upload-placements input[type=file]"
    dash_duo.find_element(upload).send_keys(str(carers))
    dash_duo.wait_for_contains_text("#dt-result", "Paired with", timeout=90)
    result = dash_duo.find_element("#dt-result").text
    assert "Synthetic Kent demo" in result and "my_carers.csv" in result
    dash_duo.find_element("#dt-use").click()
    dash_duo.wait_for_contains_text("#dataset-badge", "my_carers.csv", timeout=60)
    wait_idle(dash_duo)
    assert dash_duo.find_element("#dt-delete").is_displayed()  # an upload in use: offered
    # the upload summary names the UASC table in capitals
    for role in ("episodes", "uasc"):
        (tmp_path / f"{role}.csv").write_bytes(
            (demo.files["episodes"] / f"{role}.csv").read_bytes()
        )
    dash_duo.find_element(upload).send_keys(
        str(tmp_path / "episodes.csv") + "\n" + str(tmp_path / "uasc.csv")
    )
    dash_duo.wait_for_contains_text("#dt-result", "UASC:", timeout=90)
    assert "Uasc" not in dash_duo.find_element("#dt-result").text
    assert severe_logs(dash_duo) == []


def test_html_report_tables_fit_at_1440_px(dash_duo, app, tmp_path):
    from app.data.state import store
    from app.reports.view import render_report

    with app.server.app_context():
        data, _ = render_report(store(), None, fmt="html")
    assert b"@media print" in data
    page = Path(tmp_path / "report.html")
    page.write_bytes(data)
    dash_duo.driver.set_window_size(1440, 1000)
    dash_duo.driver.get(page.as_uri())
    widths = dash_duo.driver.execute_script(
        "return Array.from(document.querySelectorAll('.scroll')).map(s =>"
        " [s.querySelector('table').scrollWidth, s.clientWidth]);"
    )
    assert widths and all(table <= box + 1 for table, box in widths), widths
