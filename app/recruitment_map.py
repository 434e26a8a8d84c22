"""The recruitment map's own marks: the suggested sectors as numbered stars (the numbers of the
list beside the map) and the hypothetical households as diamonds. Both are areas, never people,
and every mark carries the id of the 5 km square it sits in (``customdata``), so clicking a star
or a diamond adds or removes a household there exactly as clicking the square does."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from geo.spatial import grid_cell

# Dark blue with a white rim and white numbers: it stands out on every shade of the orange
# scale (and on white), for colour-blind readers too (blue against orange).
STAR_FILL = "#08306b"
HOUSEHOLD_FILL = "#5e3c99"
# A 28 px star on a county map (about 150 m a pixel) covers about 4 km: stars of sectors nearer
# than this are spread apart so each number can be read.
STAR_SPACING_M = 4500.0


def dodge(
    easting_m: np.ndarray, northing_m: np.ndarray, *, spacing_m: float = STAR_SPACING_M
) -> tuple[np.ndarray, np.ndarray]:
    """Where to draw marks at (``easting_m``, ``northing_m``) so that none hides another.

    Marks nearer than ``spacing_m`` to one another (chained: single linkage) form a group,
    and a group's marks are laid on a circle round the group's centre, ``spacing_m`` apart, in
    the order given (the first at twelve o'clock, then clockwise); a mark on its own stays
    where it is. Deterministic; NaN positions are left as they are."""
    e = np.asarray(easting_m, dtype=float).copy()
    n = np.asarray(northing_m, dtype=float).copy()
    ok = np.flatnonzero(np.isfinite(e) & np.isfinite(n))
    parent = {int(i): int(i) for i in ok}

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for a_pos, a in enumerate(ok):
        for b in ok[a_pos + 1 :]:
            if np.hypot(e[a] - e[b], n[a] - n[b]) < spacing_m:
                ra, rb = root(int(a)), root(int(b))
                if ra != rb:
                    parent[max(ra, rb)] = min(ra, rb)
    groups: dict[int, list[int]] = {}
    for i in ok:
        groups.setdefault(root(int(i)), []).append(int(i))
    out_e, out_n = e.copy(), n.copy()
    for members in groups.values():
        k = len(members)
        if k == 1:
            continue
        ce, cn = e[members].mean(), n[members].mean()
        radius = spacing_m / (2.0 * np.sin(np.pi / k))
        for j, member in enumerate(members):
            angle = 2.0 * np.pi * j / k
            out_e[member] = ce + radius * np.sin(angle)
            out_n[member] = cn + radius * np.cos(angle)
    return out_e, out_n


def square_of(easting_m: np.ndarray, northing_m: np.ndarray, *, size_m: float) -> list[str]:
    """The id of the grid square (``"E_N"``, south-west corner) holding each point."""
    return [str(c) for c in grid_cell(easting_m, northing_m, size_m=size_m)]


def suggestion_stars(stars: pd.DataFrame, *, basemap: str) -> go.BaseTraceType:
    """Numbered stars: ``stars`` has ``lon, lat, number, hover, square`` (one row per
    suggested sector, numbered as in the list)."""
    common = dict(
        lon=stars["lon"].tolist(),
        lat=stars["lat"].tolist(),
        mode="markers+text",
        name="Suggested recruitment areas (numbered as in the list)",
        text=[str(n) for n in stars["number"]],
        textposition="middle center",
        textfont=dict(color="white", size=11, family="Arial Black, Arial, sans-serif"),
        marker=dict(size=28, color=STAR_FILL, symbol="star", line=dict(color="white", width=2)),
        hovertext=stars["hover"].tolist(),
        hoverinfo="text",
        customdata=stars["square"].tolist(),
    )
    return go.Scattermap(**common) if basemap == "carto" else go.Scattergeo(**common)


def household_markers(
    lon: list[float], lat: list[float], squares: list[str], *, basemap: str
) -> go.BaseTraceType:
    """Diamonds at the centres of the squares where hypothetical households were added."""
    common = dict(
        lon=lon,
        lat=lat,
        mode="markers",
        name="Hypothetical households",
        marker=dict(
            size=14, color=HOUSEHOLD_FILL, symbol="diamond", line=dict(color="white", width=1.5)
        ),
        hovertext=[f"Your hypothetical household(s) in this square ({s})" for s in squares],
        hoverinfo="text",
        customdata=squares,
    )
    return go.Scattermap(**common) if basemap == "carto" else go.Scattergeo(**common)


def clicked_square(click: dict[str, Any] | None, is_square: Any) -> str | None:
    """The square a click landed on: a square's own id (``location``) or the id a star or a
    diamond carries (``customdata``); None when the click hit nothing of the kind."""
    for point in (click or {}).get("points", []):
        for key in ("location", "customdata"):
            value = point.get(key)
            if isinstance(value, list) and len(value) == 1:
                value = value[0]
            if is_square(value):
                return str(value)
    return None
