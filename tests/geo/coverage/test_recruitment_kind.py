"""Who the gap is (by need) and which kind of household closes the most of it."""

import numpy as np
import pytest

from geo.coverage import (
    CoverageModel,
    Demand,
    HouseholdKind,
    Sites,
    Supply,
    candidate_kinds,
    gap_by_need,
    recommend_sites,
    suggest_kind,
)
from geo.spatial import METRES_PER_MILE
from geo.ssda903 import parse_categories

E0, N0 = 500_000.0, 200_000.0
ALL_AGES = parse_categories("0-4;5-10;11-15;16+")[0]
DISABILITY = parse_categories("disability")[0]


def at(miles) -> np.ndarray:
    return E0 + np.asarray(miles, dtype=float) * METRES_PER_MILE


@pytest.fixture
def short_of_disability_places():
    """Six children in one town: four disabled teenagers (12, 13, 14, 16) and two younger
    children who are not (3, 7); two carers approved for any age but not disability. The gap is
    the four disabled children; three candidate sectors, one 2 miles and one 15 miles from the
    town, one 60 miles away (in that order: MID before NEAR)."""
    demand = Demand.from_arrays(
        easting_m=at([0, 0.5, 1, 1.5, 2, 2.5]),
        northing_m=np.full(6, N0),
        age_years=[12, 13, 14, 16, 3, 7],
        disabled=[True, True, True, True, False, False],
        district_code=["T"] * 6,
        sector=["T1"] * 6,
    )
    supply = Supply.from_arrays(
        easting_m=at([1.0, 2.0]),
        northing_m=np.full(2, N0),
        places=[1, 1],
        categories=[ALL_AGES, ALL_AGES],
        district_code=["T", "T"],
    )
    sites = Sites(
        site_id=np.array(["FAR", "MID", "NEAR"], dtype=object),
        easting_m=at([60, 15, 2]),
        northing_m=np.full(3, N0),
        district_code=np.array(["F", "T", "T"], dtype=object),
    )
    return CoverageModel(demand, supply), sites


def test_gap_by_need_says_the_whole_gap_is_disabled_children(short_of_disability_places):
    model, _sites = short_of_disability_places
    t = gap_by_need(model).set_index("group")
    assert model.gap == 4
    assert t.loc["disability", "gap"] == 4 and t.loc["disability", "children_at_risk"] == 4
    assert t.loc["siblings", "gap"] == 0
    assert t.loc["all", "gap"] == 4 and t.loc["all", "children"] == 6
    # the age rows partition the children and add up to the gap
    ages = t[t["kind"] == "age"]
    assert ages["children"].sum() == 6 and ages["gap"].sum() == 4
    assert t.loc["11-15", "gap"] == 3 and t.loc["16+", "gap"] == 1 and t.loc["0-4", "gap"] == 0


def test_households_for_ages_only_close_nothing_and_the_disability_kind_is_suggested(
    short_of_disability_places,
):
    model, sites = short_of_disability_places
    needs = gap_by_need(model)
    kinds = candidate_kinds(needs, places=2)
    assert [k.categories for k in kinds] == [ALL_AGES, ALL_AGES | DISABILITY]
    searched = []

    def search(kind: HouseholdKind):
        searched.append(kind)
        return recommend_sites(model, sites, households=2, kind=kind)

    advice = suggest_kind(needs, places=2, search=search)
    gains = {p.kind.categories: p.total_gain for p in advice.compared}
    assert gains == {ALL_AGES: 0, ALL_AGES | DISABILITY: 4}
    assert advice.best.kind == HouseholdKind(places=2, categories=ALL_AGES | DISABILITY)
    assert advice.best.gap_after == 0 and len(searched) == 2


def test_equal_gains_go_nearest_the_children_at_risk_first(short_of_disability_places):
    """NEAR and MID reach every child at risk, so each gains the same; NEAR (2 miles) is
    nearer than MID (15 miles) and comes first, although MID comes first in the site list
    (the first-site tie-break put it first before)."""
    model, sites = short_of_disability_places
    kind = HouseholdKind(places=1, categories=ALL_AGES | DISABILITY)
    plan = recommend_sites(model, sites, households=1, kind=kind)
    assert plan.suggestions["sector"].tolist() == ["NEAR"]
    assert plan.suggestions["marginal_gain"].tolist() == [1]


def test_no_need_at_risk_means_one_candidate_kind():
    demand = Demand.from_arrays(easting_m=at([0, 1]), northing_m=np.full(2, N0), age_years=[5, 6])
    supply = Supply.from_arrays(
        easting_m=at([0.5]), northing_m=[N0], places=[1], categories=[ALL_AGES]
    )
    needs = gap_by_need(CoverageModel(demand, supply))
    assert [k.categories for k in candidate_kinds(needs, places=1)] == [ALL_AGES]
