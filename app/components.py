"""Small reusable layout pieces (KPI cards, alerts, banners)."""

from __future__ import annotations

import logging
from typing import Any

import dash_bootstrap_components as dbc
import numpy as np
import pandas as pd
from dash import html

from geo.disclosure import SMALLEST_SHOWN, SUPPRESSED, is_small
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
    """The one-paragraph message of a PlacemapError; a generic message for anything else
    (which is logged with its traceback, never shown to the user)."""
    if isinstance(err, PlacemapError):
        text = " ".join(str(err).split())
    else:
        logging.getLogger("placemap").error("callback failed", exc_info=err)
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


def fmt_children(value: Any, *, exact: bool) -> str:
    """A count of children for display: 1-5 shown as c unless ``exact`` (analysts)."""
    try:
        n = int(value)
    except (TypeError, ValueError):
        return "–"
    return SUPPRESSED if not exact and is_small(n) else f"{n:,}"


def data_table(
    headings: list[str],
    rows: list[Any],
    *,
    numeric_from: int = 1,
    empty: str = "Nothing to show.",
    **kwargs: Any,
) -> Any:
    """A compact table: ``headings`` (columns from ``numeric_from`` on are right-aligned
    numbers) over ``rows`` (``html.Tr``); a short message instead when there are no rows."""
    if not rows:
        return html.P(empty, className="muted")
    head = html.Tr(
        [html.Th(h, className="num" if i >= numeric_from else None) for i, h in enumerate(headings)]
    )
    return dbc.Table(
        [html.Thead(head), html.Tbody(rows)],
        size="sm",
        hover=True,
        className="district-list",
        **kwargs,
    )


def panel(title: str, note: str, body: Any, **kwargs: Any) -> html.Div:
    """A white card with a section title, a muted note and its content."""
    kwargs["className"] = " ".join(["card-panel", kwargs.get("className", "")]).strip()
    return html.Div(
        [html.Div(title, className="section-title"), html.P(note, className="muted"), body],
        **kwargs,
    )


# Carer coverage measures the maps can show: (title, short label, count|ratio, colour scale).
COVERAGE_MEASURES = {
    "children_at_risk": (
        "Children who may not get a suitable place within 20 miles",
        "Children at risk",
        "count",
        "Oranges",
    ),
    "places_per_child_2sfca": (
        "Places per child within 20 miles (2SFCA)",
        "Places per child",
        "ratio",
        "Blues",
    ),
    "places_per_child_e2sfca": (
        "Places per child, distance-weighted (E2SFCA)",
        "Places per child",
        "ratio",
        "Blues",
    ),
    "vacant_suitable_places_per_child": (
        "Vacant suitable places within 20 miles per child",
        "Vacant places per child",
        "ratio",
        "Blues",
    ),
    "children": ("Children in care from each area", "Children", "count", "Purples"),
    "carers": ("Approved fostering households in each area", "Households", "count", "Greens"),
}


def shown_count(v: float) -> str:
    """A count for hover text: 1–5 for a small count (never the exact value), – when unknown."""
    if not np.isfinite(v):
        return "–"
    return f"1–{SMALLEST_SHOWN - 1}" if is_small(v) else f"{int(v):,}"


def area_layer(res: Any, measure: str) -> tuple[pd.DataFrame, pd.Series]:
    """Grid cells with the measure (counts of 1-5 drawn as 3 and labelled 1–5) and hover text."""
    grid = res.areas[res.areas["area_type"].str.startswith("grid")].copy()
    _title, _label, kind, _scale = COVERAGE_MEASURES[measure]
    # children-based measures only where children come from; households where carers live
    grid = grid[grid["carers"] > 0] if measure == "carers" else grid[grid["children"] > 0]
    values = grid[measure].to_numpy(dtype=float)
    if kind == "count":
        grid["value"] = np.where(is_small(values), 3.0, values)
    else:
        grid["value"] = values
    hover = [
        f"<b>5 km square, {r.district_name or 'outside the districts'}</b><br>"
        f"Children from here: {shown_count(r.children)}<br>"
        f"Fostering households here: {shown_count(r.carers)}<br>"
        f"Places per child (2SFCA): {r.places_per_child_2sfca:.2f}<br>"
        f"Children who may go without a suitable place: {shown_count(r.children_at_risk)}"
        for r in grid.itertuples(index=False)
    ]
    return grid, pd.Series(hover, index=grid.index)
