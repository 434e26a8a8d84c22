"""Pure figure builders: data in, ``go.Figure`` out. EPSG:4326 appears here and only here.

Maps use plotly's ``geo`` (SVG, no tiles, nothing fetched) so they work offline; with
``basemap="carto"`` they use MapLibre with the OpenStreetMap/Carto "positron" tiles instead.
Palette, target bands and fonts come from :mod:`app.style` (shared with the reports).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from app.style import BANDS, CONTEXT_FILL, FONT, NO_DATA, OUTLINE, band, band_colour

CARTO_ATTRIBUTION = "© OpenStreetMap contributors © CARTO"


def graph_config(**extra: Any) -> Any:  # dcc.Graph's Config TypedDict
    """dcc.Graph config: no plotly logo, base-map topology from our own assets (offline)."""
    import dash

    return {"displaylogo": False, "topojsonURL": dash.get_asset_url("topojson/"), **extra}


def _luminance(colour: str) -> float:
    """WCAG relative luminance of ``#rrggbb``."""
    rgb = [int(colour.lstrip("#")[i : i + 2], 16) / 255 for i in (0, 2, 4)]
    lin = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in rgb]
    return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]


def contrast_ratio(a: str, b: str) -> float:
    """WCAG contrast ratio of two ``#rrggbb`` colours (1 to 21)."""
    hi, lo = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


def readable_on(background: str) -> str:
    """Near-black or white text, whichever reads better on ``background`` (both pass 4.5:1 on
    every band colour: labels on a map or a bar must, WCAG 1.4.3)."""
    dark, light = "#111111", "#ffffff"
    return dark if contrast_ratio(dark, background) >= contrast_ratio(light, background) else light


def _empty(message: str) -> go.Figure:
    fig = go.Figure()
    fig.add_annotation(
        text=message, showarrow=False, font=dict(size=15), x=0.5, y=0.5, xref="paper", yref="paper"
    )
    fig.update_layout(
        xaxis_visible=False,
        yaxis_visible=False,
        template="plotly_white",
        margin=dict(l=10, r=10, t=40, b=10),
    )
    return fig


def wrap_note(note: str, width: int = 60) -> str:
    """Break a map's source note into lines of at most about ``width`` characters (at spaces),
    joined with ``<br>``, so it stays in the map's corner beside the legend instead of running
    off the left edge."""
    lines: list[str] = []
    for word in note.split():
        if lines and len(lines[-1]) + 1 + len(word) <= width:
            lines[-1] += " " + word
        else:
            lines.append(word)
    return "<br>".join(lines)


def _geo_layout(
    fig: go.Figure, *, title: str, basemap: str, center: dict[str, float] | None, note: str
) -> go.Figure:
    # a long title on two lines, so at 200 % zoom it is not cut at the map's right edge
    title = wrap_note(title, width=48)
    fig.update_layout(
        title=dict(text=title, x=0.01, font=dict(size=16)),
        font=FONT,
        margin=dict(l=0, r=0, t=48 + 20 * title.count("<br>"), b=0),
        # the legend under the map (it wraps when narrow; plotly makes room for it) and the
        # toolbar upright at the right: at 200 % zoom neither covers the title nor the note
        legend=dict(
            orientation="h",
            x=0.0,
            y=0.0,
            yanchor="top",
            bgcolor="rgba(255,255,255,0.85)",
            title=dict(text=""),
        ),
        modebar=dict(orientation="v"),
        paper_bgcolor="white",
        uirevision="keep",
    )
    if basemap == "carto":
        fig.update_layout(map=dict(style="carto-positron", center=center, zoom=8.2))
        note = f"{note} · {CARTO_ATTRIBUTION}" if note else CARTO_ATTRIBUTION
    else:
        fig.update_geos(
            fitbounds="locations", visible=False, projection_type="mercator", bgcolor="white"
        )
    if note:
        fig.add_annotation(
            text=wrap_note(note),
            align="right",
            showarrow=False,
            xref="paper",
            yref="paper",
            x=0.99,
            y=0.0,
            xanchor="right",
            yanchor="bottom",
            font=dict(size=10, color="#555"),
            bgcolor="rgba(255,255,255,0.8)",
        )
    return fig


def outline_lines(
    geojson: dict[str, Any], codes: list[str]
) -> tuple[list[float | None], list[float | None]]:
    """Polygon rings of the features ``codes`` as one line with None breaks (lon, lat)."""
    keep = set(codes)
    lon: list[float | None] = []
    lat: list[float | None] = []
    for f in geojson["features"]:
        if f.get("id") not in keep:
            continue
        geom = f["geometry"]
        polygons = geom["coordinates"] if geom["type"] == "MultiPolygon" else [geom["coordinates"]]
        for polygon in polygons:
            for ring in polygon:
                lon.extend([p[0] for p in ring] + [None])
                lat.extend([p[1] for p in ring] + [None])
    return lon, lat


def _subset(geojson: dict[str, Any], locations: list[str]) -> dict[str, Any]:
    """Only the features a trace draws: each trace carries its own GeoJSON to the browser."""
    keep = set(locations)
    return {
        "type": "FeatureCollection",
        "features": [f for f in geojson["features"] if f.get("id") in keep],
    }


