"""Small reusable layout pieces (KPI cards, alerts, banners, labelled controls, figures with a
table equivalent, live regions)."""

from __future__ import annotations

import logging
from typing import Any

import dash_bootstrap_components as dbc
from dash import html

from geo.disclosure import SUPPRESSED, is_small
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


def fmt_children(value: Any, *, exact: bool, cell: tuple[Any, ...] | None = None) -> str:
    """A count of children for display: exact for ``exact`` (analysts); otherwise by the
    cell-key method under the definition ``cell`` (:mod:`app.protection`: c for 0-6, other
    counts within 2), or, without a ``cell``, 1-5 as c."""
    try:
        n = int(value)
    except (TypeError, ValueError):
        return "–"
    if exact:
        return f"{n:,}"
    if cell is not None:
        from app.protection import protected_text

        return protected_text(n, cell)
    return SUPPRESSED if is_small(n) else f"{n:,}"


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
