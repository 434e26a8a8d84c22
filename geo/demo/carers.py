"""Stage 1 (and the end): the fostering households of the carers register.

Households are drawn at real postcodes (Kent scale: weighted by the recipe's supply by area
group, some in-house carers over the border in Medway, IFA carers by region), with a status,
approved places, approval date and the categories they are approved for. After the children are
placed, :func:`finish_carers` counts the occupied places and :func:`carer_frame` writes the
register as the carers reader expects it (:mod:`geo.ssda903.carers`). Categories are the
register's own bit mask (:data:`geo.ssda903.CATEGORY_BIT`), so the bits the generator sets are
the bits the reader parses back.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from geo.demo.pools import Pool, spaced
from geo.demo.sampling import DAY, categorical, fmt_dates, quota
from geo.demo.synthetic import DemoGenerator
from geo.ssda903 import (
    AGE_BAND_LABELS,
    CATEGORY_BIT,
    Category,
    age_band_index,
    format_categories,
)

# Category bit of each age band, in the order of AGE_BAND_LABELS (index = age_band_index).
AGE_BAND_BITS = np.array(
    [CATEGORY_BIT[Category(label)] for label in AGE_BAND_LABELS], dtype=np.int64
)


@dataclass
class Carers:
    """The register as arrays (one entry per household)."""

    compact: np.ndarray
    e: np.ndarray
    n: np.ndarray
    in_house: np.ndarray
    status: np.ndarray
    approved: np.ndarray
    cats: np.ndarray  # bit mask over geo.ssda903.Category (CATEGORY_BIT)
    approval: np.ndarray  # datetime64[D], NaT when not approved yet
    occupied: np.ndarray = field(default_factory=lambda: np.zeros(0, int))


def make_carers(gen: DemoGenerator) -> Carers:
    """The households of the register, before any child is placed (stream ``rng_carers``)."""
    rng = gen.rng_carers
    c = gen.cfg["carers"]
    n_in, n_ifa = int(c["in_house"]), int(c["ifa"])
    if gen.scale == "kent":
        supply = c["supply_by_group"]
        w = np.array([float(supply.get(g, 1.0)) for g in gen.home_group])
        n_out = round(n_in * float(c["in_house_outside_pct"]) / 100)
        in_idx = gen.homes.take(rng.choice(len(gen.homes), n_in - n_out, p=w / w.sum()))
        border = gen.regions["medway"]
        in_out = border.take(rng.integers(0, len(border), n_out))
        parts = [in_idx, in_out]
        ifa_split = quota(c["ifa_regions_pct"], n_ifa)
        for region, k in ifa_split.items():
            if region == "kent":
                parts.append(gen.homes.take(rng.choice(len(gen.homes), k, p=w / w.sum())))
            else:
                pool = gen.regions[region]
                parts.append(pool.take(rng.integers(0, len(pool), k)))
        where = gen.homes.concat(parts)
    else:
        where = gen.homes.take(rng.integers(0, len(gen.homes), n_in + n_ifa))
    total = n_in + n_ifa
    in_house = np.arange(total) < n_in
    status = categorical(rng, gen.recipe["carer_status_pct"], total)
    places = categorical(rng, gen.recipe["carer_places_pct"], total).astype(int)
    approved = np.where(np.isin(status, ["approved", "on_hold"]), places, 0)
    # Approval ages: most households approved within ten years, some long-standing.
    years = rng.gamma(2.0, 2.5, total) + 0.2
    approval = gen.as_at - (years * 365.25).astype(int) * DAY
    approval = np.where(status == "in_assessment", np.datetime64("NaT"), approval)
    cats = _carer_categories(gen, rng, places, _category_factors(gen, where))
    return Carers(
        compact=where.compact,
        e=where.e,
        n=where.n,
        in_house=in_house,
        status=status,
        approved=approved.astype(int),
        cats=cats,
        approval=approval.astype("datetime64[D]"),
    )


def _category_factors(gen: DemoGenerator, where: Pool) -> dict[str, np.ndarray]:
    """Per carer, a multiplier of each category's approval rate by the carer's area group
    (recipe ``carers.categories_by_group``; 1 outside the authority and where unlisted)."""
    by_group = gen.cfg.get("carers", {}).get("categories_by_group", {})
    if not by_group or gen.scale != "kent":
        return {}
    group = np.array([gen.group_of_district.get(d, "") for d in where.district], dtype=object)
    return {
        name: np.array([float(factors.get(g, 1.0)) for g in group])
        for name, factors in by_group.items()
        if not name.startswith("_")
    }


def _carer_categories(
    gen: DemoGenerator,
    rng: np.random.Generator,
    places: np.ndarray,
    factors: dict[str, np.ndarray] | None = None,
) -> np.ndarray:
    """Bit masks: a run of one to four adjacent age bands, plus the recipe's extra categories
    (``carer_categories_pct``; siblings only for households of two places or more)."""
    n = len(places)
    first = rng.integers(0, 4, n)
    length = rng.choice([1, 2, 3, 4], size=n, p=[0.25, 0.4, 0.2, 0.15])
    cats = np.zeros(n, dtype=np.int64)
    for b in range(4):
        cats |= np.where((b >= first) & (b < first + length), AGE_BAND_BITS[b], 0)
    extras = gen.recipe["carer_categories_pct"]
    for name, pct in extras.items():
        bit = CATEGORY_BIT[Category(name)]
        rate = float(pct) / 100 * (factors or {}).get(name, 1.0)
        has = rng.random(n) < rate
        if name == "siblings":
            has &= places >= 2
        cats |= np.where(has, bit, 0)
    return cats


def finish_carers(gen: DemoGenerator, cr: Carers, carer: np.ndarray, age: np.ndarray) -> None:
    """Occupied places = Kent children placed (+ other councils' children in IFA homes);
    approval terms widened to the age band of a child placed there.

    ``carer`` is the carer of each current child (-1 for children not in foster care) and
    ``age`` the child's age in whole years at the as-at date.
    """
    rng = gen.rng_carers
    placed = carer[carer >= 0]
    cr.occupied = np.bincount(placed, minlength=len(cr.e))
    spare = np.where(cr.status == "approved", cr.approved - cr.occupied, 0)
    pct = float(gen.cfg["carers"].get("ifa_other_la_occupancy_pct", 0.0)) / 100
    extra = rng.binomial(np.maximum(spare, 0), pct) * (~cr.in_house)
    cr.occupied = cr.occupied + extra
    kids = np.flatnonzero(carer >= 0)
    np.bitwise_or.at(cr.cats, carer[kids], AGE_BAND_BITS[age_band_index(age[kids])])
    gen.facts["carers"] = {
        "in_house": int(cr.in_house.sum()),
        "ifa": int((~cr.in_house).sum()),
        "approved_places": int(cr.approved[cr.status == "approved"].sum()),
        "occupied_places": int(cr.occupied.sum()),
    }


def carer_frame(gen: DemoGenerator, cr: Carers) -> pd.DataFrame:
    """The register as written to ``carers.csv`` (text values, sorted by CARER_ID)."""
    rng = gen.rng_text
    n = len(cr.e)
    ids = rng.choice(90_000 if n < 80_000 else 900_000, size=n, replace=False)
    ids = ids + (10_000 if n < 80_000 else 100_000)
    prefix = np.where(cr.in_house, "FC", "IFA")
    masks, inverse = np.unique(cr.cats, return_inverse=True)
    names = np.array([format_categories(int(m)) for m in masks], dtype=object)
    cats = names[inverse.reshape(-1)]
    frame = pd.DataFrame(
        {
            "CARER_ID": [f"{p}{i}" for p, i in zip(prefix, ids, strict=True)],
            "POSTCODE": spaced(cr.compact),
            "STATUS": cr.status,
            "APPROVED_PLACES": cr.approved.astype(str),
            "OCCUPIED_PLACES": cr.occupied.astype(str),
            "PROVIDER": np.where(cr.in_house, "in_house", "ifa"),
            "CATEGORIES": cats,
            "APPROVAL_DATE": fmt_dates(cr.approval),
            "DEREGISTRATION_DATE": fmt_dates(_deregistration(gen, cr)),
        }
    )
    return frame.sort_values("CARER_ID", kind="stable").reset_index(drop=True).astype("string")


def _deregistration(gen: DemoGenerator, cr: Carers) -> np.ndarray:
    """When each deregistered household left: a day in the year before the as-at date, after
    its approval (stream ``rng_register``); NaT for the others."""
    rng = gen.rng_register
    gone = cr.status == "deregistered"
    year_ago = gen.as_at - 365 * DAY
    first = np.maximum(np.where(np.isnat(cr.approval), year_ago, cr.approval), year_ago) + DAY
    days = np.maximum((gen.as_at - first).astype(int), 0)
    when = first + (rng.random(len(gone)) * (days + 1)).astype(int) * DAY
    return np.where(gone, when, np.datetime64("NaT")).astype("datetime64[D]")
