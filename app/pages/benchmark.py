"""Benchmark: the authority against its DfE statistical neighbours, region and England, over
every published year, and its own data on the DfE definitions beside the published figure."""

from __future__ import annotations

from typing import Any

import dash_bootstrap_components as dbc
import pandas as pd
import plotly.graph_objects as go
from dash import Input, Output, dcc, html

from app import benchmark_figures as bf
from app import figures
from app.benchmark_view import authority_benchmark, own_comparison, packaged_tables
from app.callbacks import callback
from app.components import data_table, error_alert, graph_figure
from app.data.state import store
from app.ids import Id
from geo.measures import MEASURES

AREA_LABELS = {
    "authority": "Authority",
    "statistical_neighbour": "Statistical neighbour",
    "statistical_neighbours_median": "Neighbours' median",
    "region": "Region",
    "england": "England",
    "own_data": "Own data (DfE definitions)",
}
ATTRIBUTION = (
    "Source: Department for Education, Children looked after in England including adoptions "
    "(years ending 31 March). Contains public sector information licensed under the Open "
    "Government Licence v3.0. Statistical neighbours: the DfE's groupings (10 nearest). "
    "Symbols as published: c suppressed, z not applicable, x not available, k less than 0.5."
)


def _control(label: str, control: Any) -> dbc.Col:
    return dbc.Col([dbc.Label(label, html_for=control.id, className="filter-label"), control],
                   xs=12, md=6, xl=4, className="mb-2")  # fmt: skip


def layout(**_kwargs: Any) -> html.Div:
    s = store()
    try:
        ref, _ = authority_benchmark(s.authority.code)
        years = packaged_tables().years
    except Exception as err:
        return html.Div([html.H1("How do we compare?", className="page-title"), error_alert(err)])
    return html.Div(
        [
            html.H1("How do we compare?", className="page-title"),
            html.P(
                f"{ref.name} beside its 10 DfE statistical neighbours (authorities most like it), "
                f"their median, {ref.region_name or 'its region'} and England, on the DfE's "
                "published figures for children looked after at 31 March. The distance figures "
                "count every child looked after, UASC included, with not-known distances in the "
                "denominator, so they differ from placemap's headline measure.",
                className="lead-text",
            ),
            html.Div(id=Id.BM_ALERT),
            dbc.Row(
                [
                    _control(
                        "Measure",
                        dbc.Select(  # native <select>: Dash 4's dropdown fails aria-hidden-focus
                            id=Id.BM_MEASURE,
                            options=[{"label": m.label, "value": m.name} for m in MEASURES],
                            value="pct_within_20_miles",
                        ),
                    ),
                    _control(
                        "Year ending 31 March",
                        dbc.Select(
                            id=Id.BM_YEAR,
                            options=[{"label": str(y), "value": str(y)} for y in reversed(years)],
                            value=str(years[-1]),
                        ),
                    ),
                ]
            ),
            html.Section(
                [
                    html.H2("Against statistical neighbours", className="section-title"),
                    graph_figure(
                        dcc.Graph(id=Id.BM_BARS, config=figures.graph_config(displayModeBar=False)),
                        name="Bar chart: the authority against its statistical neighbours",
                        beside=Id.BM_BARS_TABLE,
                    ),
                    html.Div(id=Id.BM_BARS_TABLE),
                ],
                className="card-panel mb-3",
            ),
            html.Section(
                [
                    html.H2("Over time", className="section-title"),
                    graph_figure(
                        dcc.Graph(
                            id=Id.BM_TREND, config=figures.graph_config(displayModeBar=False)
                        ),
                        name="Line chart: the measure over the published years",
                        beside=Id.BM_TREND_TABLE,
                    ),
                    html.Div(id=Id.BM_TREND_TABLE),
                ],
                className="card-panel mb-3",
            ),
            html.Section(
                [
                    html.H2("Your own data on the DfE definitions", className="section-title"),
                    dcc.Loading(html.Div(id=Id.BM_OWN)),
                ],
                className="card-panel mb-3",
            ),
            html.P(ATTRIBUTION, className="muted"),
        ]
    )


