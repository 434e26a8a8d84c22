"""The demo's carers stage (geo/demo/carers.py) speaks the register's categories: the bits it sets
are the bits the carers reader parses back (geo.ssda903.carers.Category, CATEGORY_BIT)."""

from __future__ import annotations

import numpy as np
import pytest

from geo.demo.carers import AGE_BAND_BITS, carer_frame, make_carers
from geo.demo.recipe import load_recipe
from geo.demo.synthetic import DemoGenerator
from geo.ssda903 import Category, age_band_index, parse_categories


def test_age_band_bits_follow_the_register_order():
    ages = np.array([0, 4, 5, 10, 11, 15, 16, 17])
    bits = AGE_BAND_BITS[age_band_index(ages)]
    assert bits.tolist() == [1, 1, 2, 2, 4, 4, 8, 8]
    assert [parse_categories(c)[0] for c in ("0-4", "5-10", "11-15", "16+")] == [1, 2, 4, 8]


@pytest.fixture(scope="module")
def register():
    gen = DemoGenerator(load_recipe(), scale="kent", seed=3)
    carers = make_carers(gen)
    carers.occupied = np.zeros(len(carers.e), int)
    return carers, carer_frame(gen, carers)


def test_generated_categories_parse_back_to_the_same_bits(register):
    carers, frame = register
    parsed = [parse_categories(text) for text in frame["CATEGORIES"]]
    assert all(not bad for _, bad in parsed)
    # carer_frame sorts by CARER_ID; compare the multisets of masks.
    assert sorted(mask for mask, _ in parsed) == sorted(carers.cats.tolist())
    assert int(np.bitwise_or.reduce(carers.cats)) < 1 << len(Category)


def test_every_household_is_approved_for_some_age_band_and_siblings_need_two_places(register):
    carers, _ = register
    age_mask = int(AGE_BAND_BITS.sum())
    assert ((carers.cats & age_mask) != 0).all()
    siblings = (carers.cats & parse_categories("siblings")[0]) != 0
    places = carers.approved[carers.status == "approved"]
    assert (places >= 1).all()
    assert siblings.any() and not (siblings & (carers.approved == 1)).any()
