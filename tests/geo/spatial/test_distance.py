import numpy as np
import pandas as pd
import pytest

from geo.spatial import distance as dist
from tests.conftest import shared_path

WORKED = [
    ("ME14 1XQ", "CT1 2RX", 24.1),
    ("ME14 1XQ", "TN1 1RS", 15.1),
    ("CT20 2QY", "DA1 1DR", 48.4),
    ("TN13 1HG", "DA11 0DQ", 14.0),
    ("ME14 1XQ", "ME4 4TR", 7.6),
    ("DA12 5UR", "TN8 9EB", 20.0),
    ("ME15 8DE", "DA1 9XT", 20.0),
]


@pytest.mark.parametrize("home, place, miles", WORKED)
def test_design_worked_examples(home, place, miles):
    d = dist.pair_distances(pd.Series([home]), pd.Series([place]))
    assert d.miles[0] == miles
    assert d.within_20[0] == (miles <= 20.0)


def test_rounding_boundaries_of_twenty_and_ten_miles():
    m = dist.METRES_PER_MILE
    raw_miles = np.array([20.04, 20.049, 20.051, 20.1, 19.95, 10.04, 10.06, 9.96])
    miles = dist.dfe_miles(np.zeros(8), np.zeros(8), raw_miles * m, np.zeros(8))
    assert miles.tolist() == [20.0, 20.0, 20.1, 20.1, 20.0, 10.0, 10.1, 10.0]
    assert dist.within(miles, radius_miles=20.0).tolist() == [
        True,
        True,
        False,
        False,
        True,
        True,
        True,
        True,
    ]
    assert dist.within(miles, radius_miles=10.0).tolist()[5:] == [True, False, True]


def test_exactly_twenty_miles_apart():
    # 32,186 m = 20.0000 DfE miles (1.6093 km per mile): within.
    miles = dist.dfe_miles(np.array([0.0]), np.array([0.0]), np.array([32186.0]), np.array([0.0]))
    assert miles[0] == 20.0 and dist.within(miles, radius_miles=20.0)[0]


def test_dfe_constant_not_statute_mile():
    # 1.6093 km, not 1.609344: 100 km is 62.1 DfE miles (62.14 statute would also be 62.1) and
    # 400 km is 248.6 DfE miles but 248.5 statute miles.
    assert dist.dfe_miles_from_metres(400_000.0) == 248.6


def test_unknowns_are_nan_with_reason():
    d = dist.pair_distances(
        pd.Series(["ME14 1XQ", "", "CF10 1EP", "ME14 1XQ", "XX1"]),
        pd.Series(["CT1 2RX", "CT1 2RX", "CT1 2RX", "ZZ99 9ZZ", "CT1 2RX"]),
    )
    assert d.status.tolist() == [
        "ok",
        "missing_postcode",
        "home_outside_england",
        "unknown_postcode",
        "invalid_postcode",
    ]
    assert np.isnan(d.miles[1:]).all()
    assert not d.within_20[1:].any()


def test_placement_outside_england_is_still_measured():
    d = dist.pair_distances(pd.Series(["ME14 1XQ"]), pd.Series(["CF10 1EP"]))
    assert d.status.iloc[0] == "ok" and d.miles[0] > 150


def test_two_hundred_validator_pairs():
    f = pd.read_csv(shared_path("fixtures", "dfe_distance_pairs.csv"))
    d = dist.pair_distances(f["HOME_POST"], f["PL_POST"])
    mismatch = f[d.miles != f["miles"]]
    assert mismatch.empty, mismatch
    assert (d.within_20 == f["within_20"]).all()
    assert (d.within_10 == f["within_10"]).all()


def test_max_metres_within_is_a_safe_search_radius():
    r = dist.max_metres_within(20.0)
    assert dist.dfe_miles_from_metres(r - 0.01) == 20.0
    assert dist.dfe_miles_from_metres(r + 0.01) == 20.1
