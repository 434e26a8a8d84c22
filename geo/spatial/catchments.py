"""Which points lie within a DfE-mile radius of which: a dynamic R-tree for what-if edits and an
exact bulk pair search for catchments.

Coordinates are EPSG:27700 metres. Every search uses a safe metric radius
(:func:`geo.spatial.distance.max_metres_within` plus a metre of slack for floating point) and then
confirms each candidate with :func:`geo.spatial.distance.dfe_miles` and :func:`geo.spatial.distance.within`, so a
pair is in a catchment exactly when its DfE distance rounds to ≤ the radius (20.0 miles counts,
20.1 does not). Every method returns the same pairs; they differ only in speed (see
``PairMethod`` and the benchmark figures in the README).
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from enum import StrEnum

import numpy as np
from rtree import index as rtree_index

from geo.progress import Progress, report
from geo.spatial.distance import dfe_miles, max_metres_within, within

_SLACK_M = 1.0  # the candidate search is wider than needed; dfe_miles decides
_CHUNK_PAIRS = 250_000  # candidate pairs per chunk: small temporaries are reused, not page-faulted


class PairMethod(StrEnum):
    """Bulk candidate search behind :func:`pairs_within` (all exact after confirmation)."""

    KDTREE = "kdtree"  # scipy cKDTree.query_ball_point, chunked
    KDTREE_SPARSE = "kdtree_sparse"  # scipy cKDTree.sparse_distance_matrix, chunked
    STRTREE = "strtree"  # shapely STRtree.query(predicate="dwithin")
    RTREE = "rtree"  # rtree Index.intersection_v on bounding squares


# Fastest exact method at Kent and national scale (measured; see README "Carer coverage").
DEFAULT_METHOD = PairMethod.KDTREE_SPARSE


@dataclass(frozen=True, eq=False)
class Catchment:
    """A sparse row → column relation "within the radius", in CSR form.

    Row ``i``'s columns are ``indices[indptr[i]:indptr[i + 1]]`` (ascending), with DfE distances
    ``tenths / 10`` miles (``tenths`` holds the rounded DfE miles times ten as integers, so
    ``miles`` reproduces :func:`geo.spatial.distance.dfe_miles` exactly).
    """

    indptr: np.ndarray  # int64, n_rows + 1
    indices: np.ndarray  # int32
    tenths: np.ndarray  # uint16
    n_cols: int

    @property
    def n_rows(self) -> int:
        return len(self.indptr) - 1

    @property
    def nnz(self) -> int:
        return int(self.indptr[-1])

    @property
    def miles(self) -> np.ndarray:
        return self.tenths / 10.0

    def row_of_edges(self) -> np.ndarray:
        """The row index of every stored pair (int32, aligned with ``indices``)."""
        return np.repeat(np.arange(self.n_rows, dtype=np.int32), np.diff(self.indptr))

    def degree(self) -> np.ndarray:
        return np.diff(self.indptr)

    def edges_of(self, rows: np.ndarray) -> np.ndarray:
        """Positions (into ``indices``) of all pairs of ``rows``, row by row in the given order."""
        rows = np.asarray(rows, dtype=np.int64)
        starts = self.indptr[rows]
        counts = self.indptr[rows + 1] - starts
        total = int(counts.sum())
        if total == 0:
            return np.zeros(0, dtype=np.int64)
        offsets = np.repeat(starts - np.cumsum(counts) + counts, counts)
        return offsets + np.arange(total, dtype=np.int64)

    def transpose(self) -> Catchment:
        """The column → row relation (rows ascending within each column)."""
        rows = self.row_of_edges()
        order = np.argsort(self.indices, kind="stable")
        counts = np.bincount(self.indices, minlength=self.n_cols)
        indptr = np.zeros(self.n_cols + 1, dtype=np.int64)
        np.cumsum(counts, out=indptr[1:])
        return Catchment(
            indptr=indptr, indices=rows[order], tenths=self.tenths[order], n_cols=self.n_rows
        )

    def pairs(self) -> set[tuple[int, int]]:
        """The (row, column) pairs as a set (for tests and small comparisons)."""
        return set(zip(self.row_of_edges().tolist(), self.indices.tolist(), strict=True))


def _empty(n_rows: int, n_cols: int) -> Catchment:
    return Catchment(
        indptr=np.zeros(n_rows + 1, dtype=np.int64),
        indices=np.zeros(0, dtype=np.int32),
        tenths=np.zeros(0, dtype=np.uint16),
        n_cols=n_cols,
    )


@dataclass(frozen=True, eq=False)
class _XY:
    """Contiguous coordinate columns (gathers from 1-D arrays are several times faster)."""

    e: np.ndarray
    n: np.ndarray

    def stack(self) -> np.ndarray:
        return np.column_stack([self.e, self.n])


def _as_xy(easting_m: np.ndarray, northing_m: np.ndarray) -> _XY:
    e = np.ascontiguousarray(np.asarray(easting_m, dtype=float).ravel())
    n = np.ascontiguousarray(np.asarray(northing_m, dtype=float).ravel())
    if len(e) != len(n):
        raise ValueError(f"{len(e)} eastings but {len(n)} northings; expected one of each a point")
    if len(e) and not (np.isfinite(e).all() and np.isfinite(n).all()):
        raise ValueError(
            "point coordinates contain NaN or infinity; drop points without a location first"
        )
    return _XY(e, n)


def _confirm(
    a: np.ndarray, b: np.ndarray, a_xy: _XY, b_xy: _XY, radius_miles: float, sl: slice
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Keep candidate pairs (``a`` in the rows ``sl``) whose DfE distance is within the radius.

    Returns (a, b, tenths) sorted by a then b: one ``np.sort`` of a packed integer key, which is
    much faster than an argsort of the pairs.
    """
    miles = dfe_miles(
        np.take(a_xy.e, a), np.take(a_xy.n, a), np.take(b_xy.e, b), np.take(b_xy.n, b)
    )
    keep = within(miles, radius_miles=radius_miles)
    tenths = np.rint(miles[keep] * 10.0).astype(np.int64)
    n_b = len(b_xy.e)
    key = ((a[keep] - sl.start) * n_b + b[keep]) * 1024 + tenths  # tenths < 1024 (≤ 102 miles)
    key.sort()
    pair, tenths = np.divmod(key, 1024)
    local_a, b = np.divmod(pair, n_b)
    return (local_a + sl.start).astype(np.int32), b.astype(np.int32), tenths.astype(np.uint16)


