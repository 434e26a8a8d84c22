"""Small reusable layout pieces (KPI cards, alerts, banners, labelled controls, figures with a
table equivalent, live regions)."""

from __future__ import annotations

import logging
from typing import Any

import dash_bootstrap_components as dbc
import numpy as np
import pandas as pd
from dash import html

from geo.disclosure import SMALLEST_SHOWN, SUPPRESSED, is_small
from geo.errors import PlacemapError

# Attributes Dash passes through as written (aria-*, data-*); typed loosely for ``**`` use.
ARIA_HIDDEN: dict[str, Any] = {"aria-hidden": "true"}


def attrs(values: dict[str, str]) -> dict[str, Any]:
    """``aria-*`` / ``data-*`` attributes for a ``dash.html`` component (``**attrs({...})``)."""
    return dict(values)


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
        [
            html.Th(h, className="num" if i >= numeric_from else None, scope="col")
            for i, h in enumerate(headings)
        ]
    )
    caption = kwargs.pop("caption", None)
    table = dbc.Table(
        ([html.Caption(caption)] if caption else []) + [html.Thead(head), html.Tbody(rows)],
        size="sm",
        hover=True,
        className="district-list",
        **kwargs,
    )
    return scroll_box(table, label=caption or f"Table: {', '.join(headings)}")


def scroll_box(table: Any, *, label: str) -> html.Div:
    """A table in its own scrolling box: at 320 CSS px (or 400 % zoom) a wide table scrolls
    sideways inside it while the page reflows (WCAG 1.4.10); a named region the keyboard can
    reach, so it can be scrolled without a mouse (2.1.1)."""
    return html.Div(
        table, className="table-scroll", tabIndex="0", role="region", **attrs({"aria-label": label})
    )


def panel(title: str, note: str, body: Any, **kwargs: Any) -> html.Div:
    """A white card with a section heading, a muted note and its content."""
    kwargs["className"] = " ".join(["card-panel", kwargs.get("className", "")]).strip()
    return html.Div(
        [html.H2(title, className="section-title"), html.P(note, className="muted"), body],
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


_GRID_LETTERS = "ABCDEFGHJKLMNOPQRSTUVWXYZ"  # the National Grid's alphabet has no I


def grid_reference(cell: str) -> str:
    """The OS National Grid reference (to 1 km) of a grid cell's south-west corner:
    ``"555000_160000"`` -> ``"TQ 55 60"``; the id itself when it is not ``easting_northing``."""
    try:
        e, n = (int(float(x)) for x in cell.split("_"))
    except ValueError:
        return cell
    e100, n100 = e // 100_000, n // 100_000
    if not (0 <= e100 < 7 and 0 <= n100 < 13):
        return cell
    first = (19 - n100) - (19 - n100) % 5 + (e100 + 10) // 5
    second = (19 - n100) * 5 % 25 + e100 % 5
    letters = _GRID_LETTERS[first] + _GRID_LETTERS[second]
    return f"{letters} {e % 100_000 // 1000:02d} {n % 100_000 // 1000:02d}"


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
    text = square_figures(grid, measure)
    hover = [
        f"<b>5 km square {sq}, {district}</b><br>"
        f"Children from here: {children}<br>"
        f"Fostering households here: {households}<br>"
        f"Places per child (2SFCA): {ppc}<br>"
        f"Children who may go without a suitable place: {at_risk}"
        for sq, district, children, households, ppc, at_risk in zip(
            *(text[c] for c in text.columns[:6]), strict=True
        )
    ]
    return grid, pd.Series(hover, index=grid.index)


def square_figures(grid: pd.DataFrame, measure: str) -> pd.DataFrame:
    """The 5 km squares' figures as the page shows them (hover and "Show as table" alike):
    counts of 1-5 as a range, never the exact value; ratios to two decimals."""
    columns = {
        "Square": [grid_reference(str(c)) for c in grid["area_id"]],
        "District": [
            "outside the districts" if pd.isna(d) or not d else str(d)
            for d in grid["district_name"]
        ],
        "Children": [shown_count(float(v)) for v in grid["children"]],
        "Households": [shown_count(float(v)) for v in grid["carers"]],
        "Places per child (2SFCA)": [_ratio(v) for v in grid["places_per_child_2sfca"]],
        "Children at risk": [shown_count(float(v)) for v in grid["children_at_risk"]],
    }
    title, label, kind, _scale = COVERAGE_MEASURES[measure]
    if measure not in ("children", "carers", "children_at_risk", "places_per_child_2sfca"):
        columns[label] = [
            shown_count(float(v)) if kind == "count" else _ratio(v) for v in grid[measure]
        ]
    return pd.DataFrame(columns, index=grid.index)


def _ratio(value: Any) -> str:
    v = float(value)
    return f"{v:.2f}" if np.isfinite(v) else "–"


def square_table(grid: pd.DataFrame, measure: str, *, table_id: str) -> Any:
    """The squares behind a map as a table: most first by the drawn value (small counts sort
    as the 3 they are drawn as, so the order gives nothing away), then by grid reference."""
    text = square_figures(grid, measure)
    order = grid.assign(_ref=text["Square"]).sort_values(
        ["value", "_ref"], ascending=[False, True], kind="stable"
    )
    text = text.loc[order.index]
    rows = [
        html.Tr([html.Td(v, className="num" if i >= 2 else None) for i, v in enumerate(row)])
        for row in text.itertuples(index=False)
    ]
    return data_table(
        list(text.columns),
        rows,
        numeric_from=2,
        empty="No squares to show.",
        caption=f"{len(rows)} 5 km squares (grid reference of the south-west corner); "
        f"counts of 1–{SMALLEST_SHOWN - 1} are shown as a range.",
        id=table_id,
    )


def labelled_select(label: str, id: str, options: list[dict], value: Any) -> list[Any]:
    """A visible label linked to a native ``<select>`` (named by its label, keyboard and screen
    reader support from the browser itself)."""
    return [
        dbc.Label(label, html_for=id, className="filter-label"),
        dbc.Select(id=id, options=options, value=value),
    ]


def choice_group(legend: str, control: Any) -> html.Fieldset:
    """Radio buttons or checkboxes with a group name (``<fieldset>`` and ``<legend>``)."""
    return html.Fieldset(
        [html.Legend(legend, className="filter-label"), control], className="choice-group"
    )


def live_region(id: str) -> html.Div:
    """A polite live region: a screen reader reads out what a callback writes here (one short
    sentence saying what changed) without moving the focus."""
    return html.Div(
        id=id,
        role="status",
        className="visually-hidden",
        **attrs({"aria-live": "polite", "aria-atomic": "true"}),
    )


def graph_figure(
    graph: Any, *, name: str, table_id: str = "", table: Any = None, beside: str = ""
) -> html.Figure:
    """A graph with an accessible name and its text equivalent: a collapsible "Show as table"
    holding ``table`` (or the callback's output into ``table_id``) or, when the same figures
    are already in a table on the page, a reference to it (``beside``: its id)."""
    if beside:
        return html.Figure(
            [
                graph,
                html.Figcaption(
                    "The table beside it gives the same figures.",
                    className="visually-hidden",
                ),
            ],
            className="graph-figure",
            role="figure",
            **attrs({"aria-label": name, "aria-details": beside}),
        )
    return html.Figure(
        [
            graph,
            html.Details(
                [html.Summary("Show as table"), html.Div(table, id=table_id)],
                className="graph-table",
            ),
        ],
        className="graph-figure",
        role="figure",
        **attrs({"aria-label": name}),
    )
