"""Coverage on forecast demand: today's children scaled to a known forecast (hand-computed copies,
drops and fills), the gap of a known process, horizon 0 = today exactly on the Kent demo, and
the targets and siting that follow."""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest

from geo.coverage import CoverageModel, Demand, Supply
from geo.coverage.forecast_demand import (
    demand_kinds,
    forecast_coverage,
    gap_table,
    scale_demand,
    sites_for_years,
)
from geo.coverage.recruitment import Sites
from geo.coverage.targets import recruitment_targets
from geo.measures.forecast import KINDS, N_KINDS, N_STATES, Forecast, Projection, StateHistory
from geo.spatial import load_authority
from geo.spatial.authority import OUTSIDE
from geo.ssda903 import CATEGORY_BIT, Category

AS_AT = date(2018, 12, 31)
MAIDSTONE, ASHFORD = "E07000110", "E07000105"
IH, IFA = KINDS.index("in_house_foster"), KINDS.index("ifa_foster")
# Maidstone town centre (EPSG:27700 m); 10 km east is still well within 20 miles.
HOME = (575_900.0, 155_800.0)


def s(band: int, kind: int) -> int:
    return band * N_KINDS + kind


@pytest.fixture(scope="module")
def kent():
    return load_authority("E10000016")


def _forecast(kent, census: np.ndarray, later: np.ndarray) -> Forecast:
    """A forecast of one year whose expected stock is ``census`` now and ``later`` a year on
    (areas: Maidstone, Ashford, outside), linear in between."""
    areas = (MAIDSTONE, ASHFORD, OUTSIDE)
    expected = np.stack([census + (later - census) * q / 4 for q in range(5)])
    history = StateHistory(
        authority=kent,
        dates=(AS_AT,),
        areas=areas,
        state=np.zeros((0, 1), np.int64),
        area=np.zeros((0, 1), np.int64),
        history_start=date(2015, 1, 1),
    )
    dates = tuple(pd.Timestamp(AS_AT) + pd.DateOffset(months=3 * q) for q in range(5))
    projection = Projection(
        dates=tuple(d.date() for d in dates),
        expected=expected,
        entries=np.zeros((4, len(areas))),
        exits=np.zeros((4, len(areas))),
        draws=np.zeros((1, 5, len(areas), N_STATES), np.int64),
    )
    return Forecast(
        as_at=AS_AT,
        history=history,
        rates=None,  # type: ignore[arg-type]  (not used by the scaling)
        projection=projection,
        districts=pd.DataFrame(),
        detail=pd.DataFrame(),
    )


def _demand(ages: list[float], districts: list[str], disabled: list[bool] | None = None) -> Demand:
    n = len(ages)
    return Demand.from_arrays(
        easting_m=[HOME[0] + 100 * i for i in range(n)],
        northing_m=[HOME[1]] * n,
        age_years=ages,
        disabled=disabled,
        district_code=districts,
    )


def test_cells_are_scaled_by_copies_and_drops_in_a_fixed_order(kent):
    # Maidstone: 4 in-house 5-10s (census 4, forecast 6: +2) and 3 IFA 11-15s (census 3,
    # forecast 1: two dropped); Ashford: 2 in-house 0-4s of a census of 4 (half located),
    # forecast 8 -> 4.
    census = np.zeros((3, N_STATES))
    later = np.zeros((3, N_STATES))
    census[0, s(1, IH)], later[0, s(1, IH)] = 4, 6
    census[0, s(2, IFA)], later[0, s(2, IFA)] = 3, 1
    census[1, s(0, IH)], later[1, s(0, IH)] = 4, 8
    fc = _forecast(kent, census, later)
    demand = _demand([7, 8, 9, 6, 12, 13, 14, 2, 3], [MAIDSTONE] * 7 + [ASHFORD] * 2)
    kinds = np.array(["in_house_foster"] * 4 + ["ifa_foster"] * 3 + ["in_house_foster"] * 2)

    now = scale_demand(demand, kinds, fc, years_ahead=0)
    assert list(now.source) == list(range(9))
    assert np.array_equal(now.demand.needs, demand.needs)

    year = scale_demand(demand, kinds, fc, years_ahead=1)
    copies = np.bincount(year.source, minlength=9)
    assert copies[:4].sum() == 6 and set(copies[:4]) == {1, 2}
    assert copies[4:7].sum() == 1
    assert list(copies[7:]) == [2, 2]
    assert len(year.demand) == 6 + 1 + 4
    assert year.not_located == 4  # Ashford's other half, as today
    assert list(year.kind) == list(kinds[year.source])
    # Each copy keeps its home and needs; the copies of a cell are the same children each year.
    assert np.array_equal(year.demand.easting_m, demand.easting_m[year.source])
    assert np.array_equal(year.demand.needs, demand.needs[year.source])
    again = scale_demand(demand, kinds, fc, years_ahead=1)
    assert np.array_equal(again.source, year.source)


def test_an_empty_cell_copies_the_districts_children_of_the_band_then_any_band(kent):
    census = np.zeros((3, N_STATES))
    later = np.zeros((3, N_STATES))
    census[0, s(2, IH)] = later[0, s(2, IH)] = 2  # two in-house 11-15s, unchanged
    later[0, s(2, IFA)] = 1  # an IFA 11-15 appears: copies an in-house 11-15
    later[0, s(3, IH)] = 1  # a 16+ appears: copies a child of another band, aged 16+
    fc = _forecast(kent, census, later)
    demand = _demand([12, 14], [MAIDSTONE] * 2, disabled=[True, False])
    kinds = np.array(["in_house_foster"] * 2)
    year = scale_demand(demand, kinds, fc, years_ahead=1)
    assert len(year.demand) == 4
    assert list(year.kind) == [
        "in_house_foster",
        "in_house_foster",
        "ifa_foster",
        "in_house_foster",
    ]
    assert year.demand.age_years[2] in (12, 14)
    # No 16+ child now anywhere: the middle of the band (16.5, 17.5), and the 16+ approval.
    assert year.demand.age_years[3] == pytest.approx(17.0)
    assert year.demand.needs[3] & CATEGORY_BIT[Category.AGE_16_PLUS]
    assert not year.demand.needs[3] & CATEGORY_BIT[Category.AGE_11_15]


