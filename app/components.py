"""Small reusable layout pieces (KPI cards, alerts, banners)."""

from __future__ import annotations

from typing import Any

import dash_bootstrap_components as dbc
from dash import html

from geo.errors import PlacemapError


def kpi(title: str, value: str, detail: str = "", *, colour: str = "light") -> dbc.Col:
    return dbc.Col(
        dbc.Card(
            dbc.CardBody(
                [
                    html.Div(title, className="kpi-title"),
                    html.Div(value, className="kpi-value"),
                    html.Div(detail, className="kpi-detail"),
                ]
            ),
            color=colour,
            className="kpi-card h-100",
        ),
        xs=6,
        md=4,
        xl=2,
        className="mb-2",
    )


def error_alert(err: BaseException) -> dbc.Alert:
    """The one-paragraph message of a PlacemapError; a generic message for anything else."""
    if isinstance(err, PlacemapError):
        text = " ".join(str(err).split())
    else:  # never show a traceback to the user; the server log has it
        text = (
            "Something went wrong while preparing this view. The error has been logged; "
            "try another filter or reload the page."
        )
    return dbc.Alert(
        [html.Strong("Cannot show this view. "), text],
        color="danger",
        className="mb-3",
        id={"type": "error-alert", "index": 0},
    )


def fmt_pct(value: Any) -> str:
    try:
        v = float(value)
    except (TypeError, ValueError):
        return "–"
    return "–" if v != v else f"{v:.1f} %"


def fmt_int(value: Any) -> str:
    try:
        return f"{int(value):,}"
    except (TypeError, ValueError):
        return "–"
