"""Map geometry sent once: GeoJSON served at a URL the browser caches, not inside every figure.

plotly.js takes a URL as a choropleth's ``geojson`` (``go.Choropleth`` and
``go.Choroplethmap``): it fetches it once per page (``window.PlotlyGeoAssets``) and the browser
keeps it (the URL carries a digest of the content, so it is served ``immutable``). A figure then
carries colours, numbers and hover text only, and a filter change does not resend polygons
(issue 21: every filter change within 30 KB).

Two kinds of geometry, both computable by any worker from the URL alone (gunicorn's workers
share nothing):

* ``/_placemap/geo/districts.json?v=<digest>``: the authority's districts and its neighbours
  (:attr:`app.data.store.DatasetStore.browser_geojson`, the same in every worker);
* ``/_placemap/geo/grid/<size>/<e0>/<n0>/<width>/<bits>.json``: square grid cells, the set
  packed into the path (a zlib-compressed bitmap over the cells' bounding box, base64url).
  When that would make too long a URL the figure carries the cells inline instead.

The routes sit behind the sign-in gate like every other path. District shapes are public
geography: the browser may keep them (``private``, a year, ``immutable``). Which 5 km squares
children come from is derived from their data, so the grid is ``no-store`` like every page
and callback: plotly.js still fetches it only once per page.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import json
import weakref
import zlib
from functools import lru_cache
from typing import Any

import flask

ROUTE = "/_placemap/geo"
MAX_URL = 3000  # characters; gunicorn's request line limit is 4094
MAX_CELLS_IN_BOX = 4_000_000  # a bounding box of 2,000 × 2,000 cells at most
SIZES_M = (1000, 2000, 5000, 10000)  # grid sizes a URL may ask for
_CACHE = "private, max-age=31536000, immutable"


def geojson_bytes(geojson: dict[str, Any]) -> bytes:
    """Compact JSON of ``geojson`` with coordinates to 5 decimals (about 1 m)."""

    def rounded(x: Any) -> Any:
        if isinstance(x, float):
            return round(x, 5)
        if isinstance(x, list | tuple):
            return [rounded(v) for v in x]
        if isinstance(x, dict):
            return {k: rounded(v) for k, v in x.items()}
        return x

    return json.dumps(rounded(geojson), separators=(",", ":")).encode()


def _digest(data: bytes) -> str:
    return hashlib.blake2b(data, digest_size=8).hexdigest()


# -- districts ------------------------------------------------------------------------------------
# (JSON, gzip of it, digest) of each store's district GeoJSON, dropped with the store
_DISTRICTS: weakref.WeakKeyDictionary[Any, tuple[bytes, bytes, str]] = weakref.WeakKeyDictionary()


def _districts(store: Any) -> tuple[bytes, bytes, str]:
    """(JSON, gzip of it, digest) of the store's district GeoJSON, computed once per store."""
    cached = _DISTRICTS.get(store)
    if cached is None:
        data = geojson_bytes(store.browser_geojson)
        cached = _DISTRICTS[store] = (data, gzip.compress(data, 6), _digest(data))
    return cached


def districts_url(store: Any) -> str:
    """The URL of the store's district GeoJSON (for a choropleth's ``geojson``)."""
    return f"{ROUTE}/districts.json?v={_districts(store)[2]}"


# -- grid cells -----------------------------------------------------------------------------------
def _cell_numbers(cells: list[str], size_m: float) -> tuple[list[int], list[int]]:
    """Column and row numbers of the grid cells (ids that are not cells left out)."""
    from app.coverage_view import parse_cell

    corners = [c for c in map(parse_cell, cells) if c is not None]
    return [int(e // size_m) for e, _n in corners], [int(n // size_m) for _e, n in corners]


def grid_url(cells: list[str], size_m: float) -> str | None:
    """A URL for the square cells ``cells`` (ids ``"<easting>_<northing>"`` of their south-west
    corners, EPSG:27700) of ``size_m`` metres, or None when the set does not fit in a URL."""
    size = int(size_m)
    if size not in SIZES_M:
        return None
    es, ns = _cell_numbers(cells, size_m)
    if not es:
        return None
    e0, n0 = min(es), min(ns)
    width, height = max(es) - e0 + 1, max(ns) - n0 + 1
    if width * height > MAX_CELLS_IN_BOX:
        return None
    bits = bytearray((width * height + 7) // 8)
    for e, n in zip(es, ns, strict=True):
        i = (n - n0) * width + (e - e0)
        bits[i // 8] |= 1 << (i % 8)
    token = base64.urlsafe_b64encode(zlib.compress(bytes(bits), 9)).decode().rstrip("=")
    url = f"{ROUTE}/grid/{size}/{e0}/{n0}/{width}/{token}.json"
    return url if len(url) <= MAX_URL else None


@lru_cache(maxsize=64)
def _grid_bytes(size: int, e0: int, n0: int, width: int, token: str) -> tuple[bytes, bytes]:
    from app.coverage_view import grid_geojson

    raw = zlib.decompressobj()
    bits = raw.decompress(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)), 600_000)
    if raw.unconsumed_tail or len(bits) * 8 > MAX_CELLS_IN_BOX + 8:
        raise ValueError("too many cells")
    cells = [
        f"{(e0 + i % width) * size}_{(n0 + i // width) * size}"
        for i in range(len(bits) * 8)
        if bits[i // 8] >> (i % 8) & 1
    ]
    data = geojson_bytes(grid_geojson(cells, float(size)))
    return data, gzip.compress(data, 6)


def cells_geojson(cells: list[str], size_m: float) -> str | dict[str, Any]:
    """What a choropleth of grid cells takes as ``geojson``: their URL, or (when the set does
    not fit in a URL) the cells themselves."""
    url = grid_url(cells, size_m)
    if url is not None:
        return url
    from app.coverage_view import grid_geojson

    return grid_geojson(cells, size_m)


# -- serving --------------------------------------------------------------------------------------
def _send(data: bytes, zipped: bytes, *, cache: str) -> flask.Response:
    gz = "gzip" in flask.request.headers.get("Accept-Encoding", "")
    resp = flask.Response(zipped if gz else data, mimetype="application/geo+json")
    if gz:
        resp.headers["Content-Encoding"] = "gzip"
    resp.headers["Vary"] = "Accept-Encoding"
    resp.headers["Cache-Control"] = cache
    return resp


def _serve_districts() -> flask.Response:
    from app.data.state import store

    data, zipped, digest = _districts(store())
    current = flask.request.args.get("v") == digest
    return _send(data, zipped, cache=_CACHE if current else "private, no-cache")


def _serve_grid(size: int, e0: int, n0: int, width: int, token: str) -> flask.Response:
    if size not in SIZES_M or width < 1 or len(token) > MAX_URL:
        flask.abort(404)
    try:
        data, zipped = _grid_bytes(size, e0, n0, width, token)
    except (ValueError, zlib.error):
        flask.abort(404)
    return _send(data, zipped, cache="no-store")


def install_map_assets(server: flask.Flask) -> None:
    """Register the geometry routes on the Flask ``server``."""
    server.add_url_rule(f"{ROUTE}/districts.json", "placemap_geo_districts", _serve_districts)
    server.add_url_rule(
        f"{ROUTE}/grid/<int:size>/<int(signed=True):e0>/<int(signed=True):n0>/<int:width>/"
        "<token>.json",
        "placemap_geo_grid",
        _serve_grid,
    )