def test_the_gap_follows_the_forecast_demand(kent):
    # Two in-house children now and one carer of 2 places nearby: no gap. The forecast doubles
    # them: 2 children without a place within 20 miles, both in-house in Maidstone.
    census = np.zeros((3, N_STATES))
    later = np.zeros((3, N_STATES))
    census[0, s(1, IH)], later[0, s(1, IH)] = 2, 4
    fc = _forecast(kent, census, later)
    demand = _demand([7, 8], [MAIDSTONE] * 2)
    kinds = np.array(["in_house_foster"] * 2)
    supply = Supply.from_arrays(
        easting_m=[HOME[0] + 10_000],
        northing_m=[HOME[1]],
        places=[2],
        categories=[CATEGORY_BIT[Category.AGE_5_10]],
        district_code=[MAIDSTONE],
    )
    model = CoverageModel(demand, supply, authority=kent)
    assert model.gap == 0
    now, year = forecast_coverage(model, kinds, fc, years=(0, 1))
    assert now.gap == 0 and year.gap == 2
    assert list(year.district_gap) == [2, 0, 0]
    assert year.kind_gap[0, IH] == 2 and year.kind_gap.sum() == 2
    table = gap_table([now, year], fc)
    total = table[(table["district_code"] == "E10000016") & (table["placement_kind"] == "all")]
    assert list(total["children"]) == [2, 4] and list(total["gap"]) == [0, 2]

    # Two more in-house places in Maidstone: the gap, not gap + growth (the gap holds it).
    carers = pd.DataFrame(
        {
            "supplies": [True],
            "PROVIDER": ["in_house"],
            "APPROVED_PLACES": [2],
            "category_mask": [CATEGORY_BIT[Category.AGE_5_10]],
            "district_code": [MAIDSTONE],
            "POSTCODE": ["ME14 1XQ"],
        }
    )
    district = model.result().district
    t = recruitment_targets(fc, district, carers, attrition=0.0, years=(1,), coverage=[year])
    row = t[(t["district_code"] == MAIDSTONE) & (t["placement_kind"] == "in_house_foster")]
    assert row["growth"].iloc[0] == 2 and row["net_places"].iloc[0] == 2
    old = recruitment_targets(fc, district, carers, attrition=0.0, years=(1,))
    old_row = old[
        (old["district_code"] == MAIDSTONE) & (old["placement_kind"] == "in_house_foster")
    ]
    assert old_row["net_places"].iloc[0] == 2  # growth 2 + today's gap 0
    with pytest.raises(ValueError, match="years"):
        recruitment_targets(fc, district, carers, years=(1,), coverage=[now])

    # Where: one household of 2 places for 5-10s, sited next to the children, closes it.
    sites = Sites(
        site_id=np.array(["ME14 1", "TN1 1"], dtype=object),
        easting_m=np.array([HOME[0], 558_000.0]),
        northing_m=np.array([HOME[1], 139_500.0]),
        district_code=np.array([MAIDSTONE, "E07000116"], dtype=object),
    )
    table, plans = sites_for_years([year], sites, households={1: 1}, places=2)
    assert plans[1].gap_before == 2 and plans[1].gap_after == 0
    assert list(table["sector"]) == ["ME14 1"] and list(table["years_ahead"]) == [1]


def test_horizon_zero_is_todays_demand_and_gap_on_the_demo(kent, tmp_path_factory):
    from geo.coverage import build_coverage
    from geo.demo import demo_dataset, write_demo
    from geo.measures import analyse
    from geo.measures.forecast import forecast
    from geo.ssda903 import read_carers, read_placements

    out = tmp_path_factory.mktemp("demo")
    d = demo_dataset()
    write_demo(out, d)
    data = read_placements(out, authority=kent)
    fc = forecast(data, kent, as_at=d.as_at, years=1, draws=20)
    analysis = analyse(data, kent, as_at=d.as_at)
    model = build_coverage(analysis, read_carers(out / "carers.csv", as_at=d.as_at)).model
    now, year = forecast_coverage(model, demand_kinds(analysis), fc, years=(0, 1))
    today = model.demand
    assert np.array_equal(now.forecast_demand.source, np.arange(len(today)))
    for name in ("easting_m", "northing_m", "needs", "district_code", "sector"):
        assert np.array_equal(getattr(now.forecast_demand.demand, name), getattr(today, name))
    # The model rebuilt on the scaled demand gives today's gap, district by district.
    rebuilt = CoverageModel(now.forecast_demand.demand, model.supply(), authority=kent)
    assert rebuilt.gap == now.gap == model.gap
    pd.testing.assert_frame_equal(rebuilt.result().district, model.result().district)
    district = model.result().district.set_index("district_code")["gap"]
    assert list(now.district_gap) == list(district.reindex(fc.history.areas).fillna(0))
    assert year.without_model().model is None and year.without_model().gap == year.gap
    # A year on: the located children follow the forecast total (to the child).
    expected = fc.projection.expected[4].sum()
    assert abs(len(year.forecast_demand.demand) - expected) <= 1 + year.forecast_demand.carried
    assert year.kind_gap.sum() == year.gap
