"""District comparison: all districts side by side, against the target, with the trend."""

from __future__ import annotations

from typing import Any

import dash_bootstrap_components as dbc
import numpy as np
import pandas as pd
from dash import ALL, Input, Output, State, ctx, dcc, html, no_update

from app import figures
from app.callbacks import callback
from app.components import (
    ARIA_HIDDEN,
    data_table,
    error_alert,
    graph_figure,
    live_region,
    scroll_box,
)
from app.data.state import store
from app.data.store import Filters
from app.ids import Id
from app.style import BANDS, NO_DATA, band
from app.views import comparison_table, trend_table

BELOW_MARK = "▼"  # beside a % below the target: the meaning is in the mark, not only the colour
# Where a count shown as c sorts: it is 1-5 children (or hidden so a small count cannot be
# worked out), so "small, not zero" — after 0 and before 6 — never last as if unknown.
C_SORTS_AS = 3.0
COUNT_SORTS = {"children_sort", "not_known_sort", "gap_sort"}


def layout(**_kwargs: Any) -> html.Div:
    s = store()
    return html.Div(
        [
            html.H1("District comparison", className="page-title"),
            html.P(
                f"Every {s.authority.name} district side by side: placements within 20 and 10 "
                "miles of home, distances, and foster-care supply within 20 miles. Click a column "
                f"heading to sort. c: a number of children from 0 to 6, not shown; other counts may "
                "differ by up to 2 (the cell-key method, the same on every page and report). "
                f"{BELOW_MARK} marks a "
                f"share below the {s.authority.target_pct_within_20:g} % target.",
                className="lead-text",
            ),
            html.Div(id=Id.CP_ALERT),
            live_region(Id.CP_STATUS),
            dcc.Store(id=Id.CP_SORT, data={"col": None, "asc": True}),
            dbc.Row(
                [
                    dbc.Col(dcc.Loading(html.Div(id=Id.CP_TABLE)), xl=7, className="mb-3"),
                    dbc.Col(
                        graph_figure(
                            dcc.Graph(
                                id=Id.CP_BARS, config=figures.graph_config(displayModeBar=False)
                            ),
                            name="Bar chart: % placed within 20 miles of home, by home district, "
                            "against the target",
                            table_id=Id.CP_BARS_TABLE,
                        ),
                        xl=5,
                    ),
                ]
            ),
            dbc.Row(
                [
                    dbc.Col(
                        graph_figure(
                            dcc.Graph(
                                id=Id.CP_TREND, config=figures.graph_config(displayModeBar=False)
                            ),
                            name="Small line charts, one per district: % placed within 20 miles "
                            "at each quarter end over the last eight quarters, against the "
                            "authority total",
                            table_id=Id.CP_TREND_TABLE,
                        ),
                        xl=12,
                    ),
                    dbc.Col(
                        html.Div(
                            [
                                html.H2("Reports for the panel", className="section-title"),
                                html.P(
                                    "District comparison report with tables, map, trend and notes. Small "
                                    "numbers are suppressed (DfE convention).",
                                    className="muted",
                                ),
                                dbc.Button(
                                    "Excel (XLSX)",
                                    id=Id.CP_DL_XLSX,
                                    color="primary",
                                    className="me-2 mb-2",
                                ),
                                dbc.Button(
                                    "PDF", id=Id.CP_DL_PDF, color="primary", className="me-2 mb-2"
                                ),
                                dbc.Button(
                                    "HTML", id=Id.CP_DL_HTML, color="primary", className="mb-2"
                                ),
                                dcc.Loading(dcc.Download(id=Id.CP_DOWNLOAD)),
                            ],
                            className="card-panel",
                        ),
                        xl=12,
                    ),
                ]
            ),
        ]
    )


@callback(
    Output(Id.CP_SORT, "data"),
    Input({"type": "cp-sort", "col": ALL}, "n_clicks"),
    State(Id.CP_SORT, "data"),
    prevent_initial_call=True,
)
def sort_by(_clicks: list[int | None], current: dict | None) -> Any:
    """Clicking a column heading sorts by it; clicking again reverses the order."""
    trigger = ctx.triggered_id
    if not isinstance(trigger, dict) or not any(_clicks or []):
        return no_update
    col = trigger["col"]
    current = current or {}
    asc = not current.get("asc", True) if current.get("col") == col else col == "district_name"
    return {"col": col, "asc": asc}


