"""Small areas for aggregating children and carers: postcode sectors and a square grid.

Results are only ever published by area (DESIGN.md §7): a child's or carer's point location
never leaves ``geo/``. Grid cells are squares in EPSG:27700 identified by their south-west corner
in metres (``"555000_150000"`` for the cell 555,000-560,000 E, 150,000-155,000 N).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

import numpy as np
import pandas as pd

from geo.spatial import postcodes as pc
from geo.spatial.authority import OUTSIDE, AreaKind, Authority, upper_tier_of


def postcode_sector(postcodes: pd.Series) -> pd.Series:
    """Postcode sector (``'ME14 1XQ'`` → ``'ME14 1'``) of any spelling; ``<NA>`` when the value is
    blank or not a valid postcode."""
    norm = pc.normalise(postcodes)
    valid = pc.is_valid_format(norm)
    return norm.str[:-2].mask(~valid).astype("string")


def grid_cell(easting_m: np.ndarray, northing_m: np.ndarray, *, size_m: float) -> np.ndarray:
    """Id of the square grid cell (side ``size_m`` metres) holding each point; '' for NaN."""
    e = np.asarray(easting_m, dtype=float)
    n = np.asarray(northing_m, dtype=float)
    ok = np.isfinite(e) & np.isfinite(n)
    e0 = np.where(ok, np.floor(np.where(ok, e, 0) / size_m) * size_m, 0).astype(np.int64)
    n0 = np.where(ok, np.floor(np.where(ok, n, 0) / size_m) * size_m, 0).astype(np.int64)
    ids = np.char.add(np.char.add(e0.astype(str), "_"), n0.astype(str)).astype(object)
    ids[~ok] = ""
    return ids


def sector_centroids(district_codes: Iterable[str]) -> pd.DataFrame:
    """Centroids of the postcode sectors of the given districts, from ONSPD.

    One row per sector (sorted): ``sector``, ``easting_m``, ``northing_m`` (mean of the sector's
    postcode grid references that lie in the districts, EPSG:27700), ``district_code`` (the
    district holding most of those postcodes) and ``postcodes`` (how many). Only postcode letters
    that occur in those districts are loaded; raises nothing for unknown codes (empty frame).
    """
    codes = sorted({str(c) for c in district_codes})
    table = _postcodes_of_districts(tuple(codes))
    if table.empty:
        return pd.DataFrame(
            {
                "sector": pd.Series(dtype=object),
                "easting_m": pd.Series(dtype=float),
                "northing_m": pd.Series(dtype=float),
                "district_code": pd.Series(dtype=object),
                "postcodes": pd.Series(dtype=np.int64),
            }
        )
    compact = table.index.to_series()
    sector = (compact.str[:-3] + " " + compact.str[-3]).to_numpy()
    frame = pd.DataFrame(
        {
            "sector": sector,
            "easting_m": table["easting_m"].to_numpy(),
            "northing_m": table["northing_m"].to_numpy(),
            "district_code": table["district_code"].astype(str).to_numpy(),
        }
    )
    g = frame.groupby("sector", sort=True)
    main_district = (
        frame.groupby(["sector", "district_code"])
        .size()
        .reset_index(name="n")
        # most postcodes first, then the code, so ties resolve the same way every run
        .sort_values(["sector", "n", "district_code"], ascending=[True, False, True])
        .drop_duplicates("sector")
        .set_index("sector")["district_code"]
    )
    out = pd.DataFrame(
        {
            "easting_m": g["easting_m"].mean(),
            "northing_m": g["northing_m"].mean(),
            "postcodes": g.size(),
        }
    )
    out["district_code"] = main_district.reindex(out.index).to_numpy()
    return out.reset_index()[["sector", "easting_m", "northing_m", "district_code", "postcodes"]]


def _postcodes_of_districts(codes: tuple[str, ...]) -> pd.DataFrame:
    """ONSPD rows with a grid reference in the districts.

    A district's postcodes can start with several letters (Sevenoaks has BR8 as well as TN), so
    every letter file is scanned; they are cached after the first call.
    """
    if not codes:
        return pd.DataFrame()
    return pc.postcodes_in_districts(codes)


# --- the areas of an authority's tables ------------------------------------------------------


def area_codes(authority: Authority, district_codes: pd.Series, postcodes: pd.Series) -> pd.Series:
    """The table area of each child (:class:`~geo.spatial.authority.AreaKind`): the district,
    the postcode district (outward code, e.g. ``ME7``) within a single-district authority, or
    the children's services authority within a region or England. ``OUTSIDE`` when the
    district is not the authority's or not known.

    ``district_codes`` are ONS district (LTLA) codes; ``postcodes`` the matching postcodes in
    ONSPD form (``ME7 1AB``; anything else has no postcode district).
    """
    codes = district_codes.astype("string")
    if authority.area_kind == AreaKind.AUTHORITY:
        codes = codes.map(upper_tier_of, na_action="ignore").astype("string")
    inside = codes.isin(authority.district_codes).fillna(False)
    if authority.area_kind == AreaKind.POSTCODE_DISTRICT:
        post = postcodes.astype("string").str.strip()
        outward = post.str.extract(r"^([A-Z]{1,2}[0-9][A-Z0-9]?) [0-9][A-Z]{2}$", expand=False)
        codes = outward.where(inside & outward.notna())
    return codes.where(inside).fillna(OUTSIDE).astype(object)


def area_order(authority: Authority, codes: Iterable[str]) -> list[str]:
    """The order of an authority's table rows: its districts (or authorities) as configured;
    postcode districts in natural order (ME1, ME2, …, ME10) of those present in ``codes``."""
    if authority.area_kind != AreaKind.POSTCODE_DISTRICT:
        return authority.district_codes
    present = {c for c in codes if isinstance(c, str) and c != OUTSIDE}

    def key(code: str) -> tuple[str, int, str]:
        m = re.match(r"^([A-Z]+)([0-9]+)(.*)$", code)
        return (m.group(1), int(m.group(2)), m.group(3)) if m else (code, 0, "")

    return sorted(present, key=key)


def area_names(authority: Authority, codes: Iterable[str]) -> dict[str, str]:
    """Display names of table areas: district or authority names; a postcode district is
    named by its code and the authority ("ME7, Medway")."""
    if authority.area_kind == AreaKind.POSTCODE_DISTRICT:
        return {c: f"{c}, {authority.name}" for c in codes}
    return {c: authority.districts.get(c, c) for c in codes}