@callback(
    Output(Id.BM_BARS, "figure"),
    Output(Id.BM_BARS_TABLE, "children"),
    Output(Id.BM_TREND, "figure"),
    Output(Id.BM_TREND_TABLE, "children"),
    Output(Id.BM_ALERT, "children"),
    Input(Id.BM_MEASURE, "value"),
    Input(Id.BM_YEAR, "value"),
)
def update_benchmark(measure: str | None, year: int | None) -> Any:
    """The ranked bars and the trend for one measure, each with its table equivalent."""
    empty = go.Figure()
    try:
        ref, bench = authority_benchmark(store().authority.code)
        measure = measure or "pct_within_20_miles"
        year = int(year or bench["year"].max())
        bars = bf.neighbour_bars(bench, measure=measure, year=year)
        trend = bf.trend_lines(bench, measure=measure, authority=ref.name)
    except Exception as err:
        return empty, None, empty, None, error_alert(err)
    return (
        bars,
        neighbour_table(bf.neighbour_rows(bench, measure=measure, year=year), year),
        trend,
        trend_table(bf.trend_rows(bench, measure=measure), ref.name),
        None,
    )


def neighbour_table(rows: pd.DataFrame, year: int) -> Any:
    body = []
    for area_type, name, text in zip(
        rows["area_type"], rows["area_name"], rows["text"], strict=True
    ):
        mine = area_type == "authority"
        body.append(
            html.Tr(
                [
                    html.Td(AREA_LABELS.get(str(area_type), str(area_type))),
                    html.Td(html.Strong(str(name)) if mine else str(name)),
                    html.Td(str(text), className="num"),
                ],
                className="total-row" if mine else None,
            )
        )
    return html.Div(
        [
            html.P("The chart above as a table:", className="muted mb-1"),
            data_table(["", "Area", f"Value, {year}"], body, numeric_from=2),
        ]
    )


def trend_table(rows: pd.DataFrame, authority: str) -> Any:
    cols = [c for c in rows.columns if c != "year"]
    heads = {**AREA_LABELS, "authority": authority}
    body = [
        html.Tr(
            [html.Td(str(r["year"]))]
            + [
                html.Td(bf.shown(r[c]) if r[c] != "" else "–", className="num") for c in cols
            ]  # fmt: skip
        )
        for _, r in rows.iterrows()
    ]
    return html.Div(
        [
            html.P("The chart above as a table:", className="muted mb-1"),
            data_table(["Year ending 31 March"] + [heads.get(c, c) for c in cols], body),
        ]
    )


@callback(
    Output(Id.BM_OWN, "children"),
    Input(Id.DATASET, "data"),
)
def update_own(dataset_id: str | None) -> Any:
    """The reconciliation: own data on the DfE definitions, the published figure, the headline."""
    try:
        s = store()
        ds = s.get(dataset_id)
        ref, _ = authority_benchmark(s.authority.code)
        own = ds.cached(
            ("benchmark_own", ref.code),
            lambda: own_comparison(ds.data, s.authority, packaged_tables(), ref),
        )
    except Exception as err:
        return error_alert(err)
    rec = own.reconciliation
    body = [
        html.Tr(
            [
                html.Td(r.label),
                html.Td(r.own_dfe_definition, className="num"),
                html.Td(bf.shown(r.published_value), className="num"),
                html.Td(
                    "–" if r.placemap_headline in ("", None) else str(r.placemap_headline),
                    className="num",
                ),  # fmt: skip
                html.Td(
                    f"{r.why_own_differs_from_published} {r.why_headline_differs}",
                    className="small",
                ),  # fmt: skip
            ]
        )
        for r in rec.itertuples(index=False)
    ]
    heads = [
        "Measure",
        f"Own data, 31 March {own.year}",
        f"DfE published, {own.published_year}",
        "placemap headline",
        "Why they differ",
    ]
    return html.Div(
        [html.P(n, className="muted") for n in own.notes()]
        + [data_table(heads, body, numeric_from=1)]
    )