def _choropleth(basemap: str, **kw: Any) -> go.BaseTraceType:
    if "geojson" in kw and "locations" in kw:
        kw["geojson"] = _subset(kw["geojson"], list(kw["locations"]))
    if basemap == "carto":
        kw.pop("geo", None)
        return go.Choroplethmap(**kw)
    return go.Choropleth(**kw)


def _labels(
    basemap: str, lon: list[float], lat: list[float], text: list[str], colours: list[str]
) -> go.BaseTraceType:
    common = dict(
        lon=lon,
        lat=lat,
        text=text,
        mode="text",
        hoverinfo="skip",
        showlegend=False,
        textfont=dict(size=11, color=colours),
    )
    if basemap == "carto":
        return go.Scattermap(**common)
    return go.Scattergeo(**common)


def district_map(
    geojson: dict[str, Any],
    table: pd.DataFrame,
    *,
    value_col: str,
    target: float,
    title: str,
    hover: pd.Series,
    context_codes: list[str],
    label_points: pd.DataFrame | None = None,
    basemap: str = "none",
    note: str = "",
    center: dict[str, float] | None = None,
) -> go.Figure:
    """Choropleth of districts by a percentage, in target bands; context districts greyed.

    ``table`` has ``district_code`` and ``value_col`` (NaN when unknown or suppressed);
    ``hover`` is the hover text per row of ``table``; ``label_points`` (``district_code, lon,
    lat, label``) places district names on the map.
    """
    if table.empty:
        return _empty("No districts to show")
    fig = go.Figure()
    ctx = [c for c in context_codes if c not in set(table["district_code"])]
    if ctx:
        fig.add_trace(
            _choropleth(
                basemap,
                geojson=geojson,
                locations=ctx,
                z=[0] * len(ctx),
                featureidkey="id",
                colorscale=[[0, CONTEXT_FILL], [1, CONTEXT_FILL]],
                showscale=False,
                marker_line_color="#9e9e9e",
                marker_line_width=0.6,
                hoverinfo="skip",
                name="Neighbouring areas (not part of the authority)",
                showlegend=True,
            )
        )
    bands = [band(v, target) for v in table[value_col].to_numpy(dtype=float)]
    for key, colour, label in [*BANDS, NO_DATA]:
        mask = np.array([b == key for b in bands])
        if not mask.any():
            continue
        fig.add_trace(
            _choropleth(
                basemap,
                geojson=geojson,
                locations=table.loc[mask, "district_code"].tolist(),
                z=[1] * int(mask.sum()),
                featureidkey="id",
                colorscale=[[0, colour], [1, colour]],
                showscale=False,
                marker_line_color=OUTLINE,
                marker_line_width=1.2,
                text=hover[mask].tolist(),
                hovertemplate="%{text}<extra></extra>",
                name=label if key == "none" else f"{label} ({target:g} %)",
                showlegend=True,
                customdata=table.loc[mask, "district_code"].tolist(),
            )
        )
    if label_points is not None and len(label_points):
        codes, values = table["district_code"], table[value_col].to_numpy(dtype=float)
        fill = {c: band_colour(v, target) for c, v in zip(codes, values, strict=True)}
        fig.add_trace(
            _labels(
                basemap,
                label_points["lon"].tolist(),
                label_points["lat"].tolist(),
                label_points["label"].tolist(),
                [readable_on(fill.get(c, CONTEXT_FILL)) for c in label_points["district_code"]],
            )
        )
    return _geo_layout(fig, title=title, basemap=basemap, center=center, note=note)


