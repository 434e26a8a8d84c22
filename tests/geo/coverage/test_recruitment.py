"""Recruitment: the lazy greedy finds where new places help and beats naive siting."""

import numpy as np
import pytest

from geo.coverage import (
    CoverageModel,
    Demand,
    HouseholdKind,
    Sites,
    Supply,
    biggest_district_sites,
    compare_with_baselines,
    recommend_sites,
    siting_gain,
)
from geo.spatial import METRES_PER_MILE
from geo.ssda903 import parse_categories

E0, N0 = 500_000.0, 200_000.0
ALL_AGES = parse_categories("0-4;5-10;11-15;16+")[0]


def at(miles) -> np.ndarray:
    return E0 + np.asarray(miles, dtype=float) * METRES_PER_MILE


@pytest.fixture
def two_towns():
    """West town (10 children, 2 places: 8 short) and a bigger East town 100 miles away
    (14 children, 14 places: none short). Three candidate sectors in the west, five in the
    east."""
    west = [0.0, 0.5, 1, 1.5, 2, 2.5, 3, 3.5, 4, 4.5]
    east = [100 + 0.3 * i for i in range(14)]
    demand = Demand.from_arrays(
        easting_m=at(west + east),
        northing_m=np.full(24, N0),
        age_years=[12] * 24,
        district_code=["W"] * 10 + ["E"] * 14,
        sector=["W1"] * 10 + ["E1"] * 14,
    )
    carers = [1.0, 2.0] + [100 + 0.3 * i for i in range(14)]
    supply = Supply.from_arrays(
        easting_m=at(carers),
        northing_m=np.full(len(carers), N0),
        places=[1] * len(carers),
        categories=[ALL_AGES] * len(carers),
        district_code=["W"] * 2 + ["E"] * 14,
    )
    sites = Sites(
        site_id=np.array(["E1", "E2", "E3", "E4", "E5", "W1", "W2", "W3"], dtype=object),
        easting_m=at([100, 95, 105, 110, 90, 0, 5, 10]),
        northing_m=np.full(8, N0),
        district_code=np.array(["E"] * 5 + ["W"] * 3, dtype=object),
    )
    return CoverageModel(demand, supply), sites


def test_greedy_sites_where_children_are_short_and_beats_naive_siting(two_towns):
    model, sites = two_towns
    assert model.gap == 8
    plan = recommend_sites(model, sites, households=4)
    s = plan.suggestions
    assert s["sector"].str.startswith("W").all()
    assert s["marginal_gain"].tolist() == [1, 1, 1, 1]
    assert s["cumulative_gain"].tolist() == [1, 2, 3, 4]
    assert plan.gap_before == 8 and plan.gap_after == 4 and plan.total_gain == 4
    cmp = compare_with_baselines(model, sites, plan, draws=30, seed=1)
    assert cmp.greedy == 4
    assert cmp.biggest_district_code == "E" and cmp.biggest_district == 0
    assert cmp.random_mean < 3  # expected 4 × 3/8 = 1.5
    assert model.gap == 8  # the model itself is not changed


def test_capacity_and_categories_limit_the_gain(two_towns):
    model, sites = two_towns
    two = recommend_sites(model, sites, households=2, kind=HouseholdKind(places=2))
    assert two.suggestions["marginal_gain"].tolist() == [2, 2]
    # more households than the shortage: stops when nobody else can be helped
    many = recommend_sites(model, sites, households=20, kind=HouseholdKind(places=3))
    assert many.suggestions["cumulative_gain"].iloc[-1] == 8 and many.gap_after == 0
    assert many.suggestions["marginal_gain"].is_monotonic_decreasing
    babies_only = HouseholdKind(places=2, categories=parse_categories("0-4")[0])
    assert recommend_sites(model, sites, households=3, kind=babies_only).suggestions.empty
    with pytest.raises(ValueError):
        HouseholdKind(places=0)


def test_siting_gain_and_biggest_district(two_towns):
    model, sites = two_towns
    code, chosen = biggest_district_sites(model, sites, households=3)
    assert code == "E" and all(sites.district_code[i] == "E" for i in chosen)
    assert siting_gain(model, sites, chosen) == 0
    assert siting_gain(model, sites, [5, 6, 7]) == 3
    assert siting_gain(model, sites, [5] * 9) == 8  # capped by the shortage
