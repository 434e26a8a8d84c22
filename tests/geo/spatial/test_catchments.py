"""Catchments: every pair search method gives the same exact DfE pairs; the R-tree edits."""

import numpy as np
import pytest

from geo.spatial.catchments import PairMethod, PointIndex, pairs_within
from geo.spatial.distance import METRES_PER_MILE, dfe_miles, within


@pytest.fixture(scope="module")
def points():
    rng = np.random.default_rng(4)
    a = rng.uniform(0, 90_000, (300, 2)) + (520_000, 130_000)
    b = rng.uniform(0, 90_000, (220, 2)) + (520_000, 130_000)
    # put some b points exactly on and just beyond the 20-mile rounding boundary of a[0]
    for k, miles in enumerate([20.0, 20.04, 20.05, 20.06, 20.1]):
        b[k] = a[0] + (miles * METRES_PER_MILE, 0)
    return a, b


def brute_force(a, b, radius):
    miles = dfe_miles(a[:, None, 0], a[:, None, 1], b[None, :, 0], b[None, :, 1])
    rows, cols = np.nonzero(within(miles, radius_miles=radius))
    return set(zip(rows.tolist(), cols.tolist(), strict=True)), miles


@pytest.mark.parametrize("method", list(PairMethod))
def test_every_method_returns_the_exact_pairs(points, method):
    a, b = points
    expected, miles = brute_force(a, b, 20.0)
    got = pairs_within(a[:, 0], a[:, 1], b[:, 0], b[:, 1], radius_miles=20.0, method=method)
    assert got.pairs() == expected
    rows = got.row_of_edges()
    assert np.array_equal(got.miles, miles[rows, got.indices])  # DfE miles, bit for bit
    # columns ascending within each row (canonical order)
    for r in range(0, got.n_rows, 37):
        seg = got.indices[got.indptr[r] : got.indptr[r + 1]]
        assert np.all(np.diff(seg) > 0)
    assert {(0, 0), (0, 1)} <= expected and not {(0, 3), (0, 4)} & expected


def test_transpose_and_edges_of(points):
    a, b = points
    got = pairs_within(a[:, 0], a[:, 1], b[:, 0], b[:, 1])
    t = got.transpose()
    assert {(j, i) for i, j in got.pairs()} == t.pairs()
    rows = np.array([5, 2, 7])
    pos = got.edges_of(rows)
    expected = np.concatenate([np.arange(got.indptr[r], got.indptr[r + 1]) for r in rows])
    assert np.array_equal(pos, expected)


def test_bad_input():
    with pytest.raises(ValueError, match="NaN"):
        pairs_within([0.0, np.nan], [0.0, 0.0], [0.0], [0.0])
    with pytest.raises(ValueError):
        pairs_within([0.0], [0.0], [0.0], [0.0], method="quadtree")
    empty = pairs_within([], [], [1.0], [1.0])
    assert empty.n_rows == 0 and empty.nnz == 0


def test_point_index_insert_delete_and_radius_query(points):
    a, b = points
    idx = PointIndex(b[:, 0], b[:, 1])
    assert len(idx) == len(b)
    expected, _ = brute_force(a[:1], b, 20.0)
    keys, tenths = idx.within(easting_m=a[0, 0], northing_m=a[0, 1], radius_miles=20.0)
    assert set(keys.tolist()) == {j for _, j in expected}
    assert tenths.max() <= 200
    idx.delete(0)
    assert 0 not in idx and len(idx) == len(b) - 1
    keys, _ = idx.within(easting_m=a[0, 0], northing_m=a[0, 1])
    assert 0 not in keys.tolist()
    idx.insert(10_000, easting_m=a[0, 0] + 10.0, northing_m=a[0, 1])
    keys, tenths = idx.within(easting_m=a[0, 0], northing_m=a[0, 1])
    assert 10_000 in keys.tolist() and tenths[keys.tolist().index(10_000)] == 0
    with pytest.raises(ValueError):
        idx.insert(10_000, easting_m=1.0, northing_m=1.0)
    with pytest.raises(KeyError):
        idx.delete(0)


def test_count_within_equals_pair_counts_including_rounding_boundaries():
    from geo.spatial.catchments import count_within, pairs_within
    from geo.spatial.distance import METRES_PER_MILE, max_metres_within

    rng = np.random.default_rng(11)
    a_e = rng.uniform(500_000, 600_000, 400)
    a_n = rng.uniform(100_000, 200_000, 400)
    b_e = rng.uniform(480_000, 620_000, 300)
    b_n = rng.uniform(80_000, 220_000, 300)
    # carers exactly on and just either side of the rounding edge of child 0
    edge = max_metres_within(20.0)
    for d in (edge - 0.0005, edge, edge + 0.0005, 20.0 * METRES_PER_MILE, 20.1 * METRES_PER_MILE):
        b_e = np.append(b_e, a_e[0] + d)
        b_n = np.append(b_n, a_n[0])
    pairs = pairs_within(a_e, a_n, b_e, b_n, radius_miles=20.0)
    counts = count_within(a_e, a_n, b_e, b_n, radius_miles=20.0)
    assert np.array_equal(counts, pairs.degree())
    assert count_within(a_e[:0], a_n[:0], b_e, b_n).shape == (0,)
