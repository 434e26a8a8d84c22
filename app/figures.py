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
OUTSIDE_AREA = "Outside the selected area"
OUTSIDE_FILL = "#fbfbfb"  # with grey hatching: not the "no data" grey, not a neighbour's fill
TREND_LINE = "#1d4f91"  # a district's own line in its small panel
TOTAL_LINE = "#9e9e9e"  # the authority total, the grey reference line in every panel


# What a map takes from plotly's default template, and no more: the whole default template
# is about 8 KB of JSON in every figure sent to the browser.
MAP_TEMPLATE = go.layout.Template(
    layout=dict(
        font=dict(color="#2a3f5f"),
        hoverlabel=dict(align="left"),
        paper_bgcolor="white",
        plot_bgcolor="white",
    ),
    data=dict(
        choropleth=[go.Choropleth(colorbar=dict(outlinewidth=0, ticks=""))],
        choroplethmap=[go.Choroplethmap(colorbar=dict(outlinewidth=0, ticks=""))],
    ),
)


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
    fig: go.Figure,
    *,
    title: str,
    basemap: str,
    center: dict[str, float] | None,
    note: str,
    bounds: dict[str, list[float]] | None = None,
) -> go.Figure:
    # a long title on two lines, so at 200 % zoom it is not cut at the map's right edge
    title = wrap_note(title, width=48)
    fig.update_layout(
        template=MAP_TEMPLATE,
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
        autosize=True,  # the map fills its panel (the graph's height comes from the page CSS)
    )
    if basemap == "carto":
        if center is None and bounds is not None:
            center = {"lon": sum(bounds["lon"]) / 2, "lat": sum(bounds["lat"]) / 2}
        fig.update_layout(map=dict(style="carto-positron", center=center, zoom=8.2))
        note = f"{note} · {CARTO_ATTRIBUTION}" if note else CARTO_ATTRIBUTION
    elif bounds is not None:
        # the authority fills the panel; neighbours are cut at its edge (fitting every drawn
        # shape, neighbours included, left the authority small in the middle)
        fig.update_geos(
            fitbounds=False,
            visible=False,
            projection_type="mercator",
            bgcolor="white",
            lonaxis_range=bounds["lon"],
            lataxis_range=bounds["lat"],
        )
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
    geojson: dict[str, Any], codes: list[str], *, digits: int = 4, tolerance: float = 0.0015
) -> tuple[list[float | None], list[float | None]]:
    """Polygon rings of the features ``codes`` as one line with None breaks (lon, lat),
    simplified within ``tolerance`` degrees (about 100-170 m: a pixel of a county map),
    rings smaller than that (specks of coast) left out, and rounded to ``digits`` decimals, so
    the lines stay a small part of the figure."""
    import shapely

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
                line = shapely.LineString(ring)
                if tolerance:
                    x0, y0, x1, y1 = line.bounds
                    if max(x1 - x0, y1 - y0) < 2 * tolerance:
                        continue
                    line = shapely.simplify(line, tolerance)
                points = shapely.get_coordinates(line)
                lon.extend([round(float(p[0]), digits) for p in points] + [None])
                lat.extend([round(float(p[1]), digits) for p in points] + [None])
    return lon, lat


def _subset(geojson: dict[str, Any], locations: list[str]) -> dict[str, Any]:
    """Only the features a trace draws: each trace carries its own GeoJSON to the browser."""
    keep = set(locations)
    return {
        "type": "FeatureCollection",
        "features": [f for f in geojson["features"] if f.get("id") in keep],
    }


def _choropleth(basemap: str, **kw: Any) -> go.BaseTraceType:
    # GeoJSON given as a URL (app.map_assets) is fetched once by the browser, whole
    if isinstance(kw.get("geojson"), dict) and "locations" in kw:
        kw["geojson"] = _subset(kw["geojson"], list(kw["locations"]))
    if basemap == "carto":
        kw.pop("geo", None)
        return go.Choroplethmap(**kw)
    return go.Choropleth(**kw)


