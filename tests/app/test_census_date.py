"""One census date per dataset (issue 17): after an upload of the ``--messy`` demo, the banner,
the Data page, the Compliance map, the District comparison, the trend and the report download
all use the dataset's census date and agree; choosing another date on the Data page moves them
all together."""

from __future__ import annotations

import base64
import io
from datetime import date

import pandas as pd
import pytest

from app.data.state import store
from app.data.store import Filters, census_choices
from app.main import create_app
from app.settings import Settings
from geo.demo import demo_dataset
from geo.measures import census_dates
from geo.ssda903 import latest_date

pytestmark = pytest.mark.xdist_group("app-demo")


@pytest.fixture(scope="module")
def app(app_cache_dir, tmp_path_factory):
    state = tmp_path_factory.mktemp("state")
    return create_app(
        Settings(
            cache_dir=app_cache_dir,
            upload_dir=state / "uploads",
            extra={"users_file": str(state / "users.json"), "local_token": "census-token"},
        )
    )


@pytest.fixture(scope="module")
def uploaded(app):
    """The ``--messy`` demo uploaded and chosen on the Data page (its callbacks, as a click)."""
    from app.pages.data import switch_dataset, validate_upload

    files = demo_dataset(messy=True).files()
    names = ["episodes.csv", "header.csv", "uasc.csv", "carers.csv"]
    contents = ["data:text/csv;base64," + base64.b64encode(files[n]).decode("ascii") for n in names]
    with app.server.test_request_context("/?token=census-token"):
        app.server.preprocess_request()
        _result, alert, pending, use_disabled, _ = validate_upload(contents, names)
        assert alert is None and pending and not use_disabled
        from unittest.mock import patch

        with patch("app.pages.data.ctx") as fake:
            fake.triggered_id = "dt-use"
            assert switch_dataset(1, None, pending) == pending
    return pending


@pytest.fixture
def ctx(app):
    with app.server.test_request_context("/?token=census-token"):
        app.server.preprocess_request()
        yield app


def _figures(dataset_id: str) -> dict[str, dict[str, str]]:
    """Kent total and Canterbury (children, % within 20) on every page and in the report."""
    from app.pages.comparison import update_table
    from app.pages.overview import census_options, update_overview
    from app.reports.view import render_report
    from app.views import compliance_view, trend_table

    s = store()
    out: dict[str, dict[str, str]] = {}
    # Compliance map: its census dropdown as drawn for the dataset in use
    _options, chosen = census_options(dataset_id)
    update_overview(dataset_id, 20, "home", "all", "all", "all", "all", chosen)
    v = compliance_view(
        s, dataset_id, Filters(as_at=date.fromisoformat(chosen)), threshold=20, view="home"
    )
    out["map"] = _rows(v.table, "children_shown", "pct_text")
    # District comparison page: the table it draws
    from app.views import comparison_table

    update_table(dataset_id, None)
    cp = comparison_table(s, dataset_id, Filters())
    out["comparison"] = _rows(cp, "children_shown", "pct_within_20_text")
    # the report download behind the comparison page (CSV: the district table)
    data, name = render_report(s, dataset_id, fmt="csv")
    csv = pd.read_csv(io.BytesIO(data), dtype=str)
    csv = csv.rename(columns={"District": "district_name"})
    out["report"] = _rows(csv, "Children", "% within 20 miles")
    out["report"]["file"] = name
    out["map"]["date"] = chosen
    # the trend ends at the census date
    trend = trend_table(s, dataset_id)
    out["trend_end"] = {"date": str(trend["quarter_end"].max().date())}
    return out


def _rows(t: pd.DataFrame, children: str, pct: str) -> dict[str, str]:
    def one(name: str) -> tuple[str, str]:
        r = t[t["district_name"] == name].iloc[0]
        return str(r[children]).replace(",", ""), str(r[pct]).replace(" %", "")

    return {"kent": "/".join(one("Kent total")), "canterbury": "/".join(one("Canterbury"))}


def test_every_page_and_the_report_use_the_datasets_census_date(ctx, uploaded):
    from app.pages.data import census_control
    from app.shell_callbacks import dataset_banner

    s = store()
    ds = s.get(uploaded)
    assert ds.as_at == latest_date(ds.data)  # an upload: the latest date in the data
    when = ds.as_at
    assert f"census at {when:%d %B %Y}" in str(dataset_banner(uploaded).children)
    options, value, note = census_control(uploaded)
    assert value == when.isoformat() and f"{when:%d %B %Y}" in note
    # the Data page offers the quarter ends and the latest date
    assert [o["value"] for o in options] == [d.isoformat() for d in census_dates(as_at=when)]
    figs = _figures(uploaded)
    assert figs["map"]["date"] == when.isoformat()
    assert figs["map"]["kent"] == figs["comparison"]["kent"] == figs["report"]["kent"]
    assert figs["map"]["canterbury"] == figs["comparison"]["canterbury"]
    assert figs["comparison"]["canterbury"] == figs["report"]["canterbury"]
    assert figs["report"]["file"].endswith(f"{when:%Y-%m-%d}.csv")
    assert figs["trend_end"]["date"] <= when.isoformat()


def test_choosing_a_census_date_on_the_data_page_moves_every_page(ctx, uploaded):
    from app.pages.data import census_control, choose_census
    from app.shell_callbacks import dataset_banner

    s = store()
    ds = s.get(uploaded)
    before = ds.as_at
    quarter = [d for d in census_choices(ds) if d != before][-1]  # the last quarter end
    try:
        assert choose_census(quarter.isoformat(), uploaded) == uploaded  # pages follow
        assert s.get(uploaded).as_at == quarter
        assert f"census at {quarter:%d %B %Y}" in str(dataset_banner(uploaded).children)
        assert census_control(uploaded)[1] == quarter.isoformat()
        figs = _figures(uploaded)
        assert figs["map"]["date"] == quarter.isoformat()
        assert figs["map"]["kent"] == figs["comparison"]["kent"] == figs["report"]["kent"]
        assert figs["comparison"]["canterbury"] == figs["report"]["canterbury"]
        assert figs["report"]["file"].endswith(f"{quarter:%Y-%m-%d}.csv")
        assert figs["trend_end"]["date"] == quarter.isoformat()
        # the date is kept with the upload: another worker (a fresh load) uses it too
        s.remove(uploaded)
        assert s.get(uploaded).as_at == quarter
        # choosing the date already in use changes nothing
        from dash import no_update

        assert choose_census(quarter.isoformat(), uploaded) is no_update
    finally:
        s.set_census(uploaded, before)
