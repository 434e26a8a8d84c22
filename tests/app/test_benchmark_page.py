"""The Benchmark page: callbacks called directly, and the page in a real headless Chromium."""

from __future__ import annotations

import pytest

from app.benchmark_figures import neighbour_bars, neighbour_rows, trend_rows
from app.benchmark_view import authority_benchmark
from tests.app.conftest import requires_browser
from tests.app.local_app import TOKEN, local_app, start
from tests.app.test_browser import severe_logs, wait_idle

pytestmark = pytest.mark.xdist_group("app-demo")


def test_figures_keep_symbols_and_highlight_the_authority():
    ref, bench = authority_benchmark("E09000032")  # Wandsworth, 2023: c over 20 miles
    rows = neighbour_rows(bench, measure="pct_over_20_miles", year=2023)
    mine = rows[rows["area_type"] == "authority"].iloc[0]
    assert mine["text"] == "c (suppressed)" and mine["area_name"] == "Wandsworth"
    fig = neighbour_bars(bench, measure="pct_over_20_miles", year=2023)
    bar = fig.data[0]
    assert "c (suppressed)" in list(bar.text)
    colours = dict(zip(bar.y, bar.marker.color, strict=True))
    assert colours["Wandsworth"] != colours["Merton"]
    assert len(bar.y) == 11  # the authority and its 10 neighbours, none dropped
    t = trend_rows(bench, measure="pct_over_20_miles").set_index("year")
    assert t.at[2023, "authority"] == "c" and t.at[2025, "england"] == "22"


@pytest.fixture(scope="module")
def app(app_cache_dir, tmp_path_factory):
    return local_app(app_cache_dir, tmp_path_factory.mktemp("state"))


def test_callbacks_on_the_demo(app_cache_dir, tmp_path):
    app = local_app(app_cache_dir, tmp_path)
    from app.pages.benchmark import update_benchmark, update_own

    with app.server.test_request_context(f"/?token={TOKEN}"):
        app.server.preprocess_request()  # the local analyst (the printed link)
        bars, bars_table, trend, trend_table, alert = update_benchmark("pct_within_20_miles", 2025)
        assert alert is None
        assert "Kent" in str(bars_table) and "58" in str(bars_table)  # neighbours' median
        assert [t.name for t in trend.data][0] == "Kent"
        own = str(update_own(None))
        # the demo is as at 31/12/2018: own data at 31 March 2018 beside the nearest year, 2021
        assert "31 March 2018" in own and "DfE published, 2021" in own


@requires_browser
@pytest.mark.browser
@pytest.mark.filterwarnings("ignore::pytest.PytestUnhandledThreadExceptionWarning")
def test_page_in_the_browser_is_labelled_and_has_tables(dash_duo, app):
    start(dash_duo, app)
    dash_duo.driver.get(f"{dash_duo.server.url}/benchmark")
    dash_duo.wait_for_text_to_equal("h1", "How do we compare?", timeout=60)
    wait_idle(dash_duo)
    heads = [h.text for h in dash_duo.find_elements("h2")]
    assert heads == [
        "Against statistical neighbours",
        "Over time",
        "Your own data on the DfE definitions",
    ]
    labels = {e.get_attribute("for") for e in dash_duo.find_elements("label")}
    assert {"bm-measure", "bm-year"} <= labels
    dash_duo.wait_for_contains_text("#bm-bars-table", "Essex", timeout=30)
    dash_duo.wait_for_contains_text("#bm-own", "31 March 2018", timeout=90)
    assert len(dash_duo.find_elements("#bm-bars .js-plotly-plot")) == 1
    assert not severe_logs(dash_duo)
