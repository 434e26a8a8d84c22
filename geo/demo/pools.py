"""Postcodes to draw placements from, and points on the right side of 20 DfE miles from home.

Distances are the DfE's (:func:`geo.spatial.distance.dfe_miles_from_metres`), so "within 20 miles" in
the generated files means what the census will measure.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np
import pandas as pd
from scipy.spatial import cKDTree

from geo.spatial.distance import METRES_PER_MILE, dfe_miles_from_metres

NEAR_MEAN_MILES = 7.0  # typical distance of a placement within 20 miles (exponential mean)
FAR_MEAN_EXTRA_MILES = 12.0  # typical distance beyond 20.5 miles of a far placement


@dataclass(frozen=True)
class Pool:
    """Postcodes to draw from: compact codes, EPSG:27700 metres and district codes (stored as
    integer codes into ``names``: string operations on millions of rows are slow)."""

    compact: np.ndarray
    e: np.ndarray
    n: np.ndarray
    dcode: np.ndarray
    names: np.ndarray

    def __len__(self) -> int:
        return len(self.e)

    @property
    def district(self) -> np.ndarray:
        return self.names[self.dcode]

    def take(self, which: np.ndarray) -> Pool:
        return Pool(
            self.compact[which], self.e[which], self.n[which], self.dcode[which], self.names
        )

    def concat(self, parts: list[Pool]) -> Pool:
        """Several takes of this pool, one after the other."""
        return Pool(
            np.concatenate([p.compact for p in parts]),
            np.concatenate([p.e for p in parts]),
            np.concatenate([p.n for p in parts]),
            np.concatenate([p.dcode for p in parts]),
            self.names,
        )

    def in_codes(self, codes: list[str]) -> np.ndarray:
        """Rows whose district matches any of ``codes`` (a GSS code, or a prefix like ``E09``)."""
        full = {c for c in codes if len(c) == 9}
        prefixes = tuple(c for c in codes if len(c) < 9)
        hit = np.array([x in full or x.startswith(prefixes) for x in self.names], dtype=bool)
        return hit[self.dcode]

    @cached_property
    def tree(self) -> cKDTree:
        return cKDTree(np.column_stack([self.e, self.n]))

    @classmethod
    def from_table(cls, table: pd.DataFrame) -> Pool:
        e = table["easting_m"].to_numpy(float)
        n = table["northing_m"].to_numpy(float)
        codes, names = pd.factorize(table["district_code"].to_numpy(dtype=object))
        names = np.asarray(names, dtype=object)
        english = np.array([isinstance(x, str) and x.startswith("E") for x in names], dtype=bool)
        ok = np.isfinite(e) & np.isfinite(n) & (codes >= 0) & english[np.maximum(codes, 0)]
        compact = table.index.to_numpy(dtype=object)
        return cls(compact[ok], e[ok], n[ok], codes[ok].astype(np.int32), names)


def spaced(compact: np.ndarray) -> np.ndarray:
    """'ME141XQ' -> 'ME14 1XQ' ('' stays '')."""
    return np.array([f"{c[:-3]} {c[-3:]}" if c else "" for c in compact], dtype=object)


def dfe_miles(e1: np.ndarray, n1: np.ndarray, e2: np.ndarray, n2: np.ndarray) -> np.ndarray:
    """DfE miles between points given in EPSG:27700 metres (arrays broadcast)."""
    return dfe_miles_from_metres(np.hypot(e1 - e2, n1 - n2))


@dataclass
class Where:
    """Placement postcodes (compact) and coordinates, filled in by masks."""

    compact: np.ndarray
    e: np.ndarray
    n: np.ndarray

    @classmethod
    def empty(cls, k: int) -> Where:
        return cls(np.full(k, "", dtype=object), np.full(k, np.nan), np.full(k, np.nan))

    @classmethod
    def of(cls, source: Any, idx: np.ndarray) -> Where:
        return cls(source.compact[idx], source.e[idx], source.n[idx])

    def put(self, mask: np.ndarray, other: Where) -> None:
        self.compact[mask] = other.compact
        self.e[mask] = other.e
        self.n[mask] = other.n

    def copy_rows(self, mask: np.ndarray, src: np.ndarray) -> None:
        self.compact[mask] = self.compact[src]
        self.e[mask] = self.e[src]
        self.n[mask] = self.n[src]


def snap(
    rng: np.random.Generator,
    he: np.ndarray,
    hn: np.ndarray,
    pool: Pool,
    scale_miles: np.ndarray,
    *,
    within: bool,
    offset_miles: float = 0.0,
) -> np.ndarray:
    """Pool postcodes nearest a point at a random bearing and distance (``offset_miles`` + an
    exponential of mean ``scale_miles``) from each home, retried until the DfE distance is on
    the wanted side of 20 miles. Near: falls back to the postcode nearest home; far: -1."""
    k = len(he)
    out = np.full(k, -1)
    todo = np.arange(k)
    for _ in range(12):
        if not len(todo):
            break
        d_miles = offset_miles + rng.exponential(scale_miles[todo])
        if within:
            d_miles = np.minimum(d_miles, 19.0)
        theta = rng.uniform(0, 2 * np.pi, len(todo))
        te = he[todo] + d_miles * METRES_PER_MILE * np.cos(theta)
        tn = hn[todo] + d_miles * METRES_PER_MILE * np.sin(theta)
        _, idx = pool.tree.query(np.column_stack([te, tn]))
        miles = dfe_miles(he[todo], hn[todo], pool.e[idx], pool.n[idx])
        ok = (miles <= 20.0) if within else (miles > 20.0)
        out[todo[ok]] = idx[ok]
        todo = todo[~ok]
    if len(todo) and within:
        _, idx = pool.tree.query(np.column_stack([he[todo], hn[todo]]))
        out[todo] = idx
    return out


class Targets:
    """For each home, the carers nearest a target point ``dist_miles`` away at a random
    bearing: their indices, DfE miles from home and miles from the target."""

    def __init__(
        self,
        rng: np.random.Generator,
        he: np.ndarray,
        hn: np.ndarray,
        tree: cKDTree,
        ce: np.ndarray,
        cn: np.ndarray,
        dist_miles: np.ndarray,
        k: int = 24,
    ) -> None:
        theta = rng.uniform(0, 2 * np.pi, len(he))
        te = he + dist_miles * METRES_PER_MILE * np.cos(theta)
        tn = hn + dist_miles * METRES_PER_MILE * np.sin(theta)
        kk = min(k, len(ce))
        d, idx = tree.query(np.column_stack([te, tn]), k=kk)
        self.idx = idx.reshape(len(he), -1)
        self.miles_target = d.reshape(len(he), -1) / METRES_PER_MILE
        self.miles_home = dfe_miles(he[:, None], hn[:, None], ce[self.idx], cn[self.idx])
