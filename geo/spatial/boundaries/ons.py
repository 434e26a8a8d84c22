"""The official route: the ONS Open Geography Portal feature service "Local Authority Districts
(December 2024) Boundaries UK BGC", queried page by page (:func:`download_ons`, never implicit)
and cached as GeoJSON with its source URL, date and licence beside it (:func:`ons_cache_paths`,
:func:`read_ons_cache`). The HTTP client itself is :mod:`._http`."""

from __future__ import annotations

import json
import urllib.parse
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd
import shapely

from geo.errors import InputError, ReferenceDataError
from geo.spatial.authority import Authority
from geo.spatial.boundaries._http import FetchError, get_json
from geo.spatial.boundaries._select import (
    as_authority,
    code_column,
    expected_columns,
    name_column,
    polygons_by_code,
    select_districts,
    to_bng,
)
from geo.spatial.boundaries.model import (
    BNG,
    NEIGHBOUR_GAP_M,
    ONS_ATTRIBUTION,
    ONS_LICENCE,
    ONS_SERVICE_URL,
    ONS_TITLE,
    WGS84,
    Boundaries,
    BoundarySource,
    cache_root,
)
from geo.writing import atomic_write_bytes


def ons_cache_paths(
    *, authority: Authority | str, cache_dir: str | Path | None = None
) -> tuple[Path, Path]:
    """Where :func:`download_ons` caches the authority's polygons: (GeoJSON, metadata JSON) in
    the ``boundaries/`` folder of ``cache_dir`` (None: the user cache directory)."""
    code = as_authority(authority).code
    base = cache_root(cache_dir) / "boundaries"
    return base / f"ons_lad_bgc_{code}.geojson", base / f"ons_lad_bgc_{code}.json"


def read_ons_cache(
    data_path: Path,
    meta_path: Path,
    *,
    authority: Authority | str,
    neighbour_gap_m: float = NEIGHBOUR_GAP_M,
) -> Boundaries:
    """The ONS districts cached by :func:`download_ons` at ``data_path``/``meta_path`` (see
    :func:`ons_cache_paths`), selected for ``authority``. Raises :class:`ReferenceDataError`
    saying how to download them when the cache is absent, unreadable or incomplete."""
    auth = as_authority(authority)
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
    code_col = code_column([str(c) for c in frame.columns])
    if code_col is None:
        raise ReferenceDataError(
            f"The cached ONS boundaries at {data_path} have no district code column. Download "
            f"them again with 'placemap boundaries download --authority {auth.code}'."
        )
    name_col = name_column([str(c) for c in frame.columns], code_col)
    frame = gpd.GeoDataFrame(
        {
            "district_code": frame[code_col].astype("string").to_numpy(),
            "district_name": frame[name_col].astype("string").to_numpy() if name_col else pd.NA,
        },
        geometry=frame.geometry.to_numpy(),
        crs=frame.crs or WGS84,
    )
    frame = polygons_by_code(to_bng(frame, what=f"Cache file {data_path}"))
    try:
        selected = select_districts(
            frame, auth, gap_m=neighbour_gap_m, what=f"The ONS cache {data_path}"
        )
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
    ``resultOffset``. Raises ``FetchError`` saying which page failed and how."""
    features: list[dict[str, Any]] = []
    for page in range(1, max_pages + 1):
        query = {
            **params,
            "resultOffset": str(len(features)),
            "resultRecordCount": str(page_size),
        }
        url = f"{query_url}?{urllib.parse.urlencode(query)}"
        try:
            payload = get_json(url, timeout_s=timeout_s)
        except FetchError as err:
            raise FetchError(
                f"{what}, page {page} (records from {len(features)}): {err.what}"
            ) from err
        batch = payload.get("features")
        if not isinstance(batch, list):
            raise FetchError(f"{what}, page {page}: the response has no 'features' list")
        features.extend(batch)
        props = payload.get("properties") or {}
        more = bool(payload.get("exceededTransferLimit") or props.get("exceededTransferLimit"))
        if not more:
            return features
        if not batch:
            raise FetchError(
                f"{what}, page {page}: the service said more records follow but sent none"
            )
    raise FetchError(f"{what}: more than {max_pages} pages; giving up")


def download_ons(
    *,
    authority: Authority | str,
    cache_dir: str | Path | None = None,
    base_url: str = ONS_SERVICE_URL,
    timeout_s: float = 60.0,
    page_size: int = 100,
    neighbour_gap_m: float = NEIGHBOUR_GAP_M,
) -> Path:
    """Fetch the authority's districts, context districts and neighbours from the ONS ArcGIS
    feature service (``base_url``: a FeatureServer URL, default :data:`ONS_SERVICE_URL`) and
    cache them as GeoJSON (EPSG:4326) with a metadata file (source URL, date, licence) at
    :func:`ons_cache_paths` of ``cache_dir``.

    Two paged queries: the authority's and context districts by code, then every district
    whose polygon meets their bounding box widened by ``neighbour_gap_m``. Returns the cached
    GeoJSON path. On a timeout, an HTTP error, a dropped connection, a truncated page or
    incomplete results, raises :class:`ReferenceDataError` saying what happened, and the cache
    is left exactly as it was (files are only replaced after everything arrived).
    """
    auth = as_authority(authority)
    base = (base_url or ONS_SERVICE_URL).rstrip("/")
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
        info = get_json(f"{layer_url}?f=json", timeout_s=timeout_s)
    except FetchError as err:
        raise fail(f"reading the layer description: {err.what}") from err
    fields = [str(f.get("name")) for f in info.get("fields") or [] if isinstance(f, dict)]
    code_col = code_column(fields)
    if code_col is None:
        raise fail(
            f"the layer has no district code field (expected {expected_columns()}; it has "
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
    except FetchError as err:
        raise fail(err.what) from err
    try:
        core_frame = _features_frame(core, code_col)
    except FetchError as err:
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
    except FetchError as err:
        raise fail(err.what) from err
    by_code: dict[str, dict[str, Any]] = {}
    for feature in [*core, *around]:
        code = str((feature.get("properties") or {}).get(code_col, ""))
        by_code.setdefault(code, feature)
    try:
        all_frame = _features_frame(list(by_code.values()), code_col).set_crs(WGS84).to_crs(BNG)
    except FetchError as err:
        raise fail(err.what) from err
    selected = select_districts(
        polygons_by_code(all_frame), auth, gap_m=neighbour_gap_m, what="The ONS download"
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
    name_col = name_column(list(props[0]), code_col)
    try:
        geoms = [shapely.geometry.shape(f["geometry"]) for f in features]
    except (KeyError, TypeError, ValueError, AttributeError) as err:
        raise FetchError(f"a feature has no usable geometry ({err})") from err
    return gpd.GeoDataFrame(
        {
            "district_code": [str(p.get(code_col, "")) for p in props],
            "district_name": [p.get(name_col) if name_col else None for p in props],
        },
        geometry=geoms,
    )
