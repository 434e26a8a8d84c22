"""Capacitated matching of children to suitable places within 20 miles: the exact gap.

The bipartite graph has children on one side and carers on the other; an edge means the carer
is within 20 DfE miles of the child's home and approved for the child (see
:mod:`geo.coverage`). Each carer takes at most ``capacity`` children, each child one place. The
**gap** is the number of children left over by a *maximum* matching (max-flow, exact).

Which children are left over is not unique, so results are reported by the matching-independent
Dulmage–Mendelsohn structure instead: the children reachable from an unmatched child by an
alternating path are exactly those left unmatched by *some* maximum matching (``at_risk``); they
fall into components that are short of ``deficiency`` places each (a Hall violator: the
component's children can only use the component's carers). A child at risk carries the share
``deficiency / children`` of its component, so areas can be given their part of the gap, and an
edit to the carers gives exactly the figures a full recompute gives.

:class:`Matching` holds a maximum matching and updates it after adding or removing a carer with
a few augmenting-path searches (what-if, recruitment), never a new max-flow.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.sparse import csr_array
from scipy.sparse.csgraph import connected_components, maximum_flow

from geo.catchments import Catchment


def max_flow_assignment(adjacency: Catchment, capacity: np.ndarray) -> np.ndarray:
    """A maximum assignment of children (rows) to carers (columns) by max-flow (scipy, Dinic).

    ``capacity``: places per carer (int ≥ 0). Returns the carer of each child, -1 when unmatched.
    Source → child (1) → carer (1 per edge) → sink (``capacity``).
    """
    n_c, n_k = adjacency.n_rows, adjacency.n_cols
    cap = np.asarray(capacity, dtype=np.int64)
    if len(cap) != n_k:
        raise ValueError(f"capacity has {len(cap)} carers, the adjacency {n_k}")
    assigned = np.full(n_c, -1, dtype=np.int64)
    if adjacency.nnz == 0 or cap.sum() == 0:
        return assigned
    # Node order: children, carers, source, sink. Rows built directly in CSR (no COO sort).
    source, sink = n_c + n_k, n_c + n_k + 1
    deg = adjacency.degree()
    has_edge = np.flatnonzero(deg > 0)
    carer_rows = np.flatnonzero(cap > 0)
    row_len = np.concatenate([deg, (cap > 0).astype(np.int64), [len(has_edge)], [0]]).astype(
        np.int64
    )
    indptr = np.zeros(len(row_len) + 1, dtype=np.int64)
    np.cumsum(row_len, out=indptr[1:])
    indices = np.concatenate(
        [
            adjacency.indices.astype(np.int32) + np.int32(n_c),
            np.full(len(carer_rows), sink, dtype=np.int32),
            has_edge.astype(np.int32),
        ]
    )
    data = np.concatenate(
        [
            np.ones(adjacency.nnz, dtype=np.int32),
            cap[carer_rows].astype(np.int32),
            np.ones(len(has_edge), dtype=np.int32),
        ]
    )
    graph = csr_array((data, indices, indptr.astype(np.int32)), shape=(n_c + n_k + 2,) * 2)
    result = maximum_flow(graph, source, sink, method="dinic")
    flow = result.flow
    # The flow matrix has the graph's pattern plus reverse edges; child rows come first.
    child_part = csr_array(flow[:n_c, n_c : n_c + n_k])
    child_part.eliminate_zeros()
    rows = np.repeat(np.arange(n_c), np.diff(child_part.indptr))
    positive = child_part.data > 0
    assigned[rows[positive]] = child_part.indices[positive]
    return assigned


def greedy_assignment(adjacency: Catchment, capacity: np.ndarray) -> np.ndarray:
    """Greedy by scarcity (for comparison with the optimum): children with the fewest suitable
    carers choose first, each the nearest carer with a free place (ties: lower index)."""
    cap = np.asarray(capacity, dtype=np.int64).copy()
    deg = adjacency.degree()
    order = np.lexsort((np.arange(adjacency.n_rows), deg))
    assigned = np.full(adjacency.n_rows, -1, dtype=np.int64)
    indptr, indices, tenths = adjacency.indptr, adjacency.indices, adjacency.tenths
    for child in order[deg[order] > 0].tolist():
        lo, hi = indptr[child], indptr[child + 1]
        carers = indices[lo:hi]
        free = cap[carers] > 0
        if not free.any():
            continue
        options = np.flatnonzero(free)
        best = carers[options[np.argmin(tenths[lo:hi][options])]]
        assigned[child] = best
        cap[best] -= 1
    return assigned


@dataclass(frozen=True, eq=False)
class Shortage:
    """Matching-independent shortage structure (see module docstring).

    ``at_risk``: child can be left unmatched by some maximum matching. ``deficiency`` and
    ``component_children``: for a child at risk, the places its component is short of and the
    number of children at risk in it (0 for other children). ``gap``: total unmatched.
    """

    gap: int
    at_risk: np.ndarray
    deficiency: np.ndarray
    component_children: np.ndarray
    components: int

    @property
    def share(self) -> np.ndarray:
        """Each child's share of the gap (float; sums to ``gap``)."""
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(self.at_risk, self.deficiency / self.component_children, 0.0)


