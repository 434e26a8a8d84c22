"""Coverage inputs: the children needing a place (demand) and the carers offering places
(supply), as located arrays, and the suitability rule between them (DESIGN.md §5).

* **Demand**: children of the headline cohort at their originating (home) postcode
  (:func:`demand_from_analysis`), or any points (:meth:`Demand.from_arrays`).
* **Supply**: approved fostering households with their approved and vacant places
  (:func:`supply_from_register`, :meth:`Supply.from_arrays`).
* A carer **suits** a child when it is approved for the child's age band (0-4, 5-10, 11-15, 16+;
  any band when the age is not known) and for every need the child has (disability, siblings,
  parent and child): :func:`suits`.

Locations are EPSG:27700 metres; a point without one is an error here (``ValueError``): the
callers leave such children and carers out and count them.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from geo.measures import area_of
from geo.spatial import postcode_sector
from geo.ssda903 import (
    AGE_BAND_LABELS,
    ALL_AGES_MASK,
    CATEGORY_BIT,
    NEED_MASK,
    CarersRegister,
    Category,
    Cohort,
    age_band_index,
)

if TYPE_CHECKING:
    from geo.measures import Analysis

# Category bit of each age band, in the order of AGE_BAND_LABELS (the carers register spells
# the bands the same way).
_AGE_BAND_BIT = np.array([CATEGORY_BIT[Category(label)] for label in AGE_BAND_LABELS], np.int64)


def age_band_bits(age_years: np.ndarray) -> np.ndarray:
    """Category bit of each age (whole years; bands of :func:`geo.ssda903.age_band_index`:
    0-4, 5-10, 11-15, 16+); 0 when the age is not known (NaN) or negative."""
    band = age_band_index(np.asarray(age_years, dtype=float))
    return np.where(band >= 0, _AGE_BAND_BIT[np.maximum(band, 0)], 0).astype(np.int64)


def suits(needs: np.ndarray | int, categories: np.ndarray | int) -> np.ndarray:
    """True where a carer with ``categories`` (bit mask) is approved for a child with ``needs``
    (bit mask: age band bit, or none when unknown, plus need bits). Arrays broadcast."""
    needs = np.asarray(needs, dtype=np.int64)
    cats = np.asarray(categories, dtype=np.int64)
    age = needs & ALL_AGES_MASK
    age_ok = (age == 0) | ((age & cats) != 0)
    return age_ok & ((needs & NEED_MASK & ~cats) == 0)


def _strings(values: Iterable[Any] | None, n: int, default: str) -> np.ndarray:
    if values is None:
        return np.full(n, default, dtype=object)
    out = np.array(
        [v if isinstance(v, str) and v else default for v in pd.Series(list(values), dtype=object)],
        dtype=object,
    )
    if len(out) != n:
        raise ValueError(f"expected {n} values, got {len(out)}")
    return out


def _floats(values: Iterable[Any], n: int, name: str) -> np.ndarray:
    out = np.asarray(pd.to_numeric(pd.Series(list(values)), errors="coerce"), dtype=float)
    if len(out) != n:
        raise ValueError(f"{name}: expected {n} values, got {len(out)}")
    return out


def _flags(values: Iterable[Any] | None, n: int, name: str) -> np.ndarray:
    if values is None:
        return np.zeros(n, dtype=bool)
    out = pd.Series(list(values)).astype("boolean").fillna(False).to_numpy(dtype=bool)
    if len(out) != n:
        raise ValueError(f"{name}: expected {n} values, got {len(out)}")
    return out


def _points(
    easting_m: Iterable[float], northing_m: Iterable[float], what: str
) -> tuple[np.ndarray, np.ndarray]:
    """Easting and northing arrays of equal length with every point located."""
    e = np.asarray(list(easting_m), dtype=float)
    n = np.asarray(list(northing_m), dtype=float)
    if len(n) != len(e):
        raise ValueError(f"{len(e)} eastings but {len(n)} northings")
    _located(e, n, what)
    return e, n


def _located(e: np.ndarray, n: np.ndarray, what: str) -> None:
    bad = ~(np.isfinite(e) & np.isfinite(n))
    if bad.any():
        raise ValueError(
            f"{int(bad.sum())} {what} have no location (NaN easting/northing); leave them out "
            "and count them separately"
        )


@dataclass(frozen=True, eq=False)
class Demand:
    """Children needing a place, at their home location (EPSG:27700 metres).

    ``needs`` is a category bit mask (age band bit, 0 for an unknown age, plus disability /
    siblings / parent-and-child bits). ``district_code``/``sector`` are '' when not known.
    """

    easting_m: np.ndarray
    northing_m: np.ndarray
    needs: np.ndarray
    age_years: np.ndarray
    disabled: np.ndarray
    siblings: np.ndarray
    district_code: np.ndarray
    sector: np.ndarray

    def __len__(self) -> int:
        return len(self.easting_m)

    @classmethod
    def from_arrays(
        cls,
        *,
        easting_m: Iterable[float],
        northing_m: Iterable[float],
        age_years: Iterable[Any] | None = None,
        disabled: Iterable[Any] | None = None,
        siblings: Iterable[Any] | None = None,
        parent_and_child: Iterable[Any] | None = None,
        district_code: Iterable[Any] | None = None,
        sector: Iterable[Any] | None = None,
    ) -> Demand:
        """Build demand from point arrays. Unknown ages (None/NaN) match any age band.

        Raises ``ValueError`` for a missing location or arrays of different lengths.
        """
        e, n_ = _points(easting_m, northing_m, "children")
        n = len(e)
        age = np.full(n, np.nan) if age_years is None else _floats(age_years, n, "age_years")
        dis = _flags(disabled, n, "disabled")
        sib = _flags(siblings, n, "siblings")
        pac = _flags(parent_and_child, n, "parent_and_child")
        needs = (
            age_band_bits(age)
            | np.where(dis, CATEGORY_BIT[Category.DISABILITY], 0)
            | np.where(sib, CATEGORY_BIT[Category.SIBLINGS], 0)
            | np.where(pac, CATEGORY_BIT[Category.PARENT_AND_CHILD], 0)
        ).astype(np.int64)
        return cls(
            easting_m=e,
            northing_m=n_,
            needs=needs,
            age_years=age,
            disabled=dis,
            siblings=sib,
            district_code=_strings(district_code, n, ""),
            sector=_strings(sector, n, ""),
        )


@dataclass(frozen=True, eq=False)
class Supply:
    """Carers that supply places, at their location (EPSG:27700 metres).

    ``places``: approved places (count for the gap and 2SFCA); ``vacant``: free places now (new
    entrants); ``categories``: bit mask (:data:`geo.ssda903.carers.CATEGORY_BIT`).
    """

    carer_id: np.ndarray
    easting_m: np.ndarray
    northing_m: np.ndarray
    places: np.ndarray
    vacant: np.ndarray
    categories: np.ndarray
    district_code: np.ndarray
    sector: np.ndarray

    def __len__(self) -> int:
        return len(self.easting_m)

    @classmethod
    def from_arrays(
        cls,
        *,
        easting_m: Iterable[float],
        northing_m: Iterable[float],
        places: Iterable[int],
        categories: Iterable[int],
        vacant: Iterable[int] | None = None,
        carer_id: Iterable[Any] | None = None,
        district_code: Iterable[Any] | None = None,
        sector: Iterable[Any] | None = None,
    ) -> Supply:
        """Build supply from arrays; ``vacant`` defaults to 0. Raises ``ValueError`` for a
        missing location, negative places or arrays of different lengths."""
        e, n_ = _points(easting_m, northing_m, "carers")
        n = len(e)
        p = np.asarray(list(places), dtype=np.int64)
        v = np.zeros(n, dtype=np.int64) if vacant is None else np.asarray(list(vacant), np.int64)
        c = np.asarray(list(categories), dtype=np.int64)
        for name, arr in (("places", p), ("vacant", v), ("categories", c)):
            if len(arr) != n:
                raise ValueError(f"{name}: expected {n} values, got {len(arr)}")
            if (arr < 0).any():
                raise ValueError(f"{name} must be ≥ 0")
        ids = (
            np.array([f"K{i}" for i in range(n)], dtype=object)
            if carer_id is None
            else np.array([str(x) for x in carer_id], dtype=object)
        )
        return cls(
            carer_id=ids,
            easting_m=e,
            northing_m=n_,
            places=p,
            vacant=np.minimum(v, p),
            categories=c,
            district_code=_strings(district_code, n, ""),
            sector=_strings(sector, n, ""),
        )


@dataclass(frozen=True)
class DemandCounts:
    """How the headline cohort became the demand (children are never dropped silently)."""

    cohort: int
    located: int
    not_located: int
    age_unknown: int
    siblings: int


def _cohort_located(analysis: Analysis) -> tuple[pd.DataFrame, np.ndarray]:
    """The headline cohort's rows and which of them have a home location in England."""
    p = analysis.placements
    cohort = p[p["cohort"] == Cohort.INCLUDED.value]
    e = cohort["home_easting_m"].to_numpy(dtype=float)
    n = cohort["home_northing_m"].to_numpy(dtype=float)
    home_code = cohort["home_district_code"].astype("string")
    in_england = home_code.str.startswith("E").fillna(False).to_numpy(dtype=bool)
    return cohort, np.isfinite(e) & np.isfinite(n) & in_england


