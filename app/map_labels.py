"""Where a map writes its district names, and what it shows of districts outside a chosen area.

Computed once per boundary set (and area) in British National Grid metres, then handed to
:mod:`app.figures` in EPSG:4326. Labels go at each district's pole of inaccessibility (the
point inside it farthest from its edge) when their box fits there without touching another
label; otherwise at the nearest point inside the district where it does, and failing that just
outside the authority with a leader line to the district, so no two names overlap and none
runs off the map. Long names are broken over two lines.
"""

from __future__ import annotations

import threading
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely.ops import polylabel

# The map a label is placed for: about this many pixels across the authority (a map panel at
# 1440 px; a smaller panel shows smaller text boxes relative to the map, so labels still fit).
MAP_WIDTH_PX = 820.0
MAP_HEIGHT_PX = 560.0
CHAR_PX = 6.4  # an 11 px sans-serif character, average
LINE_PX = 14.0
PAD = 0.06  # of the authority's extent, around it on the map: room for outside labels
HATCH_SPACING = 0.025  # of the authority's width, between hatching lines

# results per boundary set: (boundaries object, kind, arguments) -> value; the object itself is
# kept with its results so a new boundary set (another id) never reads an old one's entry
_CACHE: dict[tuple[int, str, tuple[str, ...]], tuple[Any, Any]] = {}
_LOCK = threading.Lock()


def _once(boundaries: Any, kind: str, codes: tuple[str, ...], compute: Any) -> Any:
    key = (id(boundaries), kind, codes)
    with _LOCK:
        hit = _CACHE.get(key)
    if hit is not None and hit[0] is boundaries:
        return hit[1]
    value = compute()
    with _LOCK:
        if len(_CACHE) > 64:
            _CACHE.clear()
        _CACHE[key] = (boundaries, value)
    return value


def wrap_name(name: str, width: int = 11) -> str:
    """A district name on at most two lines (``<br>``), split at the space nearest the middle
    when it is longer than ``width`` characters."""
    if len(name) <= width or " " not in name:
        return name
    spaces = [i for i, ch in enumerate(name) if ch == " "]
    cut = min(spaces, key=lambda i: abs(i - len(name) / 2))
    return f"{name[:cut]}<br>{name[cut + 1 :]}"


def box_size_m(text: str, metres_per_px: float) -> tuple[float, float]:
    """Width and height (metres) of a label's text box at ``metres_per_px``."""
    lines = text.split("<br>")
    w = (max(len(line) for line in lines) * CHAR_PX + 6) * metres_per_px
    h = (len(lines) * LINE_PX + 2) * metres_per_px
    return w, h


def _candidates(poly: Any, start: Any, step: float) -> list[tuple[float, float]]:
    """Points inside ``poly`` on a grid of ``step`` metres, nearest ``start`` first."""
    x0, y0, x1, y1 = poly.bounds
    xs, ys = np.meshgrid(np.arange(x0, x1, step), np.arange(y0, y1, step))
    pts = shapely.points(xs.ravel(), ys.ravel())
    inside = shapely.contains(poly, pts)
    coords = shapely.get_coordinates(pts[inside])
    order = np.argsort(np.hypot(coords[:, 0] - start.x, coords[:, 1] - start.y))
    return [(float(start.x), float(start.y))] + [tuple(c) for c in coords[order]]


def place_labels(frame: gpd.GeoDataFrame, codes: list[str], names: dict[str, str]) -> pd.DataFrame:
    """Label positions of the districts ``codes`` of ``frame`` (EPSG:27700).

    Returns ``district_code, label, x, y, anchor_x, anchor_y, leader`` in metres: the label's
    centre, the point of the district it names, and whether a leader line joins them."""
    own = frame[frame["district_code"].isin(codes)]
    if own.empty:
        return pd.DataFrame(
            columns=["district_code", "label", "x", "y", "anchor_x", "anchor_y", "leader"]
        )
    x0, y0, x1, y1 = own.total_bounds
    m_per_px = max((x1 - x0) / MAP_WIDTH_PX, (y1 - y0) / MAP_HEIGHT_PX)
    extent = shapely.box(x0, y0, x1, y1)
    centre = extent.centroid
    placed: list[Any] = []
    rows = []
    # the smallest districts first: they have the fewest places a label fits
    for _, r in own.assign(_area=own.geometry.area).sort_values("_area").iterrows():
        code = r["district_code"]
        geom = r.geometry
        poly = max(getattr(geom, "geoms", [geom]), key=lambda g: g.area)
        label = wrap_name(str(names.get(code, r["district_name"])))
        w, h = box_size_m(label, m_per_px)
        anchor = polylabel(poly, tolerance=50.0)
        cands = _candidates(poly, anchor, step=max(w, h) / 4)

        def box(cx: float, cy: float, w: float = w, h: float = h) -> Any:
            return shapely.box(cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2)

        container = poly.buffer(w * 0.05)
        shapely.prepare(container)
        choice: tuple[float, float] | None = None
        first_free: tuple[float, float] | None = None
        leader = False
        for c in cands:
            b = box(*c)
            if any(b.intersects(p) for p in placed):
                continue
            first_free = first_free or c
            if container.contains(b):
                choice = c
                break
        choice = choice or first_free
        if choice is None:  # no room inside: outside the authority, joined by a line
            others = own.geometry.union_all().difference(geom)
            away = np.array([anchor.x - centre.x, anchor.y - centre.y])
            away = away / (np.hypot(*away) or 1.0)
            for dist in np.arange(1.0, 8.0, 0.5) * max(w, h):
                c = (anchor.x + away[0] * dist, anchor.y + away[1] * dist)
                b = box(*c)
                if not any(b.intersects(p) for p in placed) and not b.intersects(others):
                    choice, leader = c, True
                    break
            if choice is None:
                choice = (anchor.x, anchor.y)
        placed.append(box(*choice))
        rows.append(
            {
                "district_code": code,
                "label": label,
                "x": choice[0],
                "y": choice[1],
                "anchor_x": anchor.x,
                "anchor_y": anchor.y,
                "leader": leader,
            }
        )
    order = {c: i for i, c in enumerate(codes)}
    out = pd.DataFrame(rows)
    return out.sort_values("district_code", key=lambda s: s.map(order)).reset_index(drop=True)