def area_map(
    area_geojson: dict[str, Any],
    areas: pd.DataFrame,
    *,
    value_col: str,
    value_label: str,
    outlines_geojson: dict[str, Any],
    outline_codes: list[str],
    title: str,
    hover: pd.Series,
    colorscale: str = "Viridis",
    basemap: str = "none",
    note: str = "",
    center: dict[str, float] | None = None,
    highlight: pd.DataFrame | None = None,
) -> go.Figure:
    """Small areas (grid cells / sectors) coloured by a measure, district outlines on top.

    ``areas`` has ``area_id`` and ``value_col``; ``highlight`` (``lon, lat, label``) marks
    suggested sites (areas, never people).
    """
    fig = go.Figure()
    fig.add_trace(
        _choropleth(
            basemap,
            geojson=outlines_geojson,
            locations=outline_codes,
            z=[0] * len(outline_codes),
            featureidkey="id",
            colorscale=[[0, "white"], [1, "white"]],
            showscale=False,
            marker_line_color="#9e9e9e",
            marker_line_width=0.5,
            hoverinfo="skip",
            showlegend=False,
        )
    )
    if len(areas):
        fig.add_trace(
            _choropleth(
                basemap,
                geojson=area_geojson,
                locations=areas["area_id"].tolist(),
                z=areas[value_col].to_numpy(dtype=float),
                featureidkey="id",
                colorscale=colorscale,
                marker_line_width=0.2,
                marker_line_color="white",
                text=hover.tolist(),
                hovertemplate="%{text}<extra></extra>",
                customdata=areas["area_id"].tolist(),
                # two short lines under the bar: at 200 % zoom a one-line title ran off the
                # right edge, and above the bar it sat under the upright toolbar
                colorbar=dict(
                    title=dict(text=value_label.replace(" ", "<br>", 1), side="bottom"),
                    thickness=14,
                    len=0.7,
                ),
                name=value_label,
                showlegend=False,
            )
        )
    # District outlines drawn last as lines (not filled shapes, which would take the clicks
    # meant for the cells underneath).
    lon, lat = outline_lines(outlines_geojson, outline_codes)
    line = dict(
        lon=lon,
        lat=lat,
        mode="lines",
        line=dict(color=OUTLINE, width=1.6),
        hoverinfo="skip",
        showlegend=False,
        name="District boundaries",
    )
    fig.add_trace(go.Scattermap(**line) if basemap == "carto" else go.Scattergeo(**line))
    if highlight is not None and len(highlight):
        common = dict(
            lon=highlight["lon"].tolist(),
            lat=highlight["lat"].tolist(),
            # suggested sectors cluster: labels would overlap, so details are in the hover
            mode="markers",
            name="Suggested recruitment areas",
            marker=dict(size=16, color="#e66101", symbol="star", line=dict(color="#222", width=1)),
            hovertext=highlight.get("hover", highlight["label"]).tolist(),
            hoverinfo="text",
        )
        fig.add_trace(go.Scattermap(**common) if basemap == "carto" else go.Scattergeo(**common))
    return _geo_layout(fig, title=title, basemap=basemap, center=center, note=note)


def district_bars(
    table: pd.DataFrame, *, value_col: str, target: float, title: str, value_label: str
) -> go.Figure:
    """Horizontal bars of districts (sorted) with the target as a dashed line."""
    if table.empty:
        return _empty("No districts to show")
    t = table.sort_values(value_col, na_position="first")
    colours = [band_colour(v, target) for v in t[value_col].to_numpy(dtype=float)]
    text = ["c" if not np.isfinite(v) else f"{v:.1f} %" for v in t[value_col].to_numpy(float)]
    fig = go.Figure(
        go.Bar(
            x=t[value_col].fillna(0),
            y=t["district_name"],
            orientation="h",
            marker_color=colours,
            text=text,
            # inside the bar's end (contrasting colour): outside, labels near the target
            # collided with its dashed line
            textposition=[
                "inside" if np.isfinite(v) and v > 0 else "outside"
                for v in t[value_col].to_numpy(float)
            ],  # a suppressed (c) or zero bar has no inside: its label goes beside it
            insidetextanchor="end",
            insidetextfont=dict(color=[readable_on(c) for c in colours]),
            constraintext="none",
            cliponaxis=False,
            hovertemplate="%{y}: %{text}<extra></extra>",
            name=value_label,
        )
    )
    fig.add_vline(
        x=target,
        line_dash="dash",
        line_color="#222",
        layer="below",  # behind the bars and their labels, visible between them
        annotation_text=f"Target {target:g} %",
        annotation_position="top",
    )
    fig.update_layout(
        title=dict(text=title, x=0.01),
        font=FONT,
        template="plotly_white",
        xaxis=dict(title=value_label, range=[0, 105], ticksuffix=" %"),
        yaxis=dict(title=""),
        margin=dict(l=10, r=30, t=60, b=40),
        height=max(320, 30 * len(t) + 120),
        showlegend=False,
    )
    return fig


def trend_lines(trend: pd.DataFrame, *, title: str, target: float, highlight: str) -> go.Figure:
    """% within the threshold by quarter: the authority bold, districts thin (``trend`` has
    ``quarter_end, district_name, pct``; ``highlight`` is the authority's row name)."""
    if trend.empty:
        return _empty("Not enough episode history for a trend")
    fig = go.Figure()
    for name, part in trend.groupby("district_name", sort=False):
        main = name == highlight
        fig.add_trace(
            go.Scatter(
                x=part["quarter_end"],
                y=part["pct"],
                mode="lines+markers" if main else "lines",
                name=str(name),
                line=dict(width=4 if main else 1.4, color="#222" if main else None),
                opacity=1 if main else 0.7,
                hovertemplate=f"{name}<br>%{{x|%d %b %Y}}: %{{y:.1f}} %<extra></extra>",
            )
        )
    fig.add_hline(
        y=target,
        line_dash="dash",
        line_color="#5e3c99",
        annotation_text=f"Target {target:g} %",
        annotation_position="bottom right",
    )
    fig.update_layout(
        title=dict(text=title, x=0.01),
        font=FONT,
        template="plotly_white",
        yaxis=dict(title="% within the distance", ticksuffix=" %", automargin=True),
        xaxis=dict(title="Quarter end", automargin=True),
        margin=dict(l=10, r=10, t=60, b=40),
        legend=dict(font=dict(size=11)),
        height=420,
    )
    return fig
