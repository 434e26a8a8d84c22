"""Capacitated matching of children to suitable places within 20 miles: the exact gap.

The bipartite graph has children on one side and carers on the other; an edge means the carer
is within 20 DfE miles of the child's home and approved for the child (see
:mod:`geo.coverage.model`). Each carer takes at most ``capacity`` children, each child one place. The
**gap** is the number of children left over by a *maximum* matching (max-flow, exact).

Which children are left over is not unique, so results are reported by the matching-independent
Dulmage–Mendelsohn structure instead: the children reachable from an unmatched child by an
alternating path are exactly those left unmatched by *some* maximum matching (``at_risk``); they
fall into components that are short of ``deficiency`` places each (a Hall violator: the
component's children can only use the component's carers). A child at risk carries the share
``deficiency / children`` of its component, so areas can be given their part of the gap, and an
edit to the carers gives exactly the figures a full recompute gives.

:class:`Matching` holds a maximum matching and updates it after adding or removing a carer with
a few augmenting-path searches (what-if, recruitment), never a new max-flow. It starts from
:func:`maximum_assignment`: a max-flow over a sample of each child's edges, completed by
augmenting paths over every edge (England: 79 M suitable pairs, a max-flow over 1.2 M of them).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.sparse import csr_array
from scipy.sparse.csgraph import connected_components, maximum_flow

from geo.spatial.catchments import Catchment


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
    del indices, data
    flow = maximum_flow(graph, source, sink, method="dinic").flow
    del graph
    # The flow matrix holds the graph's edges plus reverse ones; the child rows come first.
    end = int(flow.indptr[n_c])
    cols = flow.indices[:end]
    pos = np.flatnonzero((flow.data[:end] > 0) & (cols >= n_c) & (cols < n_c + n_k))
    rows = np.searchsorted(flow.indptr[: n_c + 1], pos, side="right") - 1
    assigned[rows] = cols[pos].astype(np.int64) - n_c
    return assigned


def _sample_edges(adjacency: Catchment, per_child: int) -> Catchment:
    """At most ``per_child`` edges of each child, spread over its row from a pseudo-random
    start (so children do not all crowd the same carers); a child with fewer keeps them all."""
    deg = adjacency.degree()
    n = adjacency.n_rows
    take = np.minimum(deg, per_child)
    rows = np.repeat(np.arange(n, dtype=np.int64), take)
    indptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(take, out=indptr[1:])
    j = np.arange(len(rows), dtype=np.int64) - indptr[rows]  # 0 .. take-1 within the row
    start = (np.arange(n, dtype=np.int64) * 2654435761) % np.maximum(deg, 1)
    stride = np.maximum(deg // np.maximum(take, 1), 1)
    pos = adjacency.indptr[rows] + (start[rows] + j * stride[rows]) % deg[rows]
    pos.sort()  # rows stay in order; ascending columns within each row
    return Catchment(
        indptr=indptr,
        indices=adjacency.indices[pos],
        tenths=adjacency.tenths[pos],
        n_cols=adjacency.n_cols,
    )


def maximum_assignment(adjacency: Catchment, capacity: np.ndarray) -> np.ndarray:
    """A maximum assignment, exact, without a max-flow over every edge.

    Children with many suitable carers rarely need more than a few of them: a max-flow on a
    sample of about ``_SAMPLE_EDGES`` edges per child matches nearly every child that can be
    matched; :meth:`Matching.complete` then looks for augmenting paths over *all* edges until
    none is left, so the assignment is maximum (Berge) and the gap exact. Small graphs go
    straight to :func:`max_flow_assignment`.
    """
    if adjacency.nnz <= _SAMPLE_EDGES * max(adjacency.n_rows, 1) * 2:
        return max_flow_assignment(adjacency, capacity)
    first = max_flow_assignment(_sample_edges(adjacency, _SAMPLE_EDGES), capacity)
    matching = Matching(adjacency, capacity, assigned=first)
    matching.complete()
    return matching.assigned


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


_SAMPLE_EDGES = 16  # edges per child in the first max-flow of maximum_assignment
_CHUNK_EDGES = 2_000_000  # edges gathered at once in a search (bounds memory at any scale)
_FIRST_BUDGET = 200_000  # edges a bounded search may look at before the other side is tried
_NO_PATH, _OVER_BUDGET = -1, -2


class Matching:
    """A maximum assignment that stays maximum while carers are added and removed.

    ``base``: child × carer adjacency (suitable and within reach); carers added later carry
    their own edges. ``capacity`` is per carer (0 = removed). Edits use local augmenting-path
    searches (a new carer searches backwards from itself for the nearest child without a place;
    a removed carer's children search forwards for a free place); the shortage structure is
    recomputed only when asked for. Not thread-safe; copy() is cheap (arrays of the children
    and carers, never the edges).
    """

    def __init__(
        self, base: Catchment, capacity: np.ndarray, assigned: np.ndarray | None = None
    ) -> None:
        self.base = base
        self.capacity = np.asarray(capacity, dtype=np.int64).copy()
        self.assigned = (
            maximum_assignment(base, self.capacity)
            if assigned is None
            else np.asarray(assigned, dtype=np.int64).copy()
        )
        self.load = np.bincount(
            self.assigned[self.assigned >= 0], minlength=len(self.capacity)
        ).astype(np.int64)
        self.extra_child = np.zeros(0, dtype=np.int64)
        self.extra_carer = np.zeros(0, dtype=np.int64)
        self._degree = base.degree()
        self._by_carer: Catchment | None = None
        self._shortage: Shortage | None = None
        # A superset of the children at risk, kept while carers are only added: adding places
        # never puts a child at risk (a maximum matching of the larger graph that misses a child
        # gives one of the smaller graph that misses it too), so a new carer none of these
        # children can reach gains nothing — without a search.
        self._risk_cover: np.ndarray | None = None

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
        other._by_carer = self._transposed()  # built once here, shared by every copy
        other._shortage = self._shortage
        other._risk_cover = self._risk_cover
        return other

    def children_of(self, carer: int) -> np.ndarray:
        """Children with an edge to ``carer`` (ascending)."""
        if carer < self.base.n_cols:
            t = self._transposed()
            return t.indices[t.indptr[carer] : t.indptr[carer + 1]].astype(np.int64)
        return np.sort(self.extra_child[self.extra_carer == carer])

    # -- edits -------------------------------------------------------------------------------

    def add_carer(self, children: np.ndarray, capacity: int) -> tuple[int, int]:
        """Add a carer reachable by (and suitable for) ``children``; returns (key, newly
        matched children). The matching stays maximum."""
        key = self.n_carers
        children = np.unique(np.asarray(children, dtype=np.int64))
        self.capacity = np.append(self.capacity, max(int(capacity), 0))
        self.load = np.append(self.load, 0)
        if len(children):
            self.extra_child = np.concatenate([self.extra_child, children])
            self.extra_carer = np.concatenate(
                [self.extra_carer, np.full(len(children), key, dtype=np.int64)]
            )
        if capacity <= 0 or not len(children):
            return key, 0
        if self._risk_cover is not None and not self._risk_cover[children].any():
            # No child at risk (now, or before the carers added since) can reach it: no
            # augmenting path, the structure stands.
            return key, 0
        gained = 0
        while gained < capacity and self._augment_into(key):
            gained += 1
        if gained:
            self._shortage = None
        return key, gained

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
        self._shortage = None
        self._risk_cover = None  # fewer places can put more children at risk
        # Only the freed children can start an augmenting path (the others could not before),
        # and it must end at a free place. Search forwards from the children and backwards from
        # the free places with doubling edge budgets: whichever side is small settles it (where
        # places are short the backward side is tiny; where they are plentiful the forward one).
        budget = _FIRST_BUDGET
        while True:
            roots = freed[self.assigned[freed] < 0]
            if not len(roots):
                break
            search = self._forward(roots, stop_at_free=True, max_edges=budget)
            if search.free_carer >= 0:
                self._augment(search)
                continue
            if search.free_carer == _NO_PATH:
                break
            near = np.unique(self._child_edges(roots)[1])
            if self._free_places_reach(near, max_edges=budget) is False:
                break
            budget *= 4
        return self.matched - before

    def complete(self) -> int:
        """Augment until the assignment is maximum (no augmenting path over any edge); returns
        the children newly matched. A no-op on a maximum assignment but for one search."""
        gained = 0
        while True:
            search = self._forward(np.flatnonzero(self.assigned < 0), stop_at_free=True)
            if search.free_carer < 0:
                break
            self._augment(search)
            gained += 1
        if gained:
            self._shortage = None
            self._risk_cover = None
        return gained

    # -- shortage ----------------------------------------------------------------------------

    def shortage(self) -> Shortage:
        """The Dulmage–Mendelsohn shortage structure of the current (maximum) matching."""
        if self._shortage is None:
            while True:
                search = self._forward(np.flatnonzero(self.assigned < 0), stop_at_free=False)
                if search.free_carer < 0:
                    break
                self._augment(search)  # only if the assignment given was not maximum
            self._shortage = self._decompose(search)
            self._risk_cover = self._shortage.at_risk
        return self._shortage

    # -- searches ----------------------------------------------------------------------------

    def _transposed(self) -> Catchment:
        """Carer → children adjacency of the base edges (built once, shared by copies)."""
        if self._by_carer is None:
            b = self.base
            m = csr_array(
                (np.ones(b.nnz, dtype=np.int8), b.indices, b.indptr), shape=(b.n_rows, b.n_cols)
            ).tocsc()
            self._by_carer = Catchment(
                indptr=m.indptr.astype(np.int64),
                indices=m.indices,
                tenths=np.zeros(0, dtype=np.uint16),
                n_cols=b.n_rows,
            )
        return self._by_carer

    def _child_edges(self, children: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
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

    def _carer_edges(self, carers: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(child, carer) edges of ``carers`` (base and added)."""
        base = carers[carers < self.base.n_cols]
        t = self._transposed()
        pos = t.edges_of(base)
        ch = t.indices[pos].astype(np.int64)
        cr = np.repeat(base, np.diff(t.indptr)[base] if len(base) else 0)
        if len(self.extra_child):
            m = np.isin(self.extra_carer, carers)
            if m.any():
                ch = np.concatenate([ch, self.extra_child[m]])
                cr = np.concatenate([cr, self.extra_carer[m]])
        return ch, cr

    def _chunks(self, children: np.ndarray) -> list[np.ndarray]:
        """Split ``children`` so each part has at most about ``_CHUNK_EDGES`` edges."""
        if len(children) < 2:
            return [children]
        ends = np.cumsum(self._degree[children])
        if ends[-1] <= _CHUNK_EDGES:
            return [children]
        cuts = np.searchsorted(ends, np.arange(_CHUNK_EDGES, ends[-1], _CHUNK_EDGES))
        return [c for c in np.split(children, np.unique(cuts)) if len(c)]

    def _free_places_reach(self, carers: np.ndarray, *, max_edges: int) -> bool | None:
        """Whether a place could be freed up at any of ``carers``: one of them has a free
        place, or holds a child who could move (along an alternating path) to a free place.
        ``None`` when more than ``max_edges`` edges would have to be looked at."""
        wanted = np.zeros(self.n_carers, dtype=bool)
        wanted[carers] = True
        carer_seen = np.zeros(self.n_carers, dtype=bool)
        child_seen = np.zeros(self.n_children, dtype=bool)
        frontier = np.flatnonzero(self.load < self.capacity)
        carer_seen[frontier] = True
        looked = 0
        while len(frontier):
            if wanted[frontier].any():
                return True
            ch, _ = self._carer_edges(frontier)
            looked += len(ch)
            if looked > max_edges:
                return None
            ch = np.unique(ch[~child_seen[ch]])
            child_seen[ch] = True
            held = self.assigned[ch]
            held = np.unique(held[held >= 0])
            frontier = held[~carer_seen[held]]
            carer_seen[frontier] = True
        return False

    def _augment_into(self, target: int) -> bool:
        """Search backwards from carer ``target`` (which has a free place) for the nearest
        child without a place; if found, move children along the path. Local: it stops at the
        first level holding an unmatched child."""
        n_c, n_k = self.n_children, self.n_carers
        move_to = np.full(n_c, -1, dtype=np.int64)  # the carer a reached child would move into
        freed_by = np.full(n_k, -1, dtype=np.int64)  # the child whose move frees a carer's place
        carer_seen = np.zeros(n_k, dtype=bool)
        carer_seen[target] = True
        frontier = np.array([target], dtype=np.int64)
        while len(frontier):
            ch, cr = self._carer_edges(frontier)
            fresh = move_to[ch] < 0
            ch, cr = ch[fresh], cr[fresh]
            if not len(ch):
                return False
            reached, first = np.unique(ch, return_index=True)
            move_to[reached] = cr[first]
            free = reached[self.assigned[reached] < 0]
            if len(free):
                child = int(free[0])
                while True:
                    carer = int(move_to[child])
                    after = int(freed_by[carer]) if carer != target else -1
                    self.assigned[child] = carer
                    if carer == target:
                        self.load[target] += 1
                        return True
                    child = after
            held = self.assigned[reached]
            carers, first = np.unique(held, return_index=True)
            new = ~carer_seen[carers]
            carers = carers[new]
            freed_by[carers] = reached[first[new]]
            carer_seen[carers] = True
            frontier = carers
        return False

    def _forward(
        self, roots: np.ndarray, *, stop_at_free: bool, max_edges: int | None = None
    ) -> _Search:
        """Level-by-level alternating search from the unmatched ``roots``.

        With ``stop_at_free`` it stops at the first level that reaches a carer with a free
        place. Otherwise it runs to the end and records, for the shortage structure, which
        search trees (one per root) touch each other. With ``max_edges`` it gives up
        (``free_carer`` = ``_OVER_BUDGET``) after looking at that many edges.
        """
        n_c, n_k = self.n_children, self.n_carers
        child_parent = np.full(n_c, -2, dtype=np.int64)
        carer_parent = np.full(n_k, -1, dtype=np.int64)
        child_tree = np.full(n_c, -1, dtype=np.int64)
        carer_tree = np.full(n_k, -1, dtype=np.int64)
        child_parent[roots] = -1
        child_tree[roots] = np.arange(len(roots))
        n_trees = max(len(roots), 1)
        links: list[np.ndarray] = []
        matched = np.flatnonzero(self.assigned >= 0)
        by_carer = matched[np.argsort(self.assigned[matched], kind="stable")]
        sorted_carer = self.assigned[by_carer]
        frontier = roots
        looked = 0
        while len(frontier):
            reached_parts = []
            for part in self._chunks(frontier):
                ch, cr = self._child_edges(part)
                looked += len(ch)
                if max_edges is not None and looked > max_edges:
                    return _Search(child_parent, carer_parent, _OVER_BUDGET, None, None)
                new = carer_parent[cr] == -1
                if len(cr) > int(new.sum()) and not stop_at_free:
                    old = ~new
                    links.append(np.unique(child_tree[ch[old]] * n_trees + carer_tree[cr[old]]))
                ch, cr = ch[new], cr[new]
                if not len(cr):
                    continue
                reached, first = np.unique(cr, return_index=True)
                carer_parent[reached] = ch[first]
                carer_tree[reached] = child_tree[ch[first]]
                if not stop_at_free and len(cr) > len(reached):
                    links.append(np.unique(child_tree[ch] * n_trees + carer_tree[cr]))
                free = reached[self.load[reached] < self.capacity[reached]]
                if len(free):
                    # Only when the matching is not maximum yet (or in an augmenting search).
                    return _Search(child_parent, carer_parent, int(free[0]), None, None)
                reached_parts.append(reached)
            if not reached_parts:
                break
            reached = np.concatenate(reached_parts)
            lo = np.searchsorted(sorted_carer, reached, side="left")
            hi = np.searchsorted(sorted_carer, reached, side="right")
            occupants = by_carer[_ranges(lo, hi)]
            occupants = occupants[child_parent[occupants] == -2]
            child_parent[occupants] = self.assigned[occupants]
            child_tree[occupants] = carer_tree[self.assigned[occupants]]
            frontier = occupants
        link = np.unique(np.concatenate(links)) if links else np.zeros(0, dtype=np.int64)
        return _Search(child_parent, carer_parent, -1, child_tree, link)

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
        n_c = self.n_children
        at_risk = search.child_parent != -2
        deficiency = np.zeros(n_c, dtype=np.int64)
        size = np.zeros(n_c, dtype=np.int64)
        unmatched = self.assigned < 0
        gap = int(unmatched.sum())
        if not at_risk.any():
            return Shortage(gap, at_risk, deficiency, size, 0)
        # Components of the children at risk and their carers = search trees joined by links.
        assert search.child_tree is not None and search.links is not None
        n_trees = gap
        a, b = np.divmod(search.links, max(n_trees, 1))
        graph = csr_array(
            (np.ones(len(a), dtype=np.int8), (a, b)), shape=(max(n_trees, 1), max(n_trees, 1))
        )
        n_comp, labels = connected_components(graph, directed=False)
        tree = search.child_tree[at_risk]
        comp = labels[tree]
        comp_size = np.bincount(comp, minlength=n_comp)
        comp_short = np.bincount(labels[:n_trees], minlength=n_comp)  # one root per tree
        deficiency[at_risk] = comp_short[comp]
        size[at_risk] = comp_size[comp]
        return Shortage(gap, at_risk, deficiency, size, int(np.count_nonzero(comp_short)))


@dataclass(eq=False)
class _Search:
    child_parent: np.ndarray  # -2 unvisited, -1 root, else the carer the child occupies
    carer_parent: np.ndarray  # -1 unvisited, else the child whose edge reached the carer
    free_carer: int  # a reached carer with a free place, or -1
    child_tree: np.ndarray | None  # the root (search tree) each reached child belongs to
    links: np.ndarray | None  # pairs of trees joined by an edge, as tree_a * n_trees + tree_b


def _ranges(lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """Concatenated ``arange(lo[i], hi[i])`` for all i (vectorised)."""
    counts = hi - lo
    total = int(counts.sum())
    if total == 0:
        return np.zeros(0, dtype=np.int64)
    return np.repeat(lo - np.cumsum(counts) + counts, counts) + np.arange(total)
