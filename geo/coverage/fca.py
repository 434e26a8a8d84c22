"""Two-step floating catchment (2SFCA, E2SFCA) as pure functions with a pluggable weight.

Of a catchment (children × carers within the radius, with DfE distances in tenths of a mile),
the carers' places and a weight function of distance (as pysal/access ``weight_fn``):

* **step 1**: each carer's places ÷ the children it can take, each child weighted by its
  distance (:func:`carer_ratios`);
* **step 2**: each child sums ``weight × ratio`` over the carers it can reach
  (:func:`child_terms`), so no place is counted twice.

2SFCA is :func:`uniform_weights` (every child in reach counts fully); E2SFCA is
:func:`band_weights`: 0-5 miles → 1.00, 5-10 → 0.68, 10-20 → 0.22 (Luo & Qi 2009).

The step-2 sums are kept as integers in units of :data:`FCA_UNIT` (2**-32 places): adding or
taking away one carer's terms is then exact, so what-if edits
(:class:`geo.coverage.model.CoverageModel`) equal a full recompute bit for bit. Step-1
denominators sum weights in whole percent for the same reason: a weight function should give
whole percents (1.00, 0.68, 0.22); other weights count in step 1 rounded to the nearest percent.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from geo.spatial.catchments import Catchment

WeightFn = Callable[[np.ndarray], np.ndarray]
"""Weight (0-1) of each pair, from its DfE distance in tenths of a mile (integer array)."""

# E2SFCA distance bands: (upper bound in DfE miles, weight).
E2SFCA_BANDS: tuple[tuple[float, float], ...] = ((5.0, 1.0), (10.0, 0.68), (20.0, 0.22))
# 2SFCA sums are kept as integers in units of 2**-32 places: adding or taking away one carer's
# term is then exact, so what-if edits equal a full recompute without re-summing anything.
FCA_UNIT = 2.0**32
# Rows per block (about this many pairs each): memory stays flat at national scale.
_CHUNK_PAIRS = 4_000_000


def uniform_weights(tenths: np.ndarray) -> np.ndarray:
    """2SFCA weight of each pair in the catchment: 1, whatever its distance."""
    return np.ones(len(tenths), dtype=float)


def band_weights(tenths: np.ndarray) -> np.ndarray:
    """E2SFCA weight of each DfE distance (given in tenths of a mile); 0 beyond the last band."""
    t = np.asarray(tenths, dtype=np.int64)
    w = np.zeros(len(t), dtype=float)
    lower = -1
    for upper_miles, weight in E2SFCA_BANDS:
        upper = int(round(upper_miles * 10))
        w[(t > lower) & (t <= upper)] = weight
        lower = upper
    return w


def _weights(tenths: np.ndarray, weight_fn: WeightFn) -> np.ndarray:
    """``weight_fn(tenths)``; for long arrays looked up from the weights of 0 … max tenths
    (a weight depends on the distance alone, so the values are the same, far faster)."""
    t = np.asarray(tenths)
    if len(t) < 4096 or t.dtype.kind not in "iu" or t.min() < 0:
        return weight_fn(t)
    table = np.asarray(weight_fn(np.arange(int(t.max()) + 1, dtype=np.int64)), dtype=float)
    return table[t]


def weight_percent(tenths: np.ndarray, *, weight_fn: WeightFn) -> np.ndarray:
    """Weights in whole percent (E2SFCA: 100, 68, 22, 0), so weight sums are exact integers."""
    return np.rint(_weights(tenths, weight_fn) * 100).astype(np.int64)


def carer_ratios(places: np.ndarray, weight_percent_sum: np.ndarray) -> np.ndarray:
    """Step 1: places ÷ distance-weighted children (0 where nobody is in reach).

    ``weight_percent_sum``: per carer, the sum of :func:`weight_percent` over its children (for
    2SFCA, 100 × the children it can take).
    """
    wsum = np.asarray(weight_percent_sum, dtype=float)
    return np.divide(
        np.asarray(places, dtype=float) * 100.0, wsum, out=np.zeros(len(wsum)), where=wsum > 0
    )


def child_terms(tenths: np.ndarray, ratio: np.ndarray, *, weight_fn: WeightFn) -> np.ndarray:
    """Step 2 terms (weight × the carer's step-1 ratio) of pairs, in :data:`FCA_UNIT` units, as
    whole numbers (float)."""
    return np.rint(_weights(tenths, weight_fn) * ratio * FCA_UNIT)


def sequential_sum(values: np.ndarray) -> float:
    """Left-to-right float sum (what ``np.bincount`` does), unlike ``np.sum``'s pairwise sum."""
    if not len(values):
        return 0.0
    return float(np.bincount(np.zeros(len(values), dtype=np.int64), weights=values)[0])


def row_chunks(adj: Catchment, edges: int = _CHUNK_PAIRS) -> list[tuple[int, int, int, int]]:
    """(first edge, end edge, first row, end row) of consecutive row blocks of about ``edges``
    edges (memory stays flat at national scale)."""
    step = max(1, adj.n_rows * edges // max(adj.nnz, 1))
    out = []
    for start in range(0, adj.n_rows, step):
        stop = min(adj.n_rows, start + step)
        out.append((int(adj.indptr[start]), int(adj.indptr[stop]), start, stop))
    return out


def row_sums(indptr: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Sum of ``values`` (one per edge of the rows ``indptr`` spans, which may be a slice of
    a catchment's indptr) per row, as int64; 0 for a row without edges. Whole-number terms
    below 2**53 sum exactly whatever the order."""
    ptr = np.asarray(indptr, dtype=np.int64)
    deg = np.diff(ptr)
    out = np.zeros(len(deg), dtype=np.int64)
    has = deg > 0
    if len(values) and has.any():
        out[has] = np.add.reduceat(values, ptr[:-1][has] - ptr[0]).astype(np.int64)
    return out


@dataclass(frozen=True, eq=False)
class FloatingCatchment:
    """2SFCA/E2SFCA of one catchment: ``ratio`` per carer (step 1, places per weighted child)
    and ``units`` per child (step 2, int64 in :data:`FCA_UNIT` units)."""

    ratio: np.ndarray
    units: np.ndarray

    @property
    def places_per_child(self) -> np.ndarray:
        return self.units / FCA_UNIT


def two_step_fca(
    pairs: Catchment, places: np.ndarray, *, weight_fn: WeightFn = uniform_weights
) -> FloatingCatchment:
    """Floating catchment places per child of ``pairs`` (rows: one child each; columns: carers
    with ``places`` each, ≥ 0), with ``weight_fn`` of distance: :func:`uniform_weights` for
    2SFCA (default), :func:`band_weights` for E2SFCA.

    ``places`` must have one entry per column of ``pairs`` (``IndexError`` otherwise). Worked
    through in blocks of rows, so national-scale catchments are not copied.
    """
    n_c, n_k = pairs.n_rows, pairs.n_cols
    uniform = weight_fn is uniform_weights
    if uniform:  # every pair weighs 100 %: count pairs instead of weighing each one
        wden = 100 * np.bincount(pairs.indices, minlength=n_k).astype(np.int64)
    else:
        wden = np.zeros(n_k, dtype=np.int64)
        for lo, hi, _, _ in row_chunks(pairs):
            wden += np.bincount(
                pairs.indices[lo:hi],
                weight_percent(pairs.tenths[lo:hi], weight_fn=weight_fn),
                minlength=n_k,
            ).astype(np.int64)
    ratio = carer_ratios(places, wden)
    # Uniform weights: a carer's term is the same for each of its children, so it is computed
    # once per carer (the same whole numbers child_terms gives; a test pins it). This keeps
    # national-scale builds as fast as a dedicated 2SFCA.
    carer_units = (
        child_terms(np.zeros(n_k, np.int64), ratio, weight_fn=weight_fn) if uniform else None
    )
    units = np.zeros(n_c, dtype=np.int64)
    for lo, hi, start, stop in row_chunks(pairs):
        cols = pairs.indices[lo:hi]
        terms = (
            carer_units[cols]
            if carer_units is not None
            else child_terms(pairs.tenths[lo:hi], ratio[cols], weight_fn=weight_fn)
        )
        # Integer sums below 2**53 are exact in a float accumulator, in any order.
        units[start:stop] = row_sums(pairs.indptr[start : stop + 1], terms)
    return FloatingCatchment(ratio=ratio, units=units)
