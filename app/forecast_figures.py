"""Pure figure builders for the Forecast page: a fan table in (rows of one area from
:func:`app.forecast_view.fan_table`), a ``go.Figure`` out.

The fan chart draws the recorded quarterly counts as a solid line, the expected value as a
dashed line and the 80 % interval as a shaded band. A value hidden by disclosure control is NaN
in the rows and leaves a gap: nothing is drawn for it (the table beside says ``c``).
"""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from app.style import FONT, MUTED, TEXT

RECORDED = "#1a1a1a"
EXPECTED = "#5e3c99"  # ColorBrewer PuOr purple, as the Benchmark page's highlight
BAND = "rgba(94, 60, 153, 0.18)"


def _empty(message: str) -> go.Figure:
    fig = go.Figure()
    fig.add_annotation(
        text=message, showarrow=False, x=0.5, y=0.5, xref="paper", yref="paper", font=FONT
    )
    fig.update_layout(
        template="plotly_white",
        xaxis=dict(visible=False),
        yaxis=dict(visible=False),
        height=360,
        margin=dict(l=10, r=10, t=30, b=10),
    )
    return fig


def fan_chart(rows: pd.DataFrame, *, title: str) -> go.Figure:
    """Children looked after by quarter end for one area: ``rows`` has ``quarter_end`` (ISO
    date), ``recorded`` (bool), ``children``, ``lower_80``, ``upper_80`` (whole numbers, NaN
    where hidden). The last recorded quarter starts the forecast lines, so they join."""
    if rows.empty or rows["children"].isna().all():
        return _empty("No figures to show for this area (none, or hidden to protect small numbers)")
    r = rows.assign(quarter_end=pd.to_datetime(rows["quarter_end"]))
    past = r[r["recorded"]]
    ahead = pd.concat([past.tail(1), r[~r["recorded"]]])
    band = r[~r["recorded"]]
    fig = go.Figure()
    fig.add_trace(
        go.Scatter(
            x=list(band["quarter_end"]) + list(band["quarter_end"][::-1]),
            y=list(band["upper_80"]) + list(band["lower_80"][::-1]),
            fill="toself",
            fillcolor=BAND,
            line=dict(width=0),
            name="80 % interval",
            hoverinfo="skip",
        )
    )
    fig.add_trace(
        go.Scatter(
            x=past["quarter_end"],
            y=past["children"],
            mode="lines+markers",
            name="Recorded",
            line=dict(color=RECORDED, width=3),
            hovertemplate="%{x|%d %b %Y}: %{y:,} children (recorded)<extra></extra>",
        )
    )
    fig.add_trace(
        go.Scatter(
            x=ahead["quarter_end"],
            y=ahead["children"],
            mode="lines+markers",
            name="Expected",
            line=dict(color=EXPECTED, width=3, dash="dash"),
            customdata=ahead[["lower_80", "upper_80"]].to_numpy(),
            hovertemplate="%{x|%d %b %Y}: %{y:,} expected "
            "(80 %: %{customdata[0]:,}-%{customdata[1]:,})<extra></extra>",
        )
    )
    fig.update_layout(
        title=dict(text=title, x=0.01, font=dict(color=TEXT)),
        font=FONT,
        template="plotly_white",
        yaxis=dict(title="Children looked after", rangemode="tozero", automargin=True),
        xaxis=dict(title="Quarter end", automargin=True),
        legend=dict(orientation="h", y=-0.25, font=dict(size=11, color=MUTED)),
        margin=dict(l=10, r=10, t=50, b=40),
        height=380,
    )
    return fig
