"""2SFCA / E2SFCA as pure functions: hand-computed catchments and pluggable weights."""

from __future__ import annotations

import numpy as np
import pytest

from geo.coverage import E2SFCA_BANDS, band_weights, two_step_fca, uniform_weights
from geo.coverage.fca import FCA_UNIT, carer_ratios, child_terms, weight_percent
from geo.spatial.catchments import Catchment


def catchment(rows: list[list[tuple[int, float]]], n_cols: int) -> Catchment:
    """Children (rows) → [(carer, DfE miles)], as a Catchment."""
    indptr = np.cumsum([0, *(len(r) for r in rows)]).astype(np.int64)
    return Catchment(
        indptr=indptr,
        indices=np.array([k for r in rows for k, _ in r], dtype=np.int32),
        tenths=np.array([round(mi * 10) for r in rows for _, mi in r], dtype=np.uint16),
        n_cols=n_cols,
    )


# Carer A (2 places) reaches children 0 (0 miles) and 1 (6 miles); carer B (1 place) reaches
# child 1 (12 miles) and child 2 (3 miles); carer C (4 places) reaches nobody.
PAIRS = catchment([[(0, 0.0)], [(0, 6.0), (1, 12.0)], [(1, 3.0)]], n_cols=3)
PLACES = np.array([2, 1, 4])


def test_band_weights_are_the_luo_qi_bands():
    assert band_weights(np.array([0, 50, 51, 100, 101, 200, 201])).tolist() == [
        1.0,
        1.0,
        0.68,
        0.68,
        0.22,
        0.22,
        0.0,
    ]
    assert E2SFCA_BANDS == ((5.0, 1.0), (10.0, 0.68), (20.0, 0.22))
    assert weight_percent(np.array([0, 60, 120, 250]), weight_fn=band_weights).tolist() == [
        100,
        68,
        22,
        0,
    ]


def test_two_step_fca_by_hand():
    f = two_step_fca(PAIRS, PLACES)
    # step 1: A 2 places / 2 children, B 1 / 2, C nobody in reach
    assert f.ratio.tolist() == [1.0, 0.5, 0.0]
    # step 2: each child sums the ratios of the carers it reaches
    assert f.places_per_child.tolist() == [1.0, 1.5, 0.5]
    assert f.units.dtype == np.int64


def test_enhanced_two_step_fca_by_hand():
    f = two_step_fca(PAIRS, PLACES, weight_fn=band_weights)
    a, b = 2 / (1.0 + 0.68), 1 / (0.22 + 1.0)
    assert f.ratio == pytest.approx([a, b, 0.0], abs=1e-12)
    assert f.places_per_child == pytest.approx([a, 0.68 * a + 0.22 * b, b], abs=1e-9)
    # no place is counted twice: the children's shares add up to the places in reach
    assert f.places_per_child.sum() == pytest.approx(2 + 1)


def test_the_weight_is_pluggable():
    def near(tenths: np.ndarray) -> np.ndarray:  # only pairs within 5 miles count
        return (np.asarray(tenths) <= 50).astype(float)

    f = two_step_fca(PAIRS, PLACES, weight_fn=near)
    # A reaches child 0 only, B child 2 only: each child gets its carer's places
    assert f.ratio.tolist() == [2.0, 1.0, 0.0]
    assert f.places_per_child.tolist() == [2.0, 0.0, 1.0]


def test_uniform_weights_are_places_over_children_bit_for_bit():
    rng = np.random.default_rng(3)
    places = rng.integers(0, 7, 500)
    children = rng.integers(0, 900, 500)
    wsum = weight_percent(np.zeros(1), weight_fn=uniform_weights)[0] * children
    plain = np.divide(places.astype(float), children, out=np.zeros(500), where=children > 0)
    assert np.array_equal(carer_ratios(places, wsum), plain)
    ratio = carer_ratios(places, wsum)
    terms = child_terms(np.zeros(500, dtype=np.int64), ratio, weight_fn=uniform_weights)
    assert np.array_equal(terms, np.rint(plain * FCA_UNIT))


def test_the_2sfca_shortcut_gives_the_weighted_sums_bit_for_bit():
    rng = np.random.default_rng(5)
    rows = [
        [(int(k), float(rng.integers(0, 201)) / 10) for k in sorted(rng.choice(40, n, False))]
        for n in rng.integers(0, 15, 300)
    ]
    pairs = catchment(rows, n_cols=40)
    places = rng.integers(0, 5, 40)
    fast = two_step_fca(pairs, places)  # uniform_weights: counted, not weighed

    def ones(tenths: np.ndarray) -> np.ndarray:  # the same weights, through the general path
        return np.ones(len(tenths))

    general = two_step_fca(pairs, places, weight_fn=ones)
    assert np.array_equal(fast.ratio, general.ratio)
    assert np.array_equal(fast.units, general.units)


def test_empty_catchment():
    f = two_step_fca(catchment([[], []], n_cols=1), np.array([3]), weight_fn=band_weights)
    assert f.ratio.tolist() == [0.0] and f.units.tolist() == [0, 0]
