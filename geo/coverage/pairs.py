"""Only the suitable pairs: children × carers within the radius that can take them.

Listing every pair within 20 miles and then dropping the unsuitable ones (England: 208 M pairs
for 79 M suitable) spends most of its time and memory on pairs thrown away. Children here are
grouped by their needs (a handful of distinct bit masks: age band and needs); each group is
searched only against the carers approved for it (:func:`geo.coverage.inputs.suits`) that offer
places, with the same bulk search (:func:`geo.spatial.catchments.pairs_within`), each point once
(children of a group at the same postcode share their pairs), and the rows are put back in the
children's order. The result is exactly the pairs the filter gave,
columns ascending within each row, int32 carer indices in CSR.
"""

from __future__ import annotations

import numpy as np

from geo.coverage.inputs import suits
from geo.progress import Progress, report
from geo.spatial.catchments import DEFAULT_METHOD, Catchment, PairMethod, pairs_within


def suitable_pairs(
    child_easting_m: np.ndarray,
    child_northing_m: np.ndarray,
    needs: np.ndarray,
    carer_easting_m: np.ndarray,
    carer_northing_m: np.ndarray,
    categories: np.ndarray,
    places: np.ndarray,
    *,
    radius_miles: float,
    method: PairMethod | str = DEFAULT_METHOD,
    progress: Progress | None = None,
) -> Catchment:
    """Children (rows) × carers (columns) within ``radius_miles`` DfE miles where the carer
    suits the child and has ``places`` > 0; DfE distances in tenths of a mile."""
    n_c, n_k = len(child_easting_m), len(carer_easting_m)
    needs = np.asarray(needs, dtype=np.int64)
    cats = np.asarray(categories, dtype=np.int64)
    offers = np.asarray(places) > 0
    kinds, kind_of = np.unique(needs, return_inverse=True)
    groups: list[tuple[np.ndarray, np.ndarray, np.ndarray, Catchment]] = []
    degree = np.zeros(n_c, dtype=np.int64)
    stage = f"listing pairs within {radius_miles:g} miles"
    report(progress, stage, 0, n_c, "points")
    listed = 0
    for i, kind in enumerate(kinds.tolist()):
        rows = np.flatnonzero(kind_of == i)
        cols = np.flatnonzero(offers & suits(kind, cats)).astype(np.int32)
        # Children of the group at the same point have the same pairs: each point once.
        points, home = np.unique(
            np.column_stack([child_easting_m[rows], child_northing_m[rows]]),
            axis=0,
            return_inverse=True,
        )
        home = home.ravel()
        part = pairs_within(
            points[:, 0],
            points[:, 1],
            carer_easting_m[cols],
            carer_northing_m[cols],
            radius_miles=radius_miles,
            method=method,
        )
        degree[rows] = np.diff(part.indptr)[home]
        groups.append((rows, home, cols, part))
        listed += len(rows)
        report(progress, stage, listed, n_c, "points")
    indptr = np.zeros(n_c + 1, dtype=np.int64)
    np.cumsum(degree, out=indptr[1:])
    indices = np.empty(int(indptr[-1]), dtype=np.int32)
    tenths = np.empty(int(indptr[-1]), dtype=np.uint16)

    # Each child's row is its point's row (carer columns mapped back to all carers): one
    # slice copy per child, which beats index arithmetic over every pair (all memory traffic).
    while groups:  # each group's pairs dropped once written
        rows, home, cols, part = groups.pop()
        if not part.nnz:
            continue
        mapped = cols[part.indices]  # ascending within a row: cols is sorted
        starts = part.indptr[:-1][home].tolist()
        stops = part.indptr[1:][home].tolist()
        for at, p0, p1 in zip(indptr[rows].tolist(), starts, stops, strict=True):
            if p1 > p0:
                indices[at : at + p1 - p0] = mapped[p0:p1]
                tenths[at : at + p1 - p0] = part.tenths[p0:p1]
        del mapped, part
    return Catchment(indptr=indptr, indices=indices, tenths=tenths, n_cols=n_k)
