"""Small reusable layout pieces (KPI cards, alerts, banners)."""

from __future__ import annotations

import logging
from typing import Any

import dash_bootstrap_components as dbc
from dash import html

from geo.disclosure.suppression import SUPPRESSED, is_small
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
