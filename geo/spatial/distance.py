"""The DfE SSDA903 placement distance: straight line between ONSPD grid references, in miles.

``miles = round(sqrt(dE**2 + dN**2) / 1000 / 1.6093, 1)`` with ``dE``/``dN`` the differences of
``oseast1m``/``osnrth1m`` (EPSG:27700 metres). "Within 20 miles" compares the *rounded* value, so
20.04 miles counts and 20.05 does not. Haversine on lat/lon is ~0.3 % short: not used.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

import numpy as np
import pandas as pd

from geo.progress import Progress
from geo.spatial import postcodes as pc

KM_PER_MILE = 1.6093  # the DfE constant, not the exact 1.609344
METRES_PER_MILE = 1000 * KM_PER_MILE


class DistanceStatus(StrEnum):
    """Why a distance is or is not known (``placements.csv`` ``distance_status``)."""

    OK = "ok"
    MISSING_POSTCODE = "missing_postcode"
    INVALID_POSTCODE = "invalid_postcode"
    UNKNOWN_POSTCODE = "unknown_postcode"
    HOME_OUTSIDE_ENGLAND = "home_outside_england"


def dfe_miles_from_metres(distance_m: np.ndarray | float) -> np.ndarray:
    """Round a straight-line distance in metres to DfE miles (one decimal, half to even).

    NaN stays NaN. numpy's rounding of ``x / 1609.3`` is exactly what the DfE-aligned validator
    (pandas) does; the 200 fixture pairs in ``../shared/fixtures`` pin it.
    """
    return np.round(np.asarray(distance_m, dtype=float) / METRES_PER_MILE, 1)


def dfe_miles(
    easting1_m: np.ndarray, northing1_m: np.ndarray, easting2_m: np.ndarray, northing2_m: np.ndarray
) -> np.ndarray:
    """DfE miles between two sets of EPSG:27700 points (arrays broadcast; NaN in, NaN out)."""
    d_e = np.asarray(easting1_m, dtype=float) - np.asarray(easting2_m, dtype=float)
    d_n = np.asarray(northing1_m, dtype=float) - np.asarray(northing2_m, dtype=float)
    return dfe_miles_from_metres(np.sqrt(d_e * d_e + d_n * d_n))


def within(miles: np.ndarray, *, radius_miles: float) -> np.ndarray:
    """True where the rounded DfE distance is ≤ ``radius_miles``; False where unknown (NaN)."""
    m = np.asarray(miles, dtype=float)
    with np.errstate(invalid="ignore"):
        # Rounded values are exact multiples of 0.1 in float; a half-ulp tolerance guards 20.0.
        return np.isfinite(m) & (m <= radius_miles + 1e-9)


def max_metres_within(radius_miles: float) -> float:
    """The largest straight-line distance (metres) whose DfE rounding is ≤ ``radius_miles``.

    A rounded distance ≤ r means raw miles < r + 0.05; use this as a safe search radius for
    spatial indexes and confirm candidates with :func:`dfe_miles`.
    """
    return (radius_miles + 0.05) * METRES_PER_MILE


@dataclass(frozen=True)
class PairDistances:
    """DfE distances for home → placement pairs, aligned with the input order."""

    miles: np.ndarray
    status: pd.Series
    home: pc.PostcodeFrame
    placement: pc.PostcodeFrame

    @property
    def within_10(self) -> np.ndarray:
        return within(self.miles, radius_miles=10.0)

    @property
    def within_20(self) -> np.ndarray:
        return within(self.miles, radius_miles=20.0)


def pair_distances(
    home_postcodes: pd.Series,
    placement_postcodes: pd.Series,
    *,
    progress: Progress | None = None,
) -> PairDistances:
    """DfE distance for each home → placement postcode pair (any spelling), vectorised.

    The distance is *not known* (NaN, with a status) when either postcode is blank, malformed or
    not in ONSPD with a grid reference, or when the home postcode is outside England (DfE reports
    999.9 there). Home problems take precedence over placement problems in the status.
    """
    # One lookup for both columns: one normalisation pass and one index probe.
    n = len(home_postcodes)
    both = pc.lookup(
        pd.concat([home_postcodes, placement_postcodes], ignore_index=True).astype("string"),
        progress=progress,
    )
    home, placement = both.split(n)
    miles = dfe_miles(home.easting_m, home.northing_m, placement.easting_m, placement.northing_m)
    status = placement.status.copy()
    home_bad = home.status != pc.PostcodeStatus.OK.value
    status[home_bad] = home.status[home_bad]
    outside = (~home_bad) & ~pc.in_england(home.district_code).to_numpy()
    status[outside] = DistanceStatus.HOME_OUTSIDE_ENGLAND.value
    miles = np.where(status.to_numpy() == DistanceStatus.OK.value, miles, np.nan)
    return PairDistances(miles=miles, status=status, home=home, placement=placement)
