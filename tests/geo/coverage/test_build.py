"""One coverage builder: the CLI, the web app and the report get the same model from it."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from geo.coverage import GRID_M, RADIUS_MILES, Coverage, PlacesBasis, build_coverage
from geo.measures import analyse
from geo.spatial import load_authority
from geo.ssda903 import read_carers, read_placements


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    """The synthetic Kent demo as the app keeps it (files in its cache), and its store."""
    from app.data.store import DatasetStore
    from app.settings import Settings

    cache = tmp_path_factory.mktemp("cache")
    store = DatasetStore(Settings(cache_dir=cache, upload_dir=cache / "uploads"))
    ds = store.get(None)
    return store, ds


def test_the_three_callers_build_the_same_model(demo, tmp_path):
    from app.cli import main
    from app.coverage_view import coverage_model
    from app.reports.model import coverage_figures

    store, ds = demo
    files, as_at = ds.files, ds.as_at
    register = read_carers(files["carers"], as_at=as_at)

    # the web app: the dataset's shared model
    web = coverage_model(store, ds.id).result()
    # the report
    report = coverage_figures(store.analysis(ds.id), register, households=0)
    # the CLI
    out = tmp_path / "out"
    # the app's dataset files: the demo folder (SSDA903 files) and its carers register
    argv = ["coverage", "--placements", str(files["episodes"]), "--carers", str(files["carers"])]
    assert main([*argv, "--as-at", as_at.isoformat(), "--out", str(out)]) == 0
    cli = pd.read_csv(out / "district_coverage.csv", dtype={"district_code": str})
    summary = json.loads((out / "coverage_summary.json").read_text())

    assert web.gap > 0 and summary["gap"] == web.gap
    pd.testing.assert_frame_equal(report.districts, web.district)
    rounded = web.district.copy()
    floats = rounded.select_dtypes("float").columns
    rounded[floats] = rounded[floats].round(3)
    pd.testing.assert_frame_equal(cli, rounded, check_dtype=False)


def test_build_coverage_passes_the_options_through(demo):
    store, ds = demo
    analysis = store.analysis(ds.id)
    register = read_carers(ds.files["carers"], as_at=analysis.as_at)
    default = build_coverage(analysis, register)
    assert isinstance(default, Coverage)
    m = default.model
    assert (m.radius_miles, m.grid_m, m.places_basis) == (
        RADIUS_MILES,
        GRID_M,
        PlacesBasis.APPROVED,
    )
    assert m.authority is analysis.authority
    assert len(m.demand) == default.counts.located > 1000
    vacant = build_coverage(
        analysis, register, grid_m=1000.0, radius_miles=10.0, places_basis="vacant"
    )
    v = vacant.model
    assert (v.radius_miles, v.grid_type, v.places_basis) == (10.0, "grid_1km", PlacesBasis.VACANT)
    assert vacant.counts == default.counts
    assert v.gap > m.gap  # fewer places and a shorter reach leave more children short


def test_a_cohort_without_home_locations_gives_an_empty_model(write_csv):
    episodes = write_csv(
        "episodes.csv",
        ["CHILD,HOME_POST,PL_POST,DOB,DISABLED,PLACE", "C1,,ME14 1XQ,01/01/2008,0,U1"],
    )
    carers = write_csv(
        "carers.csv",
        [
            "CARER_ID,POSTCODE,STATUS,APPROVED_PLACES,OCCUPIED_PLACES,PROVIDER,CATEGORIES",
            "M1,ME14 1XQ,approved,2,1,in_house,0-4;5-10;11-15;16+",
        ],
    )
    analysis = analyse(read_placements(episodes), load_authority(), as_at=None)
    coverage = build_coverage(analysis, read_carers(carers, as_at=analysis.as_at))
    assert coverage.counts.located == 0 and coverage.counts.cohort == 1
    result = coverage.model.result()
    assert result.children == 0 and result.gap == 0 and result.carers == 1
    assert np.all(result.district["children"] == 0)