def district_names(
    label_points: pd.DataFrame | None,
    *,
    basemap: str = "none",
    fills: dict[str, str] | None = None,
) -> list[go.BaseTraceType]:
    """The district-name layer of any map: traces to add last (``fig.add_traces``).

    ``label_points`` (``district_code, lon, lat, label`` and, from
    :func:`app.map_labels.district_labels`, ``leader, anchor_lon, anchor_lat``) says where each
    name goes; ``fills`` the colour under each district's name, from which the text colour is
    chosen (light on dark, dark on light); without it (a map of small areas, whose colours vary
    under a name) the names are dark with a white halo. Names placed outside their district
    get a thin leader line to it."""
    if label_points is None or not len(label_points):
        return []
    traces: list[go.BaseTraceType] = []
    if "leader" in label_points and label_points["leader"].any():
        lead = label_points[label_points["leader"].astype(bool)]
        lon: list[float | None] = []
        lat: list[float | None] = []
        for r in lead.to_dict(orient="records"):
            lon += [float(r["anchor_lon"]), float(r["lon"]), None]
            lat += [float(r["anchor_lat"]), float(r["lat"]), None]
        line = dict(
            lon=lon,
            lat=lat,
            mode="lines",
            line=dict(color="#333", width=0.8),
            hoverinfo="skip",
            showlegend=False,
            name="Name of a small district",
        )
        traces.append(go.Scattermap(**line) if basemap == "carto" else go.Scattergeo(**line))
    codes = label_points["district_code"].tolist()
    if fills is None:
        colours = ["#111111"] * len(codes)
        shadow = "1px 1px 2px #fff, -1px -1px 2px #fff, 1px -1px 2px #fff, -1px 1px 2px #fff"
    else:
        colours = [readable_on(fills.get(c, CONTEXT_FILL)) for c in codes]
        shadow = "none"
    leader = (
        label_points["leader"].astype(bool).tolist()
        if "leader" in label_points
        else [False] * len(codes)
    )
    # a name outside its district sits on white: always dark
    colours = ["#111111" if out else c for c, out in zip(colours, leader, strict=True)]
    common = dict(
        lon=label_points["lon"].tolist(),
        lat=label_points["lat"].tolist(),
        text=label_points["label"].tolist(),
        mode="text",
        hoverinfo="skip",
        showlegend=False,
        name="District names",
    )
    if basemap == "carto":
        traces.append(go.Scattermap(**common, textfont=dict(size=11, color=colours)))
    else:
        traces.append(go.Scattergeo(**common, textfont=dict(size=11, color=colours, shadow=shadow)))
    return traces


def district_map(
    geojson: dict[str, Any] | str,
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
    bounds: dict[str, list[float]] | None = None,
    outside_codes: list[str] | None = None,
    outside_hatch: tuple[list[float | None], list[float | None]] | None = None,
) -> go.Figure:
    """Choropleth of districts by a percentage, in target bands; context districts greyed.

    ``table`` has ``district_code`` and ``value_col`` (NaN when unknown or suppressed);
    ``hover`` is the hover text per row of ``table``; ``label_points`` (see
    :func:`district_names`) places district names on the map; ``bounds`` (lon/lat ranges)
    is what the map shows. ``outside_codes`` are the authority's districts outside a selected
    area: drawn light and hatched (``outside_hatch``, lon/lat lines), with their own legend
    entry, never as a district with no children.
    """
    if table.empty:
        return _empty("No districts to show")
    fig = go.Figure()
    outside = [c for c in outside_codes or [] if c not in set(table["district_code"])]
    ctx = [c for c in context_codes if c not in set(table["district_code"]) | set(outside)]
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
    if outside:
        fig.add_trace(
            _choropleth(
                basemap,
                geojson=geojson,
                locations=outside,
                z=[0] * len(outside),
                featureidkey="id",
                colorscale=[[0, OUTSIDE_FILL], [1, OUTSIDE_FILL]],
                showscale=False,
                marker_line_color=OUTLINE,
                marker_line_width=0.8,
                hoverinfo="skip",
                name=OUTSIDE_AREA,
                showlegend=outside_hatch is None,
            )
        )
        if outside_hatch is not None:
            hatch = dict(
                lon=outside_hatch[0],
                lat=outside_hatch[1],
                mode="lines",
                line=dict(color="#a3a3a3", width=0.7),
                hoverinfo="skip",
                name=OUTSIDE_AREA,
                showlegend=True,
            )
            fig.add_trace(go.Scattermap(**hatch) if basemap == "carto" else go.Scattergeo(**hatch))
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
    codes, values = table["district_code"], table[value_col].to_numpy(dtype=float)
    fill = {c: band_colour(v, target) for c, v in zip(codes, values, strict=True)}
    fill.update({c: OUTSIDE_FILL for c in outside})
    fig.add_traces(district_names(label_points, basemap=basemap, fills=fill))
    return _geo_layout(fig, title=title, basemap=basemap, center=center, note=note, bounds=bounds)


