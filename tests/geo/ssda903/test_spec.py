"""geo.ssda903.spec: code lists and age bands defined once, shared by readers, carers and demo."""

import numpy as np

from geo.ssda903 import AGE_BAND_LABELS, RESIDENTIAL_PLACES, Category, age_band_index
from geo.ssda903.carers import AGE_BANDS


def test_carer_age_categories_are_the_age_bands():
    assert tuple(c.value for c in AGE_BANDS) == AGE_BAND_LABELS
    assert [c.value for c in Category][: len(AGE_BAND_LABELS)] == list(AGE_BAND_LABELS)


def test_age_band_index_edges():
    ages = np.array([0, 4, 4.99, 5, 10, 11, 15, 16, 17, 25, np.nan, -1])
    assert age_band_index(ages).tolist() == [0, 0, 0, 1, 1, 2, 2, 3, 3, 3, -1, -1]


def test_residential_is_homes_secure_and_schools_not_independent_living():
    # The reader's copy had P2 (independent living), the demo's did not: the demo was right.
    assert {"K1", "K2", "K3", "R1", "S1"} == RESIDENTIAL_PLACES
    assert "P2" not in RESIDENTIAL_PLACES and "H5" not in RESIDENTIAL_PLACES
