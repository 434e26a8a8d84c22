"""The front door: :func:`load_boundaries` picks a route, and :func:`read_boundaries_file`
reads a user's file of ONS Local Authority Districts (GeoJSON / GeoPackage / Shapefile, any CRS;
the code and name columns ``LAD24CD``/``LAD24NM``, ``LADCD``, ``AREACD``... are detected)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

import geopandas as gpd
import pandas as pd
import shapely

from geo.errors import InputError
from geo.spatial.authority import Authority
from geo.spatial.boundaries._select import (
    as_authority,
    code_column,
    expected_columns,
    name_column,
    polygons_by_code,
    select_districts,
    with_crs,
)
from geo.spatial.boundaries.derive import derived_boundaries
from geo.spatial.boundaries.model import (
    BNG,
    NEIGHBOUR_GAP_M,
    ONS_ATTRIBUTION,
    Boundaries,
    BoundarySource,
)
from geo.spatial.boundaries.ons import ons_cache_paths, read_ons_cache

_GSS_RE = re.compile(r"^[EWSNLM]\d{8}$")


def load_boundaries(
    *,
    authority: Authority | str,
    source: BoundarySource | str = BoundarySource.AUTO,
    path: str | Path | None = None,
    cache_dir: str | Path | None = None,
    neighbour_gap_m: float = NEIGHBOUR_GAP_M,
) -> Boundaries:
    """District polygons (EPSG:27700) of ``authority``, its context districts and neighbours.

    ``source``: ``"file"`` reads ``path``; ``"ons"`` reads the cache written by
    :func:`download_ons`; ``"derived"`` builds approximate polygons from the postcode points
    (cached); ``"auto"`` takes ``path`` when given, else the ONS cache when present, else the
    derivation. Nothing is downloaded here, and no ``PLACEMAP_*`` variable is read: the app
    passes its configured file (``PLACEMAP_BOUNDARIES``) as ``path``. ``cache_dir`` is the
    placemap cache folder (None: the user cache directory, see :func:`default_cache_dir`).

    Raises :class:`InputError` for an unusable file (missing, unreadable, no code column,
    authority districts missing) and :class:`ReferenceDataError` when the ONS cache is absent
    or corrupt or the postcode data has no points for a district.
    """
    auth = as_authority(authority)
    try:
        src = BoundarySource(str(source).lower())
    except ValueError as err:
        raise InputError(
            f"Unknown boundary source {source!r}; expected one of "
            f"{', '.join(s.value for s in BoundarySource)}."
        ) from err
    if src in (BoundarySource.AUTO, BoundarySource.FILE):
        file_path = Path(path).expanduser() if path else None
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
        return read_ons_cache(data_path, meta_path, authority=auth, neighbour_gap_m=neighbour_gap_m)
    return derived_boundaries(authority=auth, cache_dir=cache_dir, neighbour_gap_m=neighbour_gap_m)


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
    auth = as_authority(authority)
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
    code_col = code_column(columns)
    if code_col is None:
        raise InputError(
            f"Boundary file '{p}' has no district code column: expected {expected_columns()}; "
            f"the file has columns {', '.join(columns) if columns else '(none)'}. Rename the "
            "column holding the ONS GSS district codes (E07000105 ...) to LAD24CD."
        )
    name_col = name_column(columns, code_col)
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
    frame = with_crs(frame, what=f"Boundary file '{p}'")
    frame = _near_core(frame, [*auth.districts, *auth.context_districts], neighbour_gap_m)
    frame = polygons_by_code(frame.to_crs(BNG))
    selected = select_districts(frame, auth, gap_m=neighbour_gap_m, what=f"Boundary file '{p}'")
    return Boundaries(
        frame=selected,
        source=BoundarySource.FILE,
        label=f"district boundaries from {p.name}",
        attribution=f"District boundaries: {p.name}. {ONS_ATTRIBUTION}",
        authority_code=auth.code,
        origin=str(p),
    )


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