def area_map(
    area_geojson: dict[str, Any] | str,
    areas: pd.DataFrame,
    *,
    value_col: str,
    value_label: str,
    outlines_geojson: dict[str, Any],
    outline_codes: list[str],
    outlines_url: str | None = None,
    line_codes: list[str] | None = None,
    title: str,
    hover: pd.Series,
    colorscale: str = "Viridis",
    basemap: str = "none",
    note: str = "",
    center: dict[str, float] | None = None,
    highlight: pd.DataFrame | None = None,
    label_points: pd.DataFrame | None = None,
    bounds: dict[str, list[float]] | None = None,
) -> go.Figure:
    """Small areas (grid cells / sectors) coloured by a measure, district outlines on top.

    ``areas`` has ``area_id`` and ``value_col``; ``highlight`` (``lon, lat, label``) marks
    suggested sites (areas, never people); ``label_points`` names the districts (see
    :func:`district_names`); ``bounds`` (lon/lat ranges) is what the map shows.
    ``area_geojson`` and ``outlines_url`` may be URLs (:mod:`app.map_assets`): the browser
    fetches the shapes once. The boundary lines drawn over the areas are those of
    ``line_codes`` (default: every outline).
    """
    fig = go.Figure()
    fig.add_trace(
        _choropleth(
            basemap,
            geojson=outlines_url or outlines_geojson,
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
    lon, lat = outline_lines(outlines_geojson, outline_codes if line_codes is None else line_codes)
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
    fig.add_traces(district_names(label_points, basemap=basemap))
    return _geo_layout(fig, title=title, basemap=basemap, center=center, note=note, bounds=bounds)


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


def quarter_ticks(quarters: list[Any], *, short: bool = False) -> tuple[list[Any], list[str]]:
    """Tick positions and labels at the quarter ends themselves ("Mar 2017" … "Dec 2018"):
    plotly's automatic date ticks fall on the first of the next month ("Apr 2017")."""
    stamps = sorted({pd.Timestamp(q) for q in quarters})
    fmt = "%b<br>%Y" if short else "%b %Y"
    return stamps, [f"{q:{fmt}}" for q in stamps]


def trend_panels(
    trend: pd.DataFrame, *, title: str, target: float, total_name: str, columns: int = 4
) -> go.Figure:
    """Small multiples: % within the distance by quarter, one small panel per district (its
    own line, in one colour) with the authority total as the same grey reference line in every
    panel and the target dashed. ``trend`` has ``quarter_end, district_name, pct``
    (NaN where suppressed: the line breaks there); ``total_name`` is the authority's row."""
    if trend.empty:
        return _empty("Not enough episode history for a trend")
    from plotly.subplots import make_subplots

    total = trend[trend["district_name"] == total_name]
    names = [n for n in dict.fromkeys(trend["district_name"]) if n != total_name]
    rows = max(1, -(-len(names) // columns))
    fig = make_subplots(
        rows=rows,
        cols=columns,
        shared_xaxes=True,
        shared_yaxes=True,
        subplot_titles=names,
        vertical_spacing=0.5 / max(rows, 1) / 2.2,
        horizontal_spacing=0.02,
    )
    ticks, labels = quarter_ticks(trend["quarter_end"].tolist(), short=True)
    for i, name in enumerate(names):
        row, col = i // columns + 1, i % columns + 1
        part = trend[trend["district_name"] == name]
        fig.add_trace(
            go.Scatter(
                x=total["quarter_end"],
                y=total["pct"],
                mode="lines",
                line=dict(color=TOTAL_LINE, width=2),
                name=total_name,
                legendgroup="total",
                showlegend=i == 0,
                hovertemplate=f"{total_name}<br>%{{x|%d %b %Y}}: %{{y:.1f}} %<extra></extra>",
            ),
            row=row,
            col=col,
        )
        fig.add_trace(
            go.Scatter(
                x=part["quarter_end"],
                y=part["pct"],
                mode="lines+markers",
                line=dict(color=TREND_LINE, width=2.4),
                marker=dict(size=4),
                name=str(name),
                legendgroup="district",
                showlegend=False,
                hovertemplate=f"{name}<br>%{{x|%d %b %Y}}: %{{y:.1f}} %<extra></extra>",
            ),
            row=row,
            col=col,
        )
        fig.add_hline(
            y=target, line_dash="dash", line_color="#5e3c99", line_width=1, row=row, col=col
        )
    # one legend entry for "the district in its panel" (the lines themselves carry no legend)
    fig.add_trace(
        go.Scatter(
            x=[None],
            y=[None],
            mode="lines",
            line=dict(color=TREND_LINE, width=2.4),
            name="The panel's district",
            hoverinfo="skip",
        )
    )
    fig.add_trace(
        go.Scatter(
            x=[None],
            y=[None],
            mode="lines",
            line=dict(color="#5e3c99", width=1, dash="dash"),
            name=f"Target {target:g} %",
            hoverinfo="skip",
        )
    )
    fig.update_xaxes(tickvals=ticks, ticktext=labels, tickfont=dict(size=9), showgrid=True)
    values = trend["pct"].to_numpy(dtype=float)
    values = values[np.isfinite(values)]
    low = min(float(values.min()) if len(values) else target, target) - 3
    high = max(float(values.max()) if len(values) else target, target) + 3
    # one scale in every panel, so a district's level can be compared across panels
    fig.update_yaxes(
        ticksuffix=" %", tickfont=dict(size=10), showgrid=True, range=[max(0, low), min(100, high)]
    )
    fig.update_annotations(font=dict(size=12))
    fig.update_layout(
        title=dict(text=title, x=0.01),
        font=FONT,
        template="plotly_white",
        margin=dict(l=10, r=10, t=90, b=30),
        legend=dict(orientation="h", x=1, xanchor="right", y=1, yanchor="top", yref="container"),
        height=170 * rows + 130,
    )
    return fig
