"""Coverage inputs: the age-band rule, suitability, and demand/supply from arrays."""

from __future__ import annotations

import numpy as np
import pytest

from geo.coverage import Demand, Supply, age_band_bits, suits
from geo.ssda903 import AGE_BAND_LABELS, CATEGORY_BIT, Category, age_band_index, parse_categories


def test_age_band_bits_follow_the_one_age_band_rule():
    assert list(age_band_bits(np.array([0, 4.99, 5, 10, 11, 15, 16, 17]))) == [
        CATEGORY_BIT[Category(b)] for b in ["0-4"] * 2 + ["5-10"] * 2 + ["11-15"] * 2 + ["16+"] * 2
    ]
    ages = np.array([np.nan, -1, 0, 4, 5, 10, 11, 15, 16, 21, np.inf])
    band = age_band_index(ages)
    expected = [CATEGORY_BIT[Category(AGE_BAND_LABELS[b])] if b >= 0 else 0 for b in band]
    assert age_band_bits(ages).tolist() == expected
    # not known (NaN) or negative: no age band, so any carer's age bands fit
    assert age_band_bits(np.array([np.nan, -1])).tolist() == [0, 0]
    assert suits(age_band_bits(np.array([-1]))[0], parse_categories("16+")[0])


def test_suits_needs_every_need_covered():
    teen = age_band_bits(np.array([12]))[0]
    disabled_teen = teen | CATEGORY_BIT[Category.DISABILITY]
    carers = np.array(
        [parse_categories(c)[0] for c in ("11-15", "11-15;disability", "0-4;disability")]
    )
    assert suits(disabled_teen, carers).tolist() == [False, True, False]
    assert suits(np.array([teen, disabled_teen]), carers[1]).tolist() == [True, True]


def test_demand_from_arrays_derives_needs_and_rejects_bad_input():
    d = Demand.from_arrays(
        easting_m=[1.0, 2.0],
        northing_m=[1.0, 2.0],
        age_years=[3, None],
        siblings=[True, None],
        parent_and_child=[False, True],
    )
    bits = CATEGORY_BIT
    assert d.needs.tolist() == [
        bits[Category.AGE_0_4] | bits[Category.SIBLINGS],
        bits[Category.PARENT_AND_CHILD],
    ]
    assert d.district_code.tolist() == ["", ""] and len(d) == 2
    with pytest.raises(ValueError, match="have no location"):
        Demand.from_arrays(easting_m=[1.0, np.nan], northing_m=[1.0, 2.0])
    with pytest.raises(ValueError, match="2 eastings but 1 northings"):
        Demand.from_arrays(easting_m=[1.0, 2.0], northing_m=[1.0])
    with pytest.raises(ValueError, match="age_years: expected 2 values, got 1"):
        Demand.from_arrays(easting_m=[1.0, 2.0], northing_m=[1.0, 2.0], age_years=[3])


def test_supply_from_arrays_caps_vacancies_and_rejects_bad_input():
    s = Supply.from_arrays(
        easting_m=[1.0, 2.0], northing_m=[1.0, 2.0], places=[2, 1], vacant=[5, 0], categories=[1, 2]
    )
    assert s.vacant.tolist() == [2, 0] and s.carer_id.tolist() == ["K0", "K1"]
    with pytest.raises(ValueError, match="places must be ≥ 0"):
        Supply.from_arrays(easting_m=[1.0], northing_m=[1.0], places=[-1], categories=[1])
    with pytest.raises(ValueError, match="categories: expected 1 values, got 2"):
        Supply.from_arrays(easting_m=[1.0], northing_m=[1.0], places=[1], categories=[1, 2])