def located_cohort(analysis: Analysis) -> pd.DataFrame:
    """The rows of the analysis' placements that :func:`demand_from_analysis` turns into
    demand, in the same order (row *i* is child *i* of the demand), e.g. for their
    ``placement_kind``."""
    cohort, ok = _cohort_located(analysis)
    return cohort[ok]


def demand_from_analysis(analysis: Analysis) -> tuple[Demand, DemandCounts]:
    """Children of the headline cohort at their home postcode, from
    :func:`geo.measures.analysis.analyse`.

    Children whose home postcode is not known or outside England have no location and are
    counted in ``not_located``. Siblings are derived where the data allows: children of the
    cohort who share both the home and the placement postcode (placed together) need a carer
    approved for siblings. Parent-and-child needs are not in SSDA903 and are not derived.
    """
    cohort, ok = _cohort_located(analysis)
    e = cohort["home_easting_m"].to_numpy(dtype=float)
    n = cohort["home_northing_m"].to_numpy(dtype=float)
    c = cohort[ok]
    pair = c["HOME_POST"].astype("string") + "|" + c["PL_POST"].astype("string")
    known_pair = c["HOME_POST"].notna() & c["PL_POST"].notna()
    siblings = (known_pair & pair.duplicated(keep=False)).to_numpy(dtype=bool)
    districts = area_of(c, analysis.authority, by="home")  # the table area, as in compliance
    age = pd.to_numeric(c["age_years"], errors="coerce").to_numpy(dtype=float)
    demand = Demand.from_arrays(
        easting_m=e[ok],
        northing_m=n[ok],
        age_years=age,
        disabled=c["DISABLED"].to_numpy(dtype=bool),
        siblings=siblings,
        district_code=districts.to_numpy(dtype=object),
        sector=postcode_sector(c["HOME_POST"]).fillna("").to_numpy(dtype=object),
    )
    counts = DemandCounts(
        cohort=int(len(cohort)),
        located=int(ok.sum()),
        not_located=int((~ok).sum()),
        age_unknown=int(np.isnan(age).sum()),
        siblings=int(siblings.sum()),
    )
    return demand, counts


def supply_from_register(register: CarersRegister) -> Supply:
    """The carers of a register that supply places: approved (by the as-at date) and located."""
    c = register.carers[register.carers["supplies"]]
    return Supply.from_arrays(
        carer_id=c["CARER_ID"].astype(str),
        easting_m=c["easting_m"].to_numpy(dtype=float),
        northing_m=c["northing_m"].to_numpy(dtype=float),
        places=c["APPROVED_PLACES"].to_numpy(dtype=np.int64),
        vacant=c["vacant_places"].to_numpy(dtype=np.int64),
        categories=c["category_mask"].to_numpy(dtype=np.int64),
        district_code=c["district_code"].astype("string").fillna("").to_numpy(dtype=object),
        sector=c["sector"].astype("string").fillna("").to_numpy(dtype=object),
    )
