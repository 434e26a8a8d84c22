"""Pure figure and table builders for the Benchmark page: a long benchmark table in
(:data:`geo.measures.BENCHMARK_COLUMNS`), a ``go.Figure`` or rows of text out.

Every chart has a table equivalent built from the same rows (:func:`neighbour_rows`,
:func:`trend_rows`), so a screen-reader user and a sighted user read the same figures. DfE
symbols stay symbols: a neighbour shown as ``c`` has no bar, and its label says ``c``.
"""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from app.style import FONT, MUTED, TEXT
from geo.measures import MEASURES

HIGHLIGHT = "#5e3c99"  # the authority (ColorBrewer PuOr, as the target bands)
NEIGHBOUR = "#b2abd2"
MEDIAN = "#e66101"
REGION = "#fdb863"
ENGLAND = "#1a1a1a"
SYMBOL_MEANING = {
    "c": "suppressed",
    "z": "not applicable",
    "x": "not available",
    "k": "less than 0.5",
    "u": "low reliability",
    "": "not published",
}
_LABEL = {m.name: m.label for m in MEASURES}
_UNIT = {m.name: m.unit for m in MEASURES}


def _number(value: object) -> float | None:
    try:
        return float(str(value))
    except ValueError:
        return None


def shown(value: object) -> str:
    """A published value as text: the number, or the symbol with its meaning."""
    text = str(value)
    if _number(text) is not None:
        return text
    return f"{text} ({SYMBOL_MEANING[text]})" if text in SYMBOL_MEANING else text


def neighbour_rows(bench: pd.DataFrame, *, measure: str, year: int) -> pd.DataFrame:
    """The authority, its neighbours (highest value first, symbols last), their median, region
    and England for one measure and year: ``area_type, area_name, value, text``."""
    g = bench[(bench["measure"] == measure) & (bench["year"] == year)]
    g = g[g["area_type"] != "own_data"].copy()
    g["number"] = g["value"].map(_number)
    ranked = g[g["area_type"].isin(["authority", "statistical_neighbour"])]
    ranked = ranked.sort_values("number", ascending=False, na_position="last", kind="stable")
    others = g[~g["area_type"].isin(["authority", "statistical_neighbour"])]
    out = pd.concat([ranked, others])
    out["text"] = out["value"].map(shown)
    return out[["area_type", "area_name", "value", "number", "text"]].reset_index(drop=True)


def neighbour_bars(bench: pd.DataFrame, *, measure: str, year: int) -> go.Figure:
    """Ranked horizontal bars: the authority (dark) among its neighbours (light), with the
    neighbours' median, the region and England as labelled vertical lines."""
    rows = neighbour_rows(bench, measure=measure, year=year)
    bars = rows[rows["area_type"].isin(["authority", "statistical_neighbour"])].iloc[::-1]
    fig = go.Figure(
        go.Bar(
            x=bars["number"].fillna(0),
            y=bars["area_name"],
            orientation="h",
            marker_color=[HIGHLIGHT if t == "authority" else NEIGHBOUR for t in bars["area_type"]],
            text=bars["text"],
            textposition="outside",
            cliponaxis=False,
            hovertemplate="%{y}: %{text}<extra></extra>",
            name="Authority and statistical neighbours",
        )
    )
    styles = {
        "statistical_neighbours_median": (MEDIAN, "dash", "Neighbours' median"),
        "region": (REGION, "dot", "Region"),
        "england": (ENGLAND, "dashdot", "England"),
    }
    positions = ["top", "bottom", "top left"]
    for i, (area_type, (colour, dash, label)) in enumerate(styles.items()):
        hit = rows[rows["area_type"] == area_type]
        if hit.empty or hit["number"].isna().all():
            continue
        value = float(hit["number"].iloc[0])
        fig.add_vline(
            x=value,
            line_dash=dash,
            line_color=colour,
            line_width=2,
            annotation_text=f"{label} {hit['value'].iloc[0]}",
            annotation_position=positions[i],
            annotation_font_color=TEXT,
        )
    unit = _UNIT.get(measure, "")
    top = max([v for v in rows["number"].dropna()] + [1.0])
    fig.update_layout(
        title=dict(text=f"{_LABEL.get(measure, measure)}, {year}", x=0.01),
        font=FONT,
        template="plotly_white",
        xaxis=dict(title=unit, range=[0, top * 1.18], ticksuffix=" %" if unit == "%" else ""),
        yaxis=dict(title=""),
        margin=dict(l=10, r=30, t=70, b=40),
        height=max(360, 30 * len(bars) + 140),
        showlegend=False,
    )
    return fig


TREND_AREAS = (
    ("authority", HIGHLIGHT, "solid", 4),
    ("statistical_neighbours_median", MEDIAN, "dash", 2.5),
    ("region", REGION, "dot", 2.5),
    ("england", ENGLAND, "dashdot", 2),
)


def trend_rows(bench: pd.DataFrame, *, measure: str) -> pd.DataFrame:
    """One row per year: the authority, the neighbours' median, the region and England (and the
    authority's own data where it has any) as published text."""
    g = bench[bench["measure"] == measure]
    wide = g[g["area_type"] != "statistical_neighbour"].pivot_table(
        index="year", columns="area_type", values="value", aggfunc="first"
    )
    cols = [a for a, *_ in TREND_AREAS] + ["own_data"]
    return wide.reindex(columns=[c for c in cols if c in wide.columns]).reset_index().fillna("")


def trend_lines(bench: pd.DataFrame, *, measure: str, authority: str) -> go.Figure:
    """The measure over every published year: the authority bold, its neighbours' median,
    region and England; symbols leave a gap (never drawn as 0)."""
    fig = go.Figure()
    names = {
        "authority": authority,
        "statistical_neighbours_median": "Neighbours' median",
        "region": "Region",
        "england": "England",
    }
    for area_type, colour, dash, width in TREND_AREAS:
        part = bench[(bench["measure"] == measure) & (bench["area_type"] == area_type)]
        part = part.sort_values("year")
        if part.empty:
            continue
        fig.add_trace(
            go.Scatter(
                x=part["year"],
                y=part["value"].map(_number),
                text=part["value"].map(shown),
                mode="lines+markers",
                name=names[area_type],
                line=dict(color=colour, dash=dash, width=width),
                hovertemplate=f"{names[area_type]}, %{{x}}: %{{text}}<extra></extra>",
            )
        )
    unit = _UNIT.get(measure, "")
    fig.update_layout(
        title=dict(text=f"{_LABEL.get(measure, measure)}, by year ending 31 March", x=0.01),
        font=FONT,
        template="plotly_white",
        yaxis=dict(title=unit, rangemode="tozero", ticksuffix=" %" if unit == "%" else ""),
        xaxis=dict(title="Year ending 31 March", dtick=1),
        margin=dict(l=10, r=10, t=60, b=40),
        legend=dict(font=dict(size=12, color=MUTED)),
        height=380,
    )
    return fig
