"""District comparison: all districts side by side, against the target, with the trend."""

from __future__ import annotations

import logging
from typing import Any

import dash_bootstrap_components as dbc
import numpy as np
from dash import Input, Output, State, callback, ctx, dash_table, dcc, html, no_update

from app import figures
from app.components import error_alert
from app.datasets import Filters
from app.ids import Id
from app.state import store
from app.views import comparison_table, trend_table
from geo.errors import PlacemapError

log = logging.getLogger("placemap")


def layout(**_kwargs: Any) -> html.Div:
    s = store()
    return html.Div(
        [
            html.H1("District comparison", className="page-title"),
            html.P(
                f"Every {s.authority.name} district side by side: placements within 20 and 10 "
                "miles of home, distances, and foster-care supply within 20 miles. Click a column "
                "heading to sort. Counts of 1-5 children are shown as c.",
                className="lead-text",
            ),
            html.Div(id=Id.CP_ALERT),
            dbc.Row(
                [
                    dbc.Col(dcc.Loading(html.Div(id=Id.CP_TABLE)), xl=7, className="mb-3"),
                    dbc.Col(dcc.Graph(id=Id.CP_BARS, config=figures.graph_config()), xl=5),
                ]
            ),
            dbc.Row(
                [
                    dbc.Col(dcc.Graph(id=Id.CP_TREND, config=figures.graph_config()), xl=8),
                    dbc.Col(
                        html.Div(
                            [
                                html.Div("Reports for the panel", className="section-title"),
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
                        xl=4,
                    ),
                ]
            ),
        ]
    )


COLUMNS = [
    ("district_name", "District", "text"),
    ("children_shown", "Children", "text"),
    ("pct_within_20", "% within 20 mi", "numeric"),
    ("pct_within_10", "% within 10 mi", "numeric"),
    ("median_miles", "Median miles", "numeric"),
    ("not_known_shown", "Not known", "text"),
    ("carers", "Carer households", "numeric"),
    ("vacant_places", "Vacant places", "numeric"),
    ("gap", "Coverage gap", "numeric"),
]


@callback(
    Output(Id.CP_TABLE, "children"),
    Output(Id.CP_BARS, "figure"),
    Output(Id.CP_TREND, "figure"),
    Output(Id.CP_ALERT, "children"),
    Input(Id.DATASET, "data"),
)
def update_comparison(dataset_id: str | None) -> tuple[Any, Any, Any, Any]:
    try:
        s = store()
        table = comparison_table(s, dataset_id, Filters())
        trend = trend_table(s, dataset_id)
    except Exception as err:
        if not isinstance(err, PlacemapError):
            log.exception("comparison failed")
        empty = figures._empty("No data")
        return None, empty, empty, error_alert(err)
    cols = [c for c in COLUMNS if c[0] in table.columns]
    records = table[[c for c, _, _ in cols]].replace({np.nan: None}).to_dict("records")
    grid = dash_table.DataTable(
        id="cp-grid",
        data=records,
        columns=[{"id": c, "name": n, "type": t} for c, n, t in cols],
        sort_action="native",
        style_as_list_view=True,
        style_cell={"fontFamily": "system-ui, sans-serif", "fontSize": 14, "padding": "6px"},
        style_header={"fontWeight": "700", "backgroundColor": "#eef1f5"},
        style_data_conditional=[
            {"if": {"filter_query": "{is_total} = true"}, "fontWeight": "700"},
            {
                "if": {
                    "filter_query": f"{{pct_within_20}} < {s.authority.target_pct_within_20}",
                    "column_id": "pct_within_20",
                },
                "color": "#b35806",
                "fontWeight": "600",
            },
        ],
    )
    districts = table[table["district_code"].isin(s.authority.district_codes)]
    bars = figures.district_bars(
        districts,
        value_col="pct_shown",
        target=s.authority.target_pct_within_20,
        title="% placed within 20 miles of home, by home district",
        value_label="% within 20 miles",
    )
    trend_fig = figures.trend_lines(
        trend,
        title="Trend over the last eight quarters",
        target=s.authority.target_pct_within_20,
        highlight=f"{s.authority.name} total",
    )
    return grid, bars, trend_fig, None


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
    if fmt is None:
        return no_update, no_update
    try:
        from app.reports_view import render_report

        data, filename = render_report(store(), dataset_id, fmt=fmt)
    except Exception as err:
        if not isinstance(err, PlacemapError):
            log.exception("report failed")
        return no_update, error_alert(err)
    return dcc.send_bytes(data, filename), None
