"""Case 1: DfE distances for home → placement postcode pairs, postcode lookup included.

Project: :func:`geo.spatial.distance.pair_distances` (normalise, look up and measure both columns).
Baseline: the straightforward pandas way: compact the postcodes, ``merge`` each column with the
ONSPD table, then the DfE formula ``round(sqrt(dE² + dN²) / 1000 / 1.6093, 1)``; a home outside
England gives no distance. Both have the ONSPD rows of the initial letters in use in memory
before timing (the project's letter tables are warmed up, the baseline's frame is built).
Both must give identical miles, NaN where not known.
"""

from __future__ import annotations

from functools import partial

import numpy as np
import pandas as pd

from benchmarks.inputs import Scale, postcode_pairs
from benchmarks.timing import CaseResult, Row, alternate, median
from geo.spatial import postcodes as pc
from geo.spatial.distance import pair_distances


def reference_frame(*columns: pd.Series) -> pd.DataFrame:
    """ONSPD as a plain frame: ``pcd`` (compact postcode), ``easting``, ``northing``, ``laua``;
    the rows of every initial letter that occurs in ``columns`` (all of them, nationally)."""
    letters = set()
    for col in columns:
        letters |= set(col.str.strip().str[:1].str.upper().dropna())
    t = pc.reference_table(letters)
    return pd.DataFrame(
        {
            "pcd": t.index.to_numpy(dtype=object),
            "easting": t["easting_m"].to_numpy(),
            "northing": t["northing_m"].to_numpy(),
            "laua": t["district_code"].to_numpy(dtype=object),
        }
    )


def baseline_miles(home: pd.Series, placement: pd.Series, ref: pd.DataFrame) -> np.ndarray:
    """DfE miles the straightforward way: one ``merge`` per postcode column."""
    df = pd.DataFrame(
        {
            "home": home.str.upper().str.replace(" ", "", regex=False),
            "placement": placement.str.upper().str.replace(" ", "", regex=False),
        }
    )
    df = df.merge(
        ref.rename(columns={"pcd": "home", "easting": "he", "northing": "hn", "laua": "hd"}),
        on="home",
        how="left",
    )
    df = df.merge(
        ref[["pcd", "easting", "northing"]].rename(
            columns={"pcd": "placement", "easting": "pe", "northing": "pn"}
        ),
        on="placement",
        how="left",
    )
    miles = (
        np.sqrt((df["he"] - df["pe"]) ** 2 + (df["hn"] - df["pn"]) ** 2) / 1000 / 1.6093
    ).round(1)
    english = df["hd"].str.startswith("E").fillna(False).astype(bool)
    return miles.where(english).to_numpy(dtype=float)


def project_miles(home: pd.Series, placement: pd.Series) -> np.ndarray:
    return pair_distances(home, placement).miles


def run(source: Scale, *, sizes: tuple[int, ...], runs: tuple[int, ...]) -> CaseResult:
    res = CaseResult("1", "DfE distances for home → placement postcode pairs (lookup included)")
    for n, k in zip(sizes, runs, strict=True):
        home, placement = postcode_pairs(source.demo, n=n, seed=n)
        ref = reference_frame(home, placement)
        pair_distances(home, placement)  # warm up (every letter file of this sample)
        p, b, ours, theirs = alternate(
            partial(project_miles, home, placement),
            partial(baseline_miles, home, placement, ref),
            runs=k,
            baseline_runs=k,
        )
        same = np.array_equal(ours, theirs, equal_nan=True)
        differ = int((~((ours == theirs) | (np.isnan(ours) & np.isnan(theirs)))).sum())
        res.check(
            f"{n:,} pairs: identical miles to the merge baseline",
            same,
            f"{differ} of {n:,} differ; {int(np.isnan(ours).sum())} not known",
        )
        res.rows.append(
            Row(
                case="1",
                name="distances",
                size=f"{n:,} pairs ({source.label} episodes)",
                project_s=median(p),
                project_runs=p,
                baseline="pandas merge per column",
                baseline_s=median(b),
                baseline_runs=b,
                note="identical miles" if same else f"{differ} pairs differ",
                extra={"pairs_per_s": n / median(p)},
            )
        )
    return res
