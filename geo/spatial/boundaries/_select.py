"""From any table of district polygons to the frame of a :class:`Boundaries`: shared by the file,
ONS and derived routes.

Detects the GSS code and name columns, settles the CRS, cleans the polygons to one per code and
selects the authority's districts, its context districts and its neighbours, with their roles.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo.errors import InputError
from geo.spatial.authority import Authority, district_name, load_authority
from geo.spatial.boundaries.model import BNG, WGS84, DistrictRole

# Code columns in the order they are preferred; LADyyCD with the latest year comes first.
_CODE_NAMES = ("ladcd", "ltlacd", "areacd", "lad_code", "ladcode", "gss_code", "code")
_NAME_NAMES = ("ladnm", "ltlanm", "areanm", "lad_name", "ladname", "name")


def as_authority(authority: Authority | str) -> Authority:
    """``authority`` itself, or the configured authority of that GSS code."""
    return authority if isinstance(authority, Authority) else load_authority(authority)


def select_districts(
    districts: gpd.GeoDataFrame,
    auth: Authority,
    *,
    gap_m: float,
    what: str,
    names: dict[str, str] | None = None,
) -> gpd.GeoDataFrame:
    """Authority + context + neighbour rows of ``districts`` (``district_code``, geometry in
    EPSG:27700, optional ``district_name``), with roles; InputError when an authority district
    is missing."""
    by_code = districts.set_index("district_code")
    missing = [c for c in auth.districts if c not in by_code.index]
    if missing:
        listed = ", ".join(f"{c} {auth.districts[c]}" for c in missing)
        have = ", ".join(sorted(by_code.index)[:8])
        raise InputError(
            f"{what} lacks {len(missing)} of the {len(auth.districts)} districts of "
            f"{auth.name} ({auth.code}): {listed}. It has {len(by_code)} districts"
            f"{' (e.g. ' + have + ')' if have else ''}. Use a file of ONS Local Authority "
            "Districts (December 2024 or later) that covers the whole authority."
        )
    own = list(auth.districts)
    context = [c for c in auth.context_districts if c in by_code.index and c not in own]
    others = by_code.drop(index=own + context)
    neighbours: list[str] = []
    if len(others):
        core = shapely.union_all(by_code.loc[own].geometry.to_numpy())
        tree = shapely.STRtree(others.geometry.to_numpy())
        hits = tree.query(core, predicate="dwithin", distance=gap_m)
        neighbours = sorted(others.index[np.unique(hits)])
    order = own + context + neighbours
    roles = (
        [DistrictRole.AUTHORITY.value] * len(own)
        + [DistrictRole.CONTEXT.value] * len(context)
        + [DistrictRole.NEIGHBOUR.value] * len(neighbours)
    )
    file_names = by_code.get("district_name")

    def name_of(code: str) -> str:
        # The authority's own districts keep their configured names (as in every table).
        if code in auth.districts:
            return auth.districts[code]
        if names and code in names:
            return names[code]
        if file_names is not None and isinstance(file_names.get(code), str):
            return str(file_names[code])
        return district_name(code)

    return gpd.GeoDataFrame(
        {
            "district_code": order,
            "district_name": [name_of(c) for c in order],
            "role": roles,
        },
        geometry=list(by_code.loc[order].geometry.to_numpy()),
        crs=BNG,
    )


def code_column(columns: Sequence[str]) -> str | None:
    """The GSS district code column among ``columns`` (``LADyyCD`` with the latest year first,
    then ``LADCD``, ``AREACD``, ...), or None when there is none."""
    ranked: list[tuple[int, int, str]] = []
    for col in columns:
        m = re.fullmatch(r"(?:LAD|LTLA)(\d{2})CD", col, flags=re.IGNORECASE)
        if m:
            ranked.append((0, -int(m.group(1)), col))
        elif col.lower() in _CODE_NAMES:
            ranked.append((1 + _CODE_NAMES.index(col.lower()), 0, col))
    return min(ranked)[2] if ranked else None


def name_column(columns: Sequence[str], code_col: str) -> str | None:
    """The district name column paired with ``code_col`` (``LAD24CD`` -> ``LAD24NM``), else any
    known name column, else None."""
    lower = {c.lower(): c for c in columns}
    low = code_col.lower()
    pairs = [low[:-2] + "nm"] if low.endswith("cd") else []
    pairs += [low.replace("code", "name")] if "code" in low else []
    for candidate in pairs:
        if candidate in lower and candidate != low:
            return lower[candidate]
    for col in columns:
        if re.fullmatch(r"(?:LAD|LTLA)\d{2}NM", col, flags=re.IGNORECASE):
            return col
    return next((lower[n] for n in _NAME_NAMES if n in lower), None)


def expected_columns() -> str:
    """The code column names recognised, for error messages."""
    return "LAD24CD (or LAD23CD, LAD21CD, ... LADCD, LTLA21CD, AREACD, lad_code, code)"


def with_crs(frame: gpd.GeoDataFrame, *, what: str) -> gpd.GeoDataFrame:
    """The frame with its CRS; a missing CRS is inferred only when the coordinates can only be
    lon/lat or British National Grid (InputError otherwise)."""
    if frame.crs is None:
        xmin, ymin, xmax, ymax = frame.total_bounds
        if xmin >= -180 and xmax <= 180 and ymin >= -90 and ymax <= 90:
            frame = frame.set_crs(WGS84)
        elif xmin >= -1e5 and xmax <= 8e5 and ymin >= -1e5 and ymax <= 1.4e6:
            frame = frame.set_crs(BNG)
        else:
            raise InputError(
                f"{what} has no coordinate reference system and its coordinates "
                f"({xmin:.0f}, {ymin:.0f}) – ({xmax:.0f}, {ymax:.0f}) are neither lon/lat nor "
                "British National Grid. Save it with its CRS (a .prj file for a Shapefile)."
            )
    return frame


def to_bng(frame: gpd.GeoDataFrame, *, what: str) -> gpd.GeoDataFrame:
    """The frame in EPSG:27700 (see :func:`with_crs` for a missing CRS)."""
    return with_crs(frame, what=what).to_crs(BNG)


def polygons_by_code(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """One valid (Multi)Polygon per code (rows of a code dissolved, non-polygon parts dropped)."""
    frame = frame[frame["district_code"].notna() & frame.geometry.notna()]
    geoms = frame.geometry.to_numpy().copy()
    invalid = ~shapely.is_valid(geoms)
    if invalid.any():
        geoms[invalid] = [polygonal(g) for g in shapely.make_valid(geoms[invalid])]
    codes = frame["district_code"].to_numpy()
    names = frame["district_name"].to_numpy()
    keep = ~shapely.is_missing(geoms) & np.isin(shapely.get_type_id(geoms), (3, 6))
    geoms, codes, names = geoms[keep], codes[keep], names[keep]
    first = ~pd.Series(codes).duplicated().to_numpy()
    out = geoms[first].copy()
    repeated = pd.Series(codes).duplicated(keep=False).to_numpy()
    for i, code in zip(np.flatnonzero(first), codes[first], strict=True):
        if repeated[i]:  # the rows of a district split into several features
            out[np.count_nonzero(first[:i])] = shapely.union_all(geoms[codes == code])
    return gpd.GeoDataFrame(
        {"district_code": codes[first], "district_name": names[first]},
        geometry=list(out),
        crs=frame.crs,
    )


def polygonal(geom: shapely.Geometry) -> shapely.Geometry | None:
    """The polygon parts of a geometry (e.g. of make_valid's output), or None."""
    parts = shapely.get_parts(geom)
    parts = parts[np.isin(shapely.get_type_id(parts), (3, 6))]
    if len(parts) == 0:
        return None
    return parts[0] if len(parts) == 1 else shapely.union_all(parts)