def _lonlat(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    pts = gpd.GeoSeries(shapely.points(x, y), crs=27700).to_crs(4326)
    return pts.x.to_numpy(), pts.y.to_numpy()


def _labels_lonlat(frame: gpd.GeoDataFrame, codes: tuple[str, ...]) -> pd.DataFrame:
    names = dict(zip(frame["district_code"], frame["district_name"], strict=False))
    t = place_labels(frame, list(codes), names)
    if t.empty:
        return t.assign(lon=[], lat=[], anchor_lon=[], anchor_lat=[])
    lon, lat = _lonlat(t["x"].to_numpy(), t["y"].to_numpy())
    alon, alat = _lonlat(t["anchor_x"].to_numpy(), t["anchor_y"].to_numpy())
    return t.assign(lon=lon, lat=lat, anchor_lon=alon, anchor_lat=alat)


def district_labels(boundaries: Any, codes: list[str]) -> pd.DataFrame:
    """Label positions of the authority's districts for a map (EPSG:4326): ``district_code,
    label, lon, lat, anchor_lon, anchor_lat, leader``; computed once per boundary set."""
    key = tuple(codes)
    return _once(boundaries, "labels", key, lambda: _labels_lonlat(boundaries.frame, key))


def _bounds(frame: gpd.GeoDataFrame, codes: tuple[str, ...]) -> dict[str, list[float]]:
    own = frame[frame["district_code"].isin(codes)]
    x0, y0, x1, y1 = own.total_bounds
    dx, dy = (x1 - x0) * PAD, (y1 - y0) * PAD
    lon, lat = _lonlat(np.array([x0 - dx, x1 + dx]), np.array([y0 - dy, y1 + dy]))
    return {"lon": [float(lon[0]), float(lon[1])], "lat": [float(lat[0]), float(lat[1])]}


def map_bounds(boundaries: Any, codes: list[str]) -> dict[str, list[float]]:
    """``{"lon": [west, east], "lat": [south, north]}`` of the districts ``codes`` with a
    margin: the part of the world a map of the authority shows (its neighbours are cut off)."""
    key = tuple(codes)
    return _once(boundaries, "bounds", key, lambda: _bounds(boundaries.frame, key))


def _hatch(
    frame: gpd.GeoDataFrame, codes: tuple[str, ...], all_codes: tuple[str, ...]
) -> tuple[list[float | None], list[float | None]]:
    area = frame[frame["district_code"].isin(codes)].geometry.union_all()
    x0, y0, x1, y1 = frame[frame["district_code"].isin(all_codes)].total_bounds
    step = (x1 - x0) * HATCH_SPACING
    span = (x1 - x0) + (y1 - y0)
    lines = [
        shapely.LineString([(x0 + o, y0), (x0 + o - span, y0 + span)])
        for o in np.arange(0, 2 * span, step)
    ]
    cut = shapely.intersection(shapely.MultiLineString(lines), area)
    lon: list[float | None] = []
    lat: list[float | None] = []
    for part in shapely.get_parts(cut):
        if part.geom_type != "LineString" or part.is_empty:
            continue
        xy = shapely.get_coordinates(part)
        lo, la = _lonlat(xy[:, 0], xy[:, 1])
        lon += [*lo.tolist(), None]
        lat += [*la.tolist(), None]
    return lon, lat


def hatching(
    boundaries: Any, codes: list[str], authority_codes: list[str]
) -> tuple[list[float | None], list[float | None]]:
    """Diagonal lines (lon, lat with None breaks) across the districts ``codes``: the mark of
    districts outside the selected area; computed once per boundary set and area."""
    if not codes:
        return [], []
    key = (*codes, "|", *authority_codes)
    return _once(
        boundaries,
        "hatch",
        key,
        lambda: _hatch(boundaries.frame, tuple(codes), tuple(authority_codes)),
    )
