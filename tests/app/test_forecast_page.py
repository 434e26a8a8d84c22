"""The Forecast page: the disclosure rule for forecast tables, the fan chart builder, callbacks
called directly on the Kent demo, and the page in a real headless Chromium."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from app.forecast_figures import fan_chart
from geo.disclosure import suppress_forecast
from tests.app.conftest import requires_browser
from tests.app.local_app import TOKEN, local_app, start
from tests.app.test_browser import severe_logs, wait_idle

pytestmark = pytest.mark.xdist_group("app-demo")


def test_forecast_values_are_rounded_then_protected_like_counts():
    # one quarter: four districts and the total; 4.6 rounds to 5 (hidden) and takes its
    # interval with it; C, the smallest other district, is hidden so A cannot be worked out
    # from the total; D is shown but its lower bound of 3 is not
    t = pd.DataFrame(
        {
            "quarter_end": "2019-12-31",
            "district_code": ["A", "B", "C", "D", "T"],
            "children": [4.6, 30.2, 9.5, 20.4, 64.7],
            "lower_80": [2.0, 25.0, 6.0, 3.0, 55.0],
            "upper_80": [8.0, 36.0, 14.0, 30.0, 75.0],
        }
    )
    res = suppress_forecast(t, total_code="T")
    shown = res.table.set_index("district_code")
    assert shown.at["A", "children"] == "c" and shown.at["A", "upper_80"] == "c"
    assert shown.at["C", "children"] == "c" and shown.at["C", "upper_80"] == "c"
    assert res.mask["children"].sum() == 2
    assert shown.at["D", "children"] == 20 and shown.at["D", "lower_80"] == "c"
    assert shown.at["B", "children"] == 30 and shown.at["T", "children"] == 65


def test_fan_chart_draws_a_band_and_leaves_hidden_quarters_out():
    rows = pd.DataFrame(
        {
            "quarter_end": ["2018-09-30", "2018-12-31", "2019-03-31", "2019-06-30"],
            "recorded": [True, True, False, False],
            "children": [20.0, 22.0, np.nan, 24.0],
            "lower_80": [np.nan, np.nan, np.nan, 19.0],
            "upper_80": [np.nan, np.nan, np.nan, 29.0],
        }
    )
    fig = fan_chart(rows, title="t")
    names = [t.name for t in fig.data]
    assert names == ["80 % interval", "Recorded", "Expected"]
    expected = fig.data[2]
    assert list(expected.y)[0] == 22.0 and np.isnan(list(expected.y)[1])  # joins; hidden: gap
    assert "No figures" in str(fan_chart(rows.iloc[:0], title="t").layout.annotations[0].text)


@pytest.fixture(scope="module")
def app(app_cache_dir, tmp_path_factory):
    return local_app(app_cache_dir, tmp_path_factory.mktemp("state"))


def test_callbacks_on_the_demo(app):
    from app.pages.forecast import update_backtest, update_forecast, update_targets

    with app.server.test_request_context(f"/?token={TOKEN}"):
        app.server.preprocess_request()  # the local analyst (the printed link)
        fig, table, area, area_table, alert, status = update_forecast(None, "E07000110", 0, 0)
        assert alert is None and "expected in a year" in status
        assert [t.name for t in fig.data] == ["80 % interval", "Recorded", "Expected"]
        assert "Maidstone" in str(area_table) and "Forecast" in str(table)
        # a scenario with more entries gives a higher expected authority total
        more = update_forecast(None, "E07000110", 50, 0)[0]
        assert np.nanmax(more.data[2].y) > np.nanmax(fig.data[2].y)
        bad = update_forecast(None, "E07000110", 5000, 0)
        assert "between -100 % and 1000 %" in str(bad[4])
        words = str(update_backtest(None))
        assert "persistence" in words and "This model" in words
        targets = str(update_targets(None, 0, 0, 9.4, "2"))
        assert "Gross households" in targets and "In-house foster" in targets
        assert "end of year 2" in targets
        # more attrition: more gross places to recruit, the same net
        assert str(update_targets(None, 0, 0, 30, "2")) != targets


def test_the_pages_targets_are_placemap_forecasts(app, tmp_path):
    """One rule for the recruitment targets: the Forecast page gives the numbers
    ``placemap forecast --carers`` writes for the same data (each year's gap on the forecast
    demand, the register's own attrition when none is typed) and says where the attrition came
    from."""
    import json

    from app import forecast_view as fv
    from app.cli import main
    from app.data.state import store
    from app.pages.forecast import update_targets
    from geo.demo import demo_dataset, write_demo

    with app.server.test_request_context(f"/?token={TOKEN}"):
        app.server.preprocess_request()
        s = store()
        blank = fv.Scenario.from_inputs(0, 0, None)
        page = fv.targets(s, None, blank)
        lost = fv.attrition(s, None, blank)
        as_at = fv.history(s, s.get(None)).dates[-1]
        words = str(update_targets(None, 0, 0, None, "1"))
    assert lost.source.startswith("the carers register") and lost.source in words
    demo, out = tmp_path / "demo", tmp_path / "out"
    write_demo(demo, demo_dataset())
    args = ["forecast", "--placements", str(demo), "--as-at", as_at.isoformat()]
    args += ["--years", str(fv.YEARS), "--carers", str(demo / "carers.csv"), "--out", str(out)]
    assert main(args) == 0
    summary = json.loads((out / "summary.json").read_text())
    assert summary["recruitment"]["attrition"]["rate"] == lost.rate
    cli = pd.read_csv(out / "recruitment_targets.csv", keep_default_na=False)
    keys = ["years_ahead", "district_code", "placement_kind", "need"]
    cols = ["net_places", "gross_places", "net_households", "gross_households"]
    ours = page[keys + cols].sort_values(keys).reset_index(drop=True)
    theirs = cli[keys + cols].sort_values(keys).reset_index(drop=True)
    pd.testing.assert_frame_equal(ours, theirs, check_dtype=False)
    share = page[(page["need"] == "all") & (page["years_ahead"] == 1)]
    gap = summary["recruitment"]["coverage_on_forecast_demand"]["1_year"]["gap"]
    assert (
        abs(share[share["district_code"] != s.authority.code]["coverage_gap_share"].sum() - gap)
        < 0.05
    )


@requires_browser
@pytest.mark.browser
@pytest.mark.filterwarnings("ignore::pytest.PytestUnhandledThreadExceptionWarning")
def test_page_in_the_browser_is_labelled_and_has_tables(dash_duo, app):
    from tests.app.test_accessibility import assert_axe_clean

    start(dash_duo, app)
    dash_duo.driver.get(f"{dash_duo.server.url}/forecast")
    dash_duo.wait_for_text_to_equal("h1", "How many children will need a place?", timeout=60)
    dash_duo.wait_for_contains_text("#fc-authority-table", "Forecast", timeout=90)
    dash_duo.wait_for_contains_text("#fc-targets", "Gross households", timeout=120)
    wait_idle(dash_duo, timeout=120)
    heads = [h.text for h in dash_duo.find_elements("h2")]
    assert heads == [
        "Scenario",
        "Kent: forecast",
        "The chosen district: forecast",
        "Would this model have been right before?",
        "Foster carers to recruit",
    ]
    labels = {e.get_attribute("for") for e in dash_duo.find_elements("label")}
    assert {"fc-entry-change", "fc-in-house-shift", "fc-attrition", "fc-district"} <= labels
    assert {"fc-plan-year"} <= labels
    assert len(dash_duo.find_elements("#fc-authority .js-plotly-plot")) == 1
    assert "persistence" in dash_duo.find_element("#fc-backtest").text
    assert not dash_duo.find_elements(".alert-danger")
    assert not severe_logs(dash_duo)
    assert_axe_clean(dash_duo, "/forecast")