@callback(
    Output(Id.CP_TABLE, "children"),
    Output(Id.CP_STATUS, "children"),
    Input(Id.DATASET, "data"),
    Input(Id.CP_SORT, "data"),
)
def update_table(dataset_id: str | None, sort: dict | None) -> tuple[Any, str]:
    """The district table in the chosen order, and the order in words for the live region."""
    try:
        s = store()
        table = comparison_table(s, dataset_id, Filters())
    except Exception as err:
        return error_alert(err), "Cannot show the table."
    sort = sort or {}
    names = {c[0]: c[1] for c in COLUMNS}
    status = (
        f"Table sorted by {names[sort['col']]}, "
        f"{'ascending' if sort.get('asc', True) else 'descending'}. {sort_note(sort['col'])}"
        if sort.get("col") in names
        else ""
    )
    grid = district_table(table, s.authority.target_pct_within_20, sort)
    note = sort_note(sort.get("col"))
    shown: list[Any] = [scroll_box(grid, label="District comparison table")]
    if note:
        shown.append(html.P(note, className="muted mt-1", id="cp-sort-note"))
    return shown, status


def sort_note(col: str | None) -> str:
    """How a sort treats the hidden cells, in words (shown under the table and read out)."""
    by = {c[0]: c[2] for c in COLUMNS}.get(col or "")
    if by in COUNT_SORTS:
        return (
            "c (1 to 5 children, or hidden to protect one) sorts as a small number: "
            "after 0, before 6."
        )
    if by is not None and by.startswith("pct"):
        return "Districts whose percentage is c (hidden) are listed last whichever the order."
    return ""


# After a sort the table is drawn anew and the focus would fall to the page: put it back on
# the heading's button the keyboard pressed (WCAG 2.4.3), once the new table is in the page.
callback.clientside(
    "comparison.keep_sort_focus",
    """function(_table, sort) {
        if (sort && sort.col) {
            const id = JSON.stringify({col: sort.col, type: "cp-sort"});
            window.requestAnimationFrame(() => {
                const active = document.activeElement;
                const button = document.getElementById(id);
                if (button && (!active || active === document.body)) { button.focus(); }
            });
        }
        return window.dash_clientside.no_update;
    }""",
    Output(Id.CP_TABLE, "className"),
    Input(Id.CP_TABLE, "children"),
    State(Id.CP_SORT, "data"),
    prevent_initial_call=True,
)


# display column, heading, numeric column it sorts by
COLUMNS = [
    ("district_name", "District", "district_name"),
    ("children_shown", "Children", "children_sort"),
    ("pct_within_20_text", "% within 20 mi", "pct_within_20"),
    ("pct_within_10_text", "% within 10 mi", "pct_within_10"),
    ("median_miles", "Median miles", "median_miles"),
    ("not_known_shown", "Not known", "not_known_sort"),
    ("carers", "Carer households", "carers"),
    ("vacant_places", "Vacant places", "vacant_places"),
    ("gap_shown", "Coverage gap", "gap_sort"),
]


def _cell(value: Any, col: str) -> str:
    if col in ("district_name", "children_shown", "not_known_shown", "gap_shown") or col.endswith(
        "_text"
    ):
        return str(value)
    if value is None or (isinstance(value, float) and not np.isfinite(value)):
        return "c" if col.startswith("pct") else "–"
    if col.startswith("pct"):
        return f"{value:.1f} %"
    if col == "median_miles":
        return f"{value:.1f}"
    return f"{int(value):,}"


def district_table(table: pd.DataFrame, target: float, sort: dict) -> dbc.Table:
    """Districts (sortable), then Outside and the authority total pinned at the bottom."""
    t = table.copy()
    t["children_sort"] = t["children"].where(~t["suppressed"], C_SORTS_AS)
    t["not_known_sort"] = pd.to_numeric(
        t["not_known_shown"].str.replace(",", ""), errors="coerce"
    ).fillna(C_SORTS_AS)
    if "gap_sort" in t:
        hidden_gap = t["gap_shown"].eq("c")
        t["gap_sort"] = t["gap_sort"].where(~hidden_gap, C_SORTS_AS)
    cols = [c for c in COLUMNS if c[0] in t.columns]
    body, pinned = (
        t[~t["is_total"] & (t["district_code"] != "OUTSIDE")],
        t[t["is_total"] | (t["district_code"] == "OUTSIDE")],
    )
    key = sort.get("col")
    if key in {c[0] for c in cols}:
        by = dict((c[0], c[2]) for c in cols)[key]
        body = body.sort_values(
            by, ascending=bool(sort.get("asc", True)), na_position="last", kind="stable"
        )
    head = []
    for col, name, _ in cols:
        arrow, order = "", dict[str, Any]()
        if col == key:
            asc = sort.get("asc", True)
            arrow = " ▲" if asc else " ▼"
            order = {"aria-sort": "ascending" if asc else "descending"}
        head.append(
            html.Th(
                html.Button(
                    [name, html.Span(arrow, **ARIA_HIDDEN)],
                    id={"type": "cp-sort", "col": col},
                    className="sort-button",
                    title=f"Sort by {name}",
                ),
                className="num" if col != "district_name" else None,
                scope="col",
                **order,
            )
        )
    rows = []
    for r in pd.concat([body, pinned]).itertuples(index=False):
        cells = []
        for col, _, _ in cols:
            v = getattr(r, col)
            cls = "num" if col != "district_name" else None
            pct = float(r.pct_within_20)  # type: ignore[arg-type]
            text: Any = _cell(v, col)
            if col == "pct_within_20_text" and np.isfinite(pct) and pct < target:
                cls = "num below-target"
                text = [
                    text,
                    html.Span(" " + BELOW_MARK, **ARIA_HIDDEN),
                    html.Span(" (below target)", className="visually-hidden"),
                ]
            cells.append(html.Td(text, className=cls))
        rows.append(html.Tr(cells, className="total-row" if r.is_total else None))
    return dbc.Table(
        [html.Thead(html.Tr(head)), html.Tbody(rows)],
        size="sm",
        hover=True,
        className="district-list comparison-table",
        id="cp-grid",
    )


