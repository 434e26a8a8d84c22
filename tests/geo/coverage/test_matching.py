"""Matching: max-flow is a maximum assignment; edits keep it maximum; the shortage structure."""

import numpy as np
import pytest
from scipy.sparse import csr_array
from scipy.sparse.csgraph import maximum_bipartite_matching

from geo.coverage.matching import Matching, greedy_assignment, max_flow_assignment
from geo.spatial.catchments import Catchment, pairs_within
from geo.spatial.distance import METRES_PER_MILE


def reference_matched(adj: Catchment, cap: np.ndarray) -> int:
    """Maximum matching with each carer copied once per place (Hopcroft–Karp, scipy)."""
    start = np.concatenate([[0], np.cumsum(cap)])
    rows, cols = [], []
    for r, c in zip(adj.row_of_edges().tolist(), adj.indices.tolist(), strict=True):
        for k in range(cap[c]):
            rows.append(r)
            cols.append(start[c] + k)
    if not rows:
        return 0
    graph = csr_array((np.ones(len(rows)), (rows, cols)), shape=(adj.n_rows, int(cap.sum())))
    return int((maximum_bipartite_matching(graph, perm_type="column") >= 0).sum())


def random_case(rng):
    nc, nk = int(rng.integers(5, 50)), int(rng.integers(1, 25))
    c = rng.random((nc, 2)) * 150_000
    k = rng.random((nk, 2)) * 150_000
    adj = pairs_within(c[:, 0], c[:, 1], k[:, 0], k[:, 1], radius_miles=15)
    return adj, rng.integers(0, 3, nk)


def with_column(adj: Catchment, kids: np.ndarray) -> Catchment:
    rows = np.concatenate([adj.row_of_edges(), kids])
    cols = np.concatenate([adj.indices, np.full(len(kids), adj.n_cols)])
    order = np.lexsort((cols, rows))
    indptr = np.concatenate([[0], np.cumsum(np.bincount(rows, minlength=adj.n_rows))])
    return Catchment(
        indptr=indptr,
        indices=cols[order].astype(np.int32),
        tenths=np.zeros(len(rows), np.uint16),
        n_cols=adj.n_cols + 1,
    )


def same_structure(a: Matching, b: Matching) -> bool:
    x, y = a.shortage(), b.shortage()
    return (
        x.gap == y.gap
        and np.array_equal(x.at_risk, y.at_risk)
        and np.array_equal(x.deficiency, y.deficiency)
        and np.array_equal(x.component_children, y.component_children)
    )


def test_max_flow_is_maximum_and_valid():
    rng = np.random.default_rng(5)
    for _ in range(25):
        adj, cap = random_case(rng)
        assigned = max_flow_assignment(adj, cap)
        assert (assigned >= 0).sum() == reference_matched(adj, cap)
        assert np.all(np.bincount(assigned[assigned >= 0], minlength=len(cap)) <= cap)
        for child in np.flatnonzero(assigned >= 0):
            assert assigned[child] in adj.indices[adj.indptr[child] : adj.indptr[child + 1]]
        greedy = greedy_assignment(adj, cap)
        assert (greedy >= 0).sum() <= (assigned >= 0).sum()
        s = Matching(adj, cap).shortage()
        assert s.gap == adj.n_rows - (assigned >= 0).sum()
        assert s.share.sum() == pytest.approx(s.gap)


@pytest.mark.parametrize("budget", [None, 1])
def test_add_and_remove_keep_the_matching_maximum(budget, monkeypatch):
    if budget is not None:  # force the bounded forward/backward searches to alternate
        monkeypatch.setattr("geo.coverage.matching._FIRST_BUDGET", budget)
    rng = np.random.default_rng(8)
    for _ in range(25):
        adj, cap = random_case(rng)
        m = Matching(adj, cap)
        j = int(rng.integers(0, len(cap)))
        m.remove_carer(j)
        cap2 = cap.copy()
        cap2[j] = 0
        assert same_structure(m, Matching(adj, cap2))
        kids = np.flatnonzero(rng.random(adj.n_rows) < 0.3)
        _, gained = m.add_carer(kids, 2)
        fresh = Matching(with_column(adj, kids), np.append(cap2, 2))
        assert same_structure(m, fresh)
        assert gained == fresh.matched - Matching(adj, cap2).matched


def test_successive_additions_use_the_earlier_risk_set_and_stay_exact():
    """After one shortage search, carers are added one after another with no new search (the
    earlier at-risk set screens out carers nobody at risk can reach); every gain equals the
    reference matching of the grown graph."""
    rng = np.random.default_rng(11)
    for _ in range(30):
        adj, cap = random_case(rng)
        m = Matching(adj, cap)
        m.shortage()
        graph, caps = adj, cap.copy()
        matched = reference_matched(graph, caps)
        for _ in range(4):
            kids = np.flatnonzero(rng.random(adj.n_rows) < 0.2)
            places = int(rng.integers(1, 3))
            _, gained = m.add_carer(kids, places)
            graph, caps = with_column(graph, kids), np.append(caps, places)
            now = reference_matched(graph, caps)
            assert gained == now - matched
            matched = now
            assert m.matched == matched
        assert same_structure(m, Matching(graph, caps))


def test_line_example_where_greedy_falls_short():
    miles = np.array([33, 38, 52, 43]) * METRES_PER_MILE
    carers = np.array([37, 57, 15]) * METRES_PER_MILE
    adj = pairs_within(miles, np.zeros(4), carers, np.zeros(3))
    cap = np.ones(3, dtype=int)
    assert (max_flow_assignment(adj, cap) >= 0).sum() == 3
    assert (greedy_assignment(adj, cap) >= 0).sum() == 2