def _assemble(
    parts: list[tuple[np.ndarray, np.ndarray, np.ndarray]], n_rows: int, n_cols: int
) -> Catchment:
    """Concatenate row-ordered, sorted chunks into CSR."""
    if not parts:
        return _empty(n_rows, n_cols)
    a = np.concatenate([p[0] for p in parts])
    b = np.concatenate([p[1] for p in parts])
    t = np.concatenate([p[2] for p in parts])
    counts = np.bincount(a, minlength=n_rows)
    indptr = np.zeros(n_rows + 1, dtype=np.int64)
    np.cumsum(counts, out=indptr[1:])
    return Catchment(indptr=indptr, indices=b, tenths=t, n_cols=n_cols)


def _row_chunks(a_xy: _XY, b_xy: _XY, search_m: float) -> Iterator[slice]:
    """Slices of ``a`` holding about ``_CHUNK_PAIRS`` expected candidate pairs each."""
    n_a, n_b = len(a_xy.e), len(b_xy.e)
    width = float(np.ptp(b_xy.e)) + 2 * search_m
    height = float(np.ptp(b_xy.n)) + 2 * search_m
    share = min(1.0, np.pi * search_m**2 / max(width * height, 1.0))
    per_row = max(1.0, 4.0 * n_b * share)  # points cluster (towns): allow 4x the even spread
    step = int(min(65_536, max(256, _CHUNK_PAIRS // per_row)))
    for start in range(0, n_a, step):
        yield slice(start, min(n_a, start + step))


def pairs_within(
    a_easting_m: np.ndarray,
    a_northing_m: np.ndarray,
    b_easting_m: np.ndarray,
    b_northing_m: np.ndarray,
    *,
    radius_miles: float = 20.0,
    method: PairMethod | str = DEFAULT_METHOD,
    progress: Progress | None = None,
) -> Catchment:
    """Every pair (a point, b point) whose DfE distance rounds to ≤ ``radius_miles``.

    Points are EPSG:27700 metres; the result's rows are ``a`` points and columns ``b`` points.
    All ``method`` values give identical pairs. Raises ``ValueError`` for NaN coordinates (drop
    points without a location before calling), mismatched lengths or an unknown method.
    ``progress`` hears "listing pairs within R miles" once per chunk of ``a`` rows.

    Chunks of rows are searched and confirmed on up to :func:`search_threads` threads (the
    k-d tree and numpy release the GIL), in order: the result does not depend on the number.
    """
    a_xy = _as_xy(a_easting_m, a_northing_m)
    b_xy = _as_xy(b_easting_m, b_northing_m)
    method = PairMethod(method)
    n_a, n_b = len(a_xy.e), len(b_xy.e)
    if n_a == 0 or n_b == 0:
        return _empty(n_a, n_b)
    search_m = max_metres_within(radius_miles) + _SLACK_M
    candidates = _CANDIDATES[method](a_xy, b_xy, search_m)
    stage = f"listing pairs within {radius_miles:g} miles"
    report(progress, stage, 0, n_a, "points")
    slices = list(_row_chunks(a_xy, b_xy, search_m))

    def confirmed(sl: slice) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        a, b = candidates(sl)
        return _confirm(a, b, a_xy, b_xy, radius_miles, sl)

    threads = search_threads() if method in _THREAD_SAFE and len(slices) > 1 else 1
    parts = []
    if threads > 1:
        with ThreadPoolExecutor(threads, thread_name_prefix="pairs") as pool:
            for sl, part in zip(slices, pool.map(confirmed, slices), strict=True):
                parts.append(part)
                report(progress, stage, sl.stop, n_a, "points")
    else:
        for sl in slices:
            parts.append(confirmed(sl))
            report(progress, stage, sl.stop, n_a, "points")
    return _assemble(parts, n_a, n_b)


def search_threads() -> int:
    """Threads for a bulk pair search: the CPUs this process may use, at most 4."""
    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        usable = os.cpu_count() or 1
    return max(1, min(4, usable))


# From the points, a function from a slice of ``a`` rows to its candidate pairs (a, b).
_Candidates = Callable[[slice], tuple[np.ndarray, np.ndarray]]


def _kdtree(a_xy: _XY, b_xy: _XY, search_m: float) -> _Candidates:
    from scipy.spatial import cKDTree

    tree = cKDTree(b_xy.stack())
    a_all = a_xy.stack()

    def chunk(sl: slice) -> tuple[np.ndarray, np.ndarray]:
        lists = tree.query_ball_point(a_all[sl], search_m)
        counts = np.fromiter((len(x) for x in lists), dtype=np.int64, count=len(lists))
        b = np.fromiter(
            itertools.chain.from_iterable(lists), dtype=np.int64, count=int(counts.sum())
        )
        return np.repeat(np.arange(sl.start, sl.stop, dtype=np.int64), counts), b

    return chunk


def _kdtree_sparse(a_xy: _XY, b_xy: _XY, search_m: float) -> _Candidates:
    from scipy.spatial import cKDTree

    tree = cKDTree(b_xy.stack())
    a_all = a_xy.stack()

    def chunk(sl: slice) -> tuple[np.ndarray, np.ndarray]:
        found = cKDTree(a_all[sl]).sparse_distance_matrix(tree, search_m, output_type="ndarray")
        return found["i"].astype(np.int64) + sl.start, found["j"].astype(np.int64)

    return chunk


def _strtree(a_xy: _XY, b_xy: _XY, search_m: float) -> _Candidates:
    import shapely

    tree = shapely.STRtree(shapely.points(b_xy.e, b_xy.n))

    def chunk(sl: slice) -> tuple[np.ndarray, np.ndarray]:
        found = tree.query(
            shapely.points(a_xy.e[sl], a_xy.n[sl]), predicate="dwithin", distance=search_m
        )
        return found[0].astype(np.int64) + sl.start, found[1].astype(np.int64)

    return chunk


def _rtree(a_xy: _XY, b_xy: _XY, search_m: float) -> _Candidates:
    idx = PointIndex(b_xy.e, b_xy.n)
    a_all = a_xy.stack()

    def chunk(sl: slice) -> tuple[np.ndarray, np.ndarray]:
        ids, counts = idx.rtree.intersection_v(a_all[sl] - search_m, a_all[sl] + search_m)
        a = np.repeat(np.arange(sl.start, sl.stop, dtype=np.int64), counts.astype(np.int64))
        return a, ids.astype(np.int64)

    return chunk


_CANDIDATES = {
    PairMethod.KDTREE: _kdtree,
    PairMethod.KDTREE_SPARSE: _kdtree_sparse,
    PairMethod.STRTREE: _strtree,
    PairMethod.RTREE: _rtree,
}
# read-only queries safe from several threads (libspatialindex's R-tree is searched alone)
_THREAD_SAFE = {PairMethod.KDTREE, PairMethod.KDTREE_SPARSE, PairMethod.STRTREE}


class PointIndex:
    """A dynamic R-tree (``rtree``/libspatialindex) of points keyed by non-negative integers.

    Supports insert and delete, so a what-if edit (a hypothetical carer added, moved or removed)
    never rebuilds the index. Coordinates are EPSG:27700 metres; radius queries are confirmed with
    the DfE distance.
    """

    def __init__(self, easting_m: np.ndarray, northing_m: np.ndarray) -> None:
        """Bulk-load points ``0 .. n-1`` (NaN coordinates raise ``ValueError``)."""
        pts = _as_xy(easting_m, northing_m)
        xy = pts.stack()
        self._xy = np.full((max(16, 2 * len(xy)), 2), np.nan)
        self._xy[: len(xy)] = xy
        self._live = np.zeros(len(self._xy), dtype=bool)
        self._live[: len(xy)] = True
        props = rtree_index.Property()
        props.leaf_capacity = 64
        props.fill_factor = 0.9
        if len(xy):
            stream = ((i, (x, y, x, y), None) for i, (x, y) in enumerate(xy.tolist()))
            self.rtree = rtree_index.Index(stream, properties=props)
        else:
            self.rtree = rtree_index.Index(properties=props)

    def __len__(self) -> int:
        return int(self._live.sum())

    def __contains__(self, key: int) -> bool:
        return 0 <= key < len(self._live) and bool(self._live[key])

    def position(self, key: int) -> tuple[float, float]:
        """(easting_m, northing_m) of ``key``; ``KeyError`` when absent."""
        if key not in self:
            raise KeyError(key)
        return float(self._xy[key, 0]), float(self._xy[key, 1])

    def insert(self, key: int, *, easting_m: float, northing_m: float) -> None:
        """Add point ``key`` (``ValueError`` if the key is taken or the location is not finite)."""
        if key < 0:
            raise ValueError(f"index keys are non-negative integers, got {key}")
        if key in self:
            raise ValueError(f"key {key} is already in the index; delete it first")
        if not (np.isfinite(easting_m) and np.isfinite(northing_m)):
            raise ValueError(f"point {key} has no finite location ({easting_m}, {northing_m})")
        if key >= len(self._xy):
            grow = max(key + 1, 2 * len(self._xy)) - len(self._xy)
            self._xy = np.vstack([self._xy, np.full((grow, 2), np.nan)])
            self._live = np.concatenate([self._live, np.zeros(grow, dtype=bool)])
        self._xy[key] = (easting_m, northing_m)
        self._live[key] = True
        self.rtree.insert(key, (easting_m, northing_m, easting_m, northing_m))

    def delete(self, key: int) -> None:
        """Remove point ``key`` (``KeyError`` when absent)."""
        x, y = self.position(key)
        self.rtree.delete(key, (x, y, x, y))
        self._live[key] = False
        self._xy[key] = np.nan

    def within(
        self, *, easting_m: float, northing_m: float, radius_miles: float = 20.0
    ) -> tuple[np.ndarray, np.ndarray]:
        """Keys within ``radius_miles`` (DfE) of one point, ascending, with their DfE tenths."""
        r = max_metres_within(radius_miles) + _SLACK_M
        keys = np.fromiter(
            self.rtree.intersection((easting_m - r, northing_m - r, easting_m + r, northing_m + r)),
            dtype=np.int64,
        )
        keys.sort()
        miles = dfe_miles(
            np.asarray(easting_m), np.asarray(northing_m), self._xy[keys, 0], self._xy[keys, 1]
        )
        keep = within(miles, radius_miles=radius_miles)
        return keys[keep], np.rint(miles[keep] * 10.0).astype(np.uint16)


def count_within(
    a_easting_m: np.ndarray,
    a_northing_m: np.ndarray,
    b_easting_m: np.ndarray,
    b_northing_m: np.ndarray,
    *,
    radius_miles: float = 20.0,
) -> np.ndarray:
    """How many ``b`` points lie within ``radius_miles`` DfE miles of each ``a`` point.

    Exactly the counts of :func:`pairs_within` (the DfE rounded distance) without listing the
    pairs: two k-d tree counting queries bracket the rounding boundary 1 mm either side, and only
    the rows with a point inside that 2 mm band get the exact DfE check. Raises ``ValueError``
    for NaN coordinates, as :func:`pairs_within` does.
    """
    from scipy.spatial import cKDTree

    a = _as_xy(a_easting_m, a_northing_m).stack()
    b = _as_xy(b_easting_m, b_northing_m).stack()
    if len(a) == 0 or len(b) == 0:
        return np.zeros(len(a), dtype=np.int64)
    tree = cKDTree(b)
    edge = max_metres_within(radius_miles)
    inner = np.asarray(tree.query_ball_point(a, edge - 1e-3, return_length=True), np.int64)
    outer = np.asarray(tree.query_ball_point(a, edge + 1e-3, return_length=True), np.int64)
    counts = inner.copy()
    for i in np.flatnonzero(outer != inner):
        near = np.asarray(tree.query_ball_point(a[i], edge + 1e-3), dtype=np.int64)
        miles = dfe_miles(a[i, 0], a[i, 1], b[near, 0], b[near, 1])
        counts[i] = int(within(miles, radius_miles=radius_miles).sum())
    return counts