@callback(
    Output(Id.CP_BARS, "figure"),
    Output(Id.CP_TREND, "figure"),
    Output(Id.CP_ALERT, "children"),
    Output(Id.CP_BARS_TABLE, "children"),
    Output(Id.CP_TREND_TABLE, "children"),
    Input(Id.DATASET, "data"),
)
def update_comparison(dataset_id: str | None) -> tuple[Any, ...]:
    try:
        s = store()
        table = comparison_table(s, dataset_id, Filters())
        trend = trend_table(s, dataset_id)
    except Exception as err:
        empty = figures._empty("No data")
        return empty, empty, error_alert(err), None, None
    districts = table[table["district_code"].isin(s.authority.district_codes)]
    bars = figures.district_bars(
        districts,
        value_col="pct_shown",
        target=s.authority.target_pct_within_20,
        title="% placed within 20 miles of home, by home district",
        value_label="% within 20 miles",
    )
    total_name = f"{s.authority.name} total"
    trend_fig = figures.trend_panels(
        trend,
        title=f"% within 20 miles over the last eight quarters: each district against the "
        f"{total_name} (grey)",
        target=s.authority.target_pct_within_20,
        total_name=total_name,
    )
    target = s.authority.target_pct_within_20
    return bars, trend_fig, None, bars_table(districts, target), trend_rows(trend)


def bars_table(districts: pd.DataFrame, target: float) -> Any:
    """The bar chart's figures: district, % within 20 miles (c when suppressed) and the target
    band in words, in the chart's order (highest first)."""
    words = {key: label for key, _colour, label in [*BANDS, NO_DATA]}
    t = districts.sort_values("pct_shown", ascending=False, na_position="last")
    rows = [
        html.Tr(
            [
                html.Td(r["district_name"]),
                html.Td(_cell(r["pct_shown"], "pct"), className="num"),
                html.Td(words[band(r["pct_shown"], target)]),
            ]
        )
        for r in t.to_dict(orient="records")
    ]
    return data_table(
        ["District", "% within 20 mi", "Target band"],
        rows,
        caption=f"% placed within 20 miles of home by home district; target {target:g} %.",
        id="cp-bars-data",
    )


def trend_rows(trend: pd.DataFrame) -> Any:
    """The trend chart's figures: one row per district, one column per quarter end."""
    if trend.empty:
        return html.P("Not enough episode history for a trend.", className="muted")
    wide = trend.pivot_table(
        index="district_name", columns="quarter_end", values="pct", sort=False, dropna=False
    )
    quarters = list(wide.columns)
    rows = [
        html.Tr(
            [html.Th(name, scope="row")]
            + [html.Td(_cell(wide.loc[name, q], "pct"), className="num") for q in quarters]
        )
        for name in wide.index
    ]
    return data_table(
        ["District"] + [f"{pd.Timestamp(q):%b %Y}" for q in quarters],
        rows,
        caption="% placed within 20 miles at each quarter end (c: suppressed).",
        id="cp-trend-data",
    )


@callback(
    Output(Id.CP_DOWNLOAD, "data"),
    Output(Id.CP_ALERT, "children", allow_duplicate=True),
    Input(Id.CP_DL_XLSX, "n_clicks"),
    Input(Id.CP_DL_PDF, "n_clicks"),
    Input(Id.CP_DL_HTML, "n_clicks"),
    State(Id.DATASET, "data"),
    prevent_initial_call=True,
)
def download_report(
    _x: int | None, _p: int | None, _h: int | None, dataset_id: str | None
) -> tuple[Any, Any]:
    fmt = {Id.CP_DL_XLSX: "xlsx", Id.CP_DL_PDF: "pdf", Id.CP_DL_HTML: "html"}.get(ctx.triggered_id)
    if fmt is None or not (_x or _p or _h):  # no button clicked (the page being drawn)
        return no_update, no_update
    try:
        from app.reports.view import render_report

        data, filename = render_report(store(), dataset_id, fmt=fmt)
    except Exception as err:
        return no_update, error_alert(err)
    return dcc.send_bytes(data, filename), None