@dataclass(eq=False)
class _Search:
    child_parent: np.ndarray  # -2 unvisited, -1 root, else the carer the child occupies
    carer_parent: np.ndarray  # -1 unvisited, else the child whose edge reached the carer
    free_carer: int  # a reached carer with a free place, or -1
    edges: tuple[np.ndarray, np.ndarray] | None  # (child, carer) edges of reached children


class Matching:
    """A maximum assignment that stays maximum while carers are added and removed.

    ``base``: child × carer adjacency (suitable and within reach); carers added later carry
    their own edges. ``capacity`` is per carer (0 = removed). Not thread-safe; copy() is cheap.
    """

    def __init__(
        self, base: Catchment, capacity: np.ndarray, assigned: np.ndarray | None = None
    ) -> None:
        self.base = base
        self.capacity = np.asarray(capacity, dtype=np.int64).copy()
        self.assigned = (
            max_flow_assignment(base, self.capacity)
            if assigned is None
            else np.asarray(assigned, dtype=np.int64).copy()
        )
        self.load = np.bincount(
            self.assigned[self.assigned >= 0], minlength=len(self.capacity)
        ).astype(np.int64)
        self.extra_child = np.zeros(0, dtype=np.int64)
        self.extra_carer = np.zeros(0, dtype=np.int64)
        self._degree = base.degree()
        self._shortage: Shortage | None = None
        self._search: _Search | None = None

    # -- state -------------------------------------------------------------------------------

    @property
    def n_children(self) -> int:
        return self.base.n_rows

    @property
    def n_carers(self) -> int:
        return len(self.capacity)

    @property
    def matched(self) -> int:
        return int((self.assigned >= 0).sum())

    def copy(self) -> Matching:
        other = Matching.__new__(Matching)
        other.base = self.base
        other.capacity = self.capacity.copy()
        other.assigned = self.assigned.copy()
        other.load = self.load.copy()
        other.extra_child = self.extra_child
        other.extra_carer = self.extra_carer
        other._degree = self._degree
        other._shortage = self._shortage
        other._search = self._search
        return other

    def children_of(self, carer: int) -> np.ndarray:
        """Children with an edge to ``carer`` (ascending)."""
        if carer < self.base.n_cols:
            pos = np.flatnonzero(self.base.indices == carer)
            return np.searchsorted(self.base.indptr, pos, side="right") - 1
        return np.sort(self.extra_child[self.extra_carer == carer])

    # -- edits -------------------------------------------------------------------------------

    def add_carer(self, children: np.ndarray, capacity: int) -> tuple[int, int]:
        """Add a carer reachable by (and suitable for) ``children``; returns (key, newly
        matched children). The matching stays maximum."""
        key = self.n_carers
        children = np.unique(np.asarray(children, dtype=np.int64))
        shortage = self.shortage()  # before the edit: who can reach a new carer's places
        self.capacity = np.append(self.capacity, int(capacity))
        self.load = np.append(self.load, 0)
        if len(children):
            self.extra_child = np.concatenate([self.extra_child, children])
            self.extra_carer = np.concatenate(
                [self.extra_carer, np.full(len(children), key, dtype=np.int64)]
            )
        if capacity <= 0 or not shortage.at_risk[children].any():
            # No child at risk can reach it: no augmenting path, nothing else changes.
            return key, 0
        before = self.matched
        self._invalidate()
        self._augment_all()
        return key, self.matched - before

    def remove_carer(self, key: int) -> int:
        """Remove carer ``key`` (its places go); returns the change in matched children (≤ 0)."""
        if not 0 <= key < self.n_carers:
            raise KeyError(key)
        before = self.matched
        freed = np.flatnonzero(self.assigned == key)
        self.capacity[key] = 0
        self.load[key] = 0
        if key >= self.base.n_cols:  # an added carer: forget its edges (long what-if sessions)
            keep = self.extra_carer != key
            self.extra_child = self.extra_child[keep]
            self.extra_carer = self.extra_carer[keep]
        if len(freed) == 0:
            # A carer with no child assigned is unreachable from the unmatched children in a
            # maximum matching, so the shortage structure does not change.
            return 0
        self.assigned[freed] = -1
        self._invalidate()
        self._augment_all()
        return self.matched - before

    # -- shortage ----------------------------------------------------------------------------

    def shortage(self) -> Shortage:
        """The Dulmage–Mendelsohn shortage structure of the current (maximum) matching."""
        if self._shortage is None:
            self._augment_all()
            search = self._search
            assert search is not None and search.edges is not None
            self._shortage = self._decompose(search)
        return self._shortage

    def _invalidate(self) -> None:
        self._shortage = None
        self._search = None

    def _augment_all(self) -> None:
        """Augment until no path is left; the last (complete) search is kept for the DM."""
        while True:
            roots = np.flatnonzero(self.assigned < 0)
            search = self._bfs(roots)
            if search.free_carer < 0:
                self._search = search
                return
            self._augment(search)

    def _neighbours(self, children: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(child, carer) edges of ``children`` to carers with places."""
        pos = self.base.edges_of(children)
        ch = np.repeat(children, self._degree[children])
        cr = self.base.indices[pos].astype(np.int64)
        if len(self.extra_child):
            m = np.isin(self.extra_child, children)
            if m.any():
                ch = np.concatenate([ch, self.extra_child[m]])
                cr = np.concatenate([cr, self.extra_carer[m]])
        live = self.capacity[cr] > 0
        return ch[live], cr[live]

    def _bfs(self, roots: np.ndarray) -> _Search:
        """Level-by-level alternating search from the unmatched ``roots``; stops at the first
        level that reaches a carer with a free place."""
        child_parent = np.full(self.n_children, -2, dtype=np.int64)
        carer_parent = np.full(self.n_carers, -1, dtype=np.int64)
        child_parent[roots] = -1
        matched = np.flatnonzero(self.assigned >= 0)
        by_carer = matched[np.argsort(self.assigned[matched], kind="stable")]
        sorted_carer = self.assigned[by_carer]
        edge_parts: list[tuple[np.ndarray, np.ndarray]] = []
        frontier = roots
        while len(frontier):
            ch, cr = self._neighbours(frontier)
            edge_parts.append((ch, cr))
            new = carer_parent[cr] == -1
            ch, cr = ch[new], cr[new]
            if not len(cr):
                break
            reached, first = np.unique(cr, return_index=True)
            carer_parent[reached] = ch[first]
            free = reached[self.load[reached] < self.capacity[reached]]
            if len(free):
                return _Search(child_parent, carer_parent, int(free[0]), None)
            lo = np.searchsorted(sorted_carer, reached, side="left")
            hi = np.searchsorted(sorted_carer, reached, side="right")
            occupants = by_carer[_ranges(lo, hi)]
            occupants = occupants[child_parent[occupants] == -2]
            child_parent[occupants] = self.assigned[occupants]
            frontier = occupants
        edges = (
            (
                np.concatenate([e[0] for e in edge_parts]),
                np.concatenate([e[1] for e in edge_parts]),
            )
            if edge_parts
            else (np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64))
        )
        return _Search(child_parent, carer_parent, -1, edges)

    def _augment(self, search: _Search) -> None:
        carer = search.free_carer
        self.load[carer] += 1
        child = int(search.carer_parent[carer])
        while True:
            previous = int(self.assigned[child])
            self.assigned[child] = carer
            if previous < 0:
                return
            carer = previous
            child = int(search.carer_parent[carer])

    def _decompose(self, search: _Search) -> Shortage:
        n_c, n_k = self.n_children, self.n_carers
        at_risk = search.child_parent != -2
        deficiency = np.zeros(n_c, dtype=np.int64)
        size = np.zeros(n_c, dtype=np.int64)
        unmatched = self.assigned < 0
        gap = int(unmatched.sum())
        if not at_risk.any():
            return Shortage(gap, at_risk, deficiency, size, 0)
        ch, cr = search.edges  # type: ignore[misc]
        n = n_c + n_k
        graph = csr_array((np.ones(len(ch), dtype=np.int8), (ch, n_c + cr)), shape=(n, n))
        _, labels = connected_components(graph, directed=False)
        child_label = labels[:n_c]
        risk_labels = child_label[at_risk]
        comp_size = np.bincount(risk_labels, minlength=labels.max() + 1)
        comp_short = np.bincount(child_label[unmatched], minlength=labels.max() + 1)
        deficiency[at_risk] = comp_short[risk_labels]
        size[at_risk] = comp_size[risk_labels]
        return Shortage(gap, at_risk, deficiency, size, int(np.count_nonzero(comp_short)))


def _ranges(lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """Concatenated ``arange(lo[i], hi[i])`` for all i (vectorised)."""
    counts = hi - lo
    total = int(counts.sum())
    if total == 0:
        return np.zeros(0, dtype=np.int64)
    return np.repeat(lo - np.cumsum(counts) + counts, counts) + np.arange(total)
