"""The coverage model stays exact while it is made fast (issue 21).

The reference is the model as it was before the speed work, written out plainly: every
child × carer pair by brute force (DfE miles ≤ 20, the carer suits the child and offers places)
and one scipy max-flow over them. On generated datasets (towns of children and carers, repeated
postcodes with the same needs, carers with no places, ages unknown) the model must list exactly
those pairs with their distances and give exactly that gap; its shortage structure must be the
one the reference matching gives.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy.sparse import csr_array
from scipy.sparse.csgraph import maximum_flow

from geo.coverage import CoverageModel, Demand, Supply, suits
from geo.coverage.matching import Matching
from geo.spatial.catchments import Catchment
from geo.spatial.distance import dfe_miles, within
from geo.ssda903.carers import ALL_AGES_MASK, NEED_MASK


def _dataset(seed: int, n_children: int, n_carers: int) -> tuple[Demand, Supply]:
    rng = np.random.default_rng(seed)
    towns = rng.uniform(0, 120_000, size=(6, 2))

    def near_towns(n: int) -> np.ndarray:
        at = towns[rng.integers(0, len(towns), n)]
        return np.round(at + rng.normal(0, 9_000, size=(n, 2)))

    homes = near_towns(n_children)
    # A fifth of the children share a home postcode (and often the needs) with another child.
    twins = rng.random(n_children) < 0.2
    homes[twins] = homes[rng.integers(0, n_children, int(twins.sum()))]
    ages = rng.integers(0, 18, n_children).astype(float)
    ages[rng.random(n_children) < 0.05] = np.nan
    demand = Demand.from_arrays(
        easting_m=homes[:, 0],
        northing_m=homes[:, 1],
        age_years=ages,
        disabled=rng.random(n_children) < 0.1,
        siblings=rng.random(n_children) < 0.15,
        parent_and_child=rng.random(n_children) < 0.03,
    )
    where = near_towns(n_carers)
    categories = rng.integers(1, ALL_AGES_MASK + 1, n_carers) | (
        rng.integers(0, NEED_MASK + 1, n_carers) & NEED_MASK
    )
    places = rng.integers(0, 4, n_carers)  # some carers offer no place
    supply = Supply.from_arrays(
        easting_m=where[:, 0],
        northing_m=where[:, 1],
        places=places,
        categories=categories,
        vacant=rng.integers(0, 3, n_carers),
    )
    return demand, supply


def _reference_pairs(demand: Demand, supply: Supply) -> set[tuple[int, int, int]]:
    miles = dfe_miles(
        demand.easting_m[:, None],
        demand.northing_m[:, None],
        supply.easting_m[None, :],
        supply.northing_m[None, :],
    )
    ok = (
        within(miles, radius_miles=20.0)
        & suits(demand.needs[:, None], supply.categories[None, :])
        & (supply.places[None, :] > 0)
    )
    rows, cols = np.nonzero(ok)
    tenths = np.rint(miles[rows, cols] * 10).astype(int)
    return set(zip(rows.tolist(), cols.tolist(), tenths.tolist(), strict=True))


def _reference_gap(n_children: int, supply: Supply, pairs: set[tuple[int, int, int]]) -> int:
    """Source → child (1) → carer (1 an edge) → sink (places): scipy's max-flow, as before."""
    n_k = len(supply)
    source, sink = n_children + n_k, n_children + n_k + 1
    rows = [source] * n_children + [r for r, _, _ in pairs] + list(range(n_children, source))
    cols = list(range(n_children)) + [n_children + c for _, c, _ in pairs] + [sink] * n_k
    caps = [1] * n_children + [1] * len(pairs) + supply.places.astype(int).tolist()
    graph = csr_array(
        (np.array(caps, np.int32), (np.array(rows), np.array(cols))), shape=(sink + 1,) * 2
    )
    return n_children - int(maximum_flow(graph, source, sink).flow_value)


def _pairs_of(adj: Catchment) -> set[tuple[int, int, int]]:
    rows = adj.row_of_edges()
    return set(
        zip(rows.tolist(), adj.indices.tolist(), adj.tenths.astype(int).tolist(), strict=True)
    )


@pytest.mark.parametrize(
    ("seed", "n_children", "n_carers"), [(1, 400, 150), (2, 600, 90), (3, 350, 160)]
)
def test_model_lists_exactly_the_suitable_pairs_and_the_exact_gap(seed, n_children, n_carers):
    demand, supply = _dataset(seed, n_children, n_carers)
    pairs = _reference_pairs(demand, supply)
    model = CoverageModel(demand, supply)

    assert _pairs_of(model.adjacency) == pairs
    adj = model.adjacency
    for i in range(adj.n_rows):  # columns ascending within each row, as every reader expects
        assert np.all(np.diff(adj.indices[adj.indptr[i] : adj.indptr[i + 1]]) > 0)
    gap = _reference_gap(len(demand), supply, pairs)
    assert 0 < gap < len(demand)  # the datasets are short of places somewhere, not everywhere
    assert model.gap == gap
    assert model.result().gap == gap

    # The shortage structure is the one a plain max-flow matching gives (it is unique).
    plain = Matching(model.adjacency, supply.places)
    mine, theirs = model.matching.shortage(), plain.shortage()
    assert np.array_equal(mine.at_risk, theirs.at_risk)
    assert np.array_equal(mine.deficiency, theirs.deficiency)
    assert np.array_equal(mine.component_children, theirs.component_children)
    assert int((model.matching.assigned >= 0).sum()) == len(demand) - gap
    # Every assignment is an edge and no carer is over its places.
    assigned = model.matching.assigned
    for child in np.flatnonzero(assigned >= 0)[:200]:
        row = adj.indices[adj.indptr[child] : adj.indptr[child + 1]]
        assert assigned[child] in row
    assert (np.bincount(assigned[assigned >= 0], minlength=len(supply)) <= supply.places).all()


def test_vacant_basis_stays_exact():
    demand, supply = _dataset(4, 300, 200)
    model = CoverageModel(demand, supply, places_basis="vacant")
    vacant_only = Supply.from_arrays(
        easting_m=supply.easting_m,
        northing_m=supply.northing_m,
        places=supply.vacant,
        categories=supply.categories,
    )
    pairs = _reference_pairs(demand, vacant_only)
    assert _pairs_of(model.adjacency) == pairs
    assert model.gap == _reference_gap(len(demand), vacant_only, pairs)


@pytest.mark.parametrize("seed", [5, 6])
def test_sampled_first_flow_then_augmenting_paths_is_still_maximum(seed, monkeypatch):
    """With a tiny sample (2 edges a child) the first max-flow leaves many children out that
    the augmenting paths over every edge must bring back: the gap stays exact."""
    from geo.coverage import matching

    demand, supply = _dataset(seed, 500, 140)
    pairs = _reference_pairs(demand, supply)
    gap = _reference_gap(len(demand), supply, pairs)
    monkeypatch.setattr(matching, "_SAMPLE_EDGES", 2)
    model = CoverageModel(demand, supply)
    sample = matching._sample_edges(model.adjacency, 2)
    first = matching.max_flow_assignment(sample, supply.places)
    assert int((first < 0).sum()) > gap  # the sample alone is not enough ...
    assert model.gap == gap  # ... the completed assignment is
    assert int((model.matching.assigned < 0).sum()) == gap
