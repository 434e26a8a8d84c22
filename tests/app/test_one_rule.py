"""Rules that had two to four copies, now one: the app's pages and the report must agree.

Each test here would have caught a drift between copies (the restructuring issue):
* the District comparison trend and the report trend (one quarter rule, one disclosure policy);
* the Compliance map's district table and the report's district table (one district policy);
* a folder recognised by content, not by file names (one recogniser);
* the carers register read as at the census date by the app, the CLI and the report alike.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from app.data.store import DatasetStore, Filters, find_files
from app.reports import build_report
from app.settings import Settings
from app.views import compliance_view, trend_table
from geo.disclosure import protect_trend
from geo.measures.trends import compliance_trend
from geo.spatial.authority import OUTSIDE
from geo.ssda903 import read_carers
from tests.app.reports.test_reports import AS_AT, write_report_input


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    folder = tmp_path_factory.mktemp("odd-names")
    write_report_input(folder, children=260, seed=5)
    # Names that say nothing: the tables must be recognised by their columns.
    (folder / "episodes.csv").rename(folder / "903 return 2018-19.csv")
    (folder / "header.csv").rename(folder / "children.csv")
    (folder / "uasc.csv").rename(folder / "asylum.csv")
    # A carers register: one household approved before the census, one after it.
    (folder / "households.csv").write_text(
        "CARER_ID,POSTCODE,STATUS,APPROVED_PLACES,OCCUPIED_PLACES,PROVIDER,CATEGORIES,APPROVAL_DATE\n"
        "H1,ME14 1XQ,approved,2,0,in_house,0-4;5-10,01/01/2015\n"
        "H2,CT1 2RX,approved,3,0,in_house,11-15;16+,01/06/2030\n",
        encoding="utf-8",
    )
    cache = tmp_path_factory.mktemp("cache")
    return DatasetStore(Settings(data_dir=folder, cache_dir=cache))


def test_folder_tables_are_recognised_by_content(store):
    files = find_files(store.settings.data_dir)
    folder = store.settings.data_dir
    assert files == {"episodes": folder, "carers": folder / "households.csv"}
    ds = store.get(None)
    roles = {s.file: s.role for s in ds.data.sources}
    assert roles["903 return 2018-19.csv"] == "episodes"
    assert roles["children.csv"] == "header" and roles["asylum.csv"] == "uasc"


def test_the_app_reads_carers_as_at_the_census_like_the_cli_and_report(store):
    ds = store.get(None)
    assert ds.carers is not None
    analysis = store.analysis(ds.id)
    cli = read_carers(store.settings.data_dir / "households.csv", as_at=analysis.as_at)
    assert ds.carers.summary == cli.summary
    assert ds.carers.summary["supplying"] == 1  # the household approved in 2030 supplies nothing


def test_comparison_trend_equals_the_report_trend(store):
    ds = store.get(None)
    page = trend_table(store, ds.id)
    trend = compliance_trend(ds.data, store.authority, as_at=ds.as_at, with_keys=True)
    protected = protect_trend(trend.table, secret=ds.secret)
    expected = protected.assign(pct=protected["pct_within_20"].astype(float))
    expected = expected[expected["district_code"] != OUTSIDE]
    assert sorted(page["quarter_end"].dt.date.unique()) == list(trend.quarter_ends)
    merged = page.merge(
        expected.assign(quarter_end=pd.to_datetime(expected["quarter_end"])),
        on=["quarter_end", "district_name"],
        suffixes=("_page", "_report"),
    )
    assert len(merged) == len(page) == len(expected)
    np.testing.assert_array_equal(merged["pct_page"].to_numpy(), merged["pct_report"].to_numpy())
    # and the report's own trend table shows the same numbers for the last quarter
    analysis = store.analysis(ds.id)
    report = build_report(analysis, trend=trend, suppress=True, secret=ds.secret)
    last = trend.quarter_ends[-1].isoformat()
    shown = report.trend.data.set_index("district_name")[last]
    for row in expected[expected["quarter_end"] == trend.quarter_ends[-1]].itertuples():
        value = shown[row.district_name]
        if np.isnan(row.pct):
            assert value == "c" or (isinstance(value, float) and np.isnan(value))
        else:
            assert float(value) == pytest.approx(row.pct)


def test_map_and_report_hide_the_same_district_cells(store):
    ds = store.get(None)
    view = compliance_view(store, ds.id, Filters(as_at=AS_AT), threshold=20, view="home")
    analysis = store.analysis(ds.id, AS_AT)
    report = build_report(analysis, suppress=True, secret=ds.secret)
    districts = report.districts
    rep = districts.data.set_index("district_code")
    rep_mask = districts.mask.set_index(districts.data["district_code"])
    page = view.table.set_index("district_code")
    for code in page.index:
        assert bool(page.at[code, "suppressed"]) == bool(rep_mask.at[code, "children"]), code
        assert bool(page.at[code, "pct_hidden"]) == bool(rep_mask.at[code, "pct_within_20"]), code
        if not page.at[code, "pct_hidden"]:
            assert float(rep.at[code, "pct_within_20"]) == pytest.approx(
                page.at[code, "pct_shown"], nan_ok=True
            )


def test_one_shown_count_is_written_one_way():
    """A single protected count becomes text in one place (``geo.disclosure.shown_count``):
    the pages, the report notes and the banner had three copies of the same expression."""
    from pathlib import Path

    from geo.disclosure import shown_count

    root = Path(__file__).resolve().parents[2]
    copies = [
        str(p.relative_to(root))
        for folder in ("app", "geo")
        for p in (root / folder).rglob("*.py")
        if "shown_text(np.array([" in p.read_text(encoding="utf-8")
    ]
    assert copies == ["geo/disclosure/cellkey.py"]
    assert [shown_count(v) for v in (float("nan"), 7.0, 1234.0)] == ["c", "7", "1,234"]
